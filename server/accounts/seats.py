"""Seats: how many members (of every status, pending invitations included) an
organisation may have; set by a provider or reseller (organisations/service.py)."""

from __future__ import annotations

from server.core.errors import DomainError, ErrorCode
from server.tenancy.models import Organisation


async def claim_seat(organisation_id: int) -> None:
    """Call inside the transaction that adds a membership: refuse it when the
    organisation is full (members of every status and pending invitations
    count). The row lock queues concurrent claims on PostgreSQL; SQLite runs
    one transaction at a time."""
    organisation = await Organisation.select_for_update().get(id=organisation_id)
    if organisation.seat_limit is None:
        return
    if organisation.member_count >= organisation.seat_limit:
        raise DomainError(
            ErrorCode.SEAT_LIMIT,
            f"All {organisation.seat_limit} seats of this organisation are taken.",
            "organisationId",
        )
