"""DataLoaders of the accounts domain (see server/core/loaders.py)."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader
from tortoise.functions import Count

from server.accounts.models import Membership


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
