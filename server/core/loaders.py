"""Per-request DataLoaders: nested fields load in one query per level, and an
object fetched by a permission check is not fetched again by the resolver."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from server.accounts.models import Membership, User
from server.audit.models import AuditEvent
from server.invitations.models import Invitation
from server.organisations.models import Organisation


def _by_id(model: type[Model]) -> DataLoader[int, Any]:
    async def load(ids: Sequence[int]) -> list[Any]:
        rows = {row.pk: row for row in await model.filter(id__in=list(ids))}
        return [rows.get(i) for i in ids]

    return DataLoader(load_fn=load)


async def _memberships_by_user(user_ids: Sequence[int]) -> list[list[Membership]]:
    grouped: dict[int, list[Membership]] = defaultdict(list)
    rows = (
        Membership.filter(user_id__in=list(user_ids)).select_related("organisation").order_by("id")
    )
    for membership in await rows:
        grouped[membership.user_id].append(membership)
    return [grouped[i] for i in user_ids]


@dataclass
class Loaders:
    organisation: DataLoader[int, Organisation | None] = field(
        default_factory=lambda: _by_id(Organisation)
    )
    user: DataLoader[int, User | None] = field(default_factory=lambda: _by_id(User))
    membership: DataLoader[int, Membership | None] = field(
        default_factory=lambda: _by_id(Membership)
    )
    invitation: DataLoader[int, Invitation | None] = field(
        default_factory=lambda: _by_id(Invitation)
    )
    audit_event: DataLoader[int, AuditEvent | None] = field(
        default_factory=lambda: _by_id(AuditEvent)
    )
    memberships_of_user: DataLoader[int, list[Membership]] = field(
        default_factory=lambda: DataLoader(load_fn=_memberships_by_user)
    )
