"""DataLoaders of the audit domain (see server/core/loaders.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from strawberry.dataloader import DataLoader
from tortoise.functions import Max

from server.audit.models import AuditEvent


async def _last_activity(organisation_ids: Sequence[int]) -> list[datetime | None]:
    # The newest event per organisation by id, read from the (organisation_id, id)
    # index alone, then those events' times: two statements for any number of them.
    newest = (
        await AuditEvent.filter(organisation_id__in=list(organisation_ids))
        .annotate(newest=Max("id"))
        .group_by("organisation_id")
        .values("organisation_id", "newest")
    )
    if not newest:
        return [None] * len(organisation_ids)
    times = dict(
        await AuditEvent.filter(id__in=[row["newest"] for row in newest]).values_list(
            "organisation_id", "created_at"
        )
    )
    return [times.get(i) for i in organisation_ids]


def last_activity() -> DataLoader[int, datetime | None]:
    """When the newest event of each organisation's audit trail happened (a sign-in,
    a failed attempt, a change), or None."""
    return DataLoader(load_fn=_last_activity)
