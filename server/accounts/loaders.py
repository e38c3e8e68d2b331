"""DataLoaders of the accounts domain (see server/core/loaders.py)."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader
from tortoise.functions import Count

from server.accounts.models import EmailChange, Membership
from server.core import clock


async def _seats_used(organisation_ids: Sequence[int]) -> list[int]:
    rows = (
        await Membership.filter(organisation_id__in=list(organisation_ids))
        .annotate(used=Count("id"))
        .group_by("organisation_id")
        .values("organisation_id", "used")
    )
    used = {row["organisation_id"]: row["used"] for row in rows}
    return [used.get(i, 0) for i in organisation_ids]


def seats_used() -> DataLoader[int, int]:
    """Members of every status (pending invitations included) per organisation."""
    return DataLoader(load_fn=_seats_used)


async def _pending_emails(user_ids: Sequence[int]) -> list[str | None]:
    rows = await EmailChange.filter(
        user_id__in=list(user_ids), used_at=None, cancelled_at=None, expires_at__gt=clock.now()
    ).order_by("id")
    pending = {row.user_id: row.new_email for row in rows}  # the newest wins
    return [pending.get(i) for i in user_ids]


def pending_emails() -> DataLoader[int, str | None]:
    """Each person's sign-in address waiting for confirmation, if any."""
    return DataLoader(load_fn=_pending_emails)
