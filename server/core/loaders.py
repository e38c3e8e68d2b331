"""Per-request DataLoaders: nested fields load in one query per level, and an
object fetched by a permission check is not fetched again by the resolver."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.functions import Count
from tortoise.models import Model

from server.accounts.models import Membership, User
from server.api_tokens.models import ApiToken
from server.audit.models import AuditEvent
from server.contacts.models import Contact
from server.core.prepared import PreparedSelect
from server.invitations.models import Invitation
from server.organisations.models import Organisation
from server.telephony.loaders import rules_by_extension
from server.telephony.models import CallRecord, Extension, ForwardingRule
from server.tickets.loaders import comments_by_ticket
from server.tickets.models import Ticket, TicketComment
from server.webhooks.models import WebhookDelivery, WebhookEndpoint

# Batches by id are the most frequent queries: their SQL is built once per model
# and batch size (server/core/prepared.py).
_BY_IDS: dict[type[Model], PreparedSelect[Any]] = {}


def _by_id(model: type[Model]) -> DataLoader[int, Any]:
    prepared = _BY_IDS.get(model)
    if prepared is None:
        prepared = _BY_IDS[model] = PreparedSelect(model, lambda ids: model.filter(id__in=ids))

    async def load(ids: Sequence[int]) -> list[Any]:
        keys = list(ids)
        if all(type(i) is int for i in keys):
            found = await prepared.fetch(keys)
        else:
            found = await model.filter(id__in=keys)
        rows = {row.pk: row for row in found}
        return [rows.get(i) for i in ids]

    return DataLoader(load_fn=load)


def now_or_later(loader: DataLoader[Any, Any], key: Any) -> Any:
    """The value when the loader already has it, else `loader.load(key)`: a
    resolver returning it completes without an awaitable (for which graphql-core
    would gather a task per row) when the parent resolver loaded the batch first."""
    future = loader.cache_map.get(key) if loader.cache else None
    if (
        future is not None
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return future.result()
    return loader.load(key)


def _created_on_first_use(cls: type) -> type:
    """Turn a dataclass's `default_factory` fields into attributes made on first
    access: a request uses one or two loaders, and making all of them up front
    cost more than resolving a small query (BENCHMARKS.md)."""

    class OnFirstUse:
        def __init__(self, name: str, factory: Any) -> None:
            self.name, self.factory = name, factory

        def __get__(self, instance: Any, owner: type) -> Any:
            if instance is None:
                return self
            value = instance.__dict__[self.name] = self.factory()
            return value

    for item in fields(cls):
        setattr(cls, item.name, OnFirstUse(item.name, item.default_factory))

    def __init__(self: Any) -> None:  # noqa: N807
        pass

    cls.__init__ = __init__  # type: ignore[misc]
    return cls


async def _seats_used(organisation_ids: Sequence[int]) -> list[int]:
    rows = (
        await Membership.filter(organisation_id__in=list(organisation_ids))
        .annotate(used=Count("id"))
        .group_by("organisation_id")
        .values("organisation_id", "used")
    )
    used = {row["organisation_id"]: row["used"] for row in rows}
    return [used.get(i, 0) for i in organisation_ids]


async def _memberships_by_user(user_ids: Sequence[int]) -> list[list[Membership]]:
    grouped: dict[int, list[Membership]] = defaultdict(list)
    rows = (
        Membership.filter(user_id__in=list(user_ids)).select_related("organisation").order_by("id")
    )
    for membership in await rows:
        grouped[membership.user_id].append(membership)
    return [grouped[i] for i in user_ids]


@_created_on_first_use
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
    webhook_endpoint: DataLoader[int, WebhookEndpoint | None] = field(
        default_factory=lambda: _by_id(WebhookEndpoint)
    )
    webhook_delivery: DataLoader[int, WebhookDelivery | None] = field(
        default_factory=lambda: _by_id(WebhookDelivery)
    )
    api_token: DataLoader[int, ApiToken | None] = field(default_factory=lambda: _by_id(ApiToken))
    audit_event: DataLoader[int, AuditEvent | None] = field(
        default_factory=lambda: _by_id(AuditEvent)
    )
    seats_used: DataLoader[int, int] = field(
        default_factory=lambda: DataLoader(load_fn=_seats_used)
    )
    memberships_of_user: DataLoader[int, list[Membership]] = field(
        default_factory=lambda: DataLoader(load_fn=_memberships_by_user)
    )
    contact: DataLoader[int, Contact | None] = field(default_factory=lambda: _by_id(Contact))
    ticket: DataLoader[int, Ticket | None] = field(default_factory=lambda: _by_id(Ticket))
    ticket_comment: DataLoader[int, TicketComment | None] = field(
        default_factory=lambda: _by_id(TicketComment)
    )
    comments_of_ticket: DataLoader[int, list[TicketComment]] = field(
        default_factory=comments_by_ticket
    )
    extension: DataLoader[int, Extension | None] = field(default_factory=lambda: _by_id(Extension))
    rules_of_extension: DataLoader[int, list[ForwardingRule]] = field(
        default_factory=rules_by_extension
    )
    call_record: DataLoader[int, CallRecord | None] = field(
        default_factory=lambda: _by_id(CallRecord)
    )
