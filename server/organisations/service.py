"""The organisation tree: creating customers, settings, suspension."""

from __future__ import annotations

from enum import Enum

import strawberry
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.models import Membership
from server.audit import service as audit
from server.auth.models import Session
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode
from server.core.pagination import SortKey
from server.core.permissions import Permission
from server.core.search import (
    ORGANISATION,
    Sql,
    fold_sql,
    folded_phrase,
    ranked_by,
    search_words,
    searched,
)
from server.core.subtree import subtree
from server.core.validation import clean_text
from server.core.visibility import rows_visible_to
from server.tenancy.models import Organisation, OrganisationKind, OrganisationStatus

# Who may create which kind of organisation under which parent.
CHILD_KINDS = {
    OrganisationKind.PROVIDER: {OrganisationKind.RESELLER, OrganisationKind.CUSTOMER},
    OrganisationKind.RESELLER: {OrganisationKind.CUSTOMER},
    OrganisationKind.CUSTOMER: set(),
}


def administered_by(
    actor: Actor,
    *,
    search: str | None = None,
    kind: OrganisationKind | None = None,
    status: OrganisationStatus | None = None,
) -> QuerySet[Organisation]:
    """Every organisation the actor may view, descendants of delegating ones included."""
    organisations = Organisation.filter(actor.organisations_with(Permission.ORGANISATION_VIEW))
    words = search_words(search)
    if words:
        name = fold_sql('"ranked"."name"')
        organisations = searched(
            organisations,
            words,
            lambda word: ORGANISATION.contains('"organisation"."id"', word),
            ranked_by("organisation", '"organisation"."id"', [name], [name], folded_phrase(words)),
        )
    if kind is not None:
        organisations = organisations.filter(kind=kind)
    if status is not None:
        organisations = organisations.filter(status=status)
    return organisations


@strawberry.enum(description="The order of a list of customers.")
class CustomerOrder(Enum):
    NAME = strawberry.enum_value("NAME", description="By name, A to Z.")
    PEOPLE = strawberry.enum_value("PEOPLE", description="Most people (memberCount) first.")
    LAST_ACTIVITY = strawberry.enum_value(
        "LAST_ACTIVITY", description="Most recent activity (lastActivityAt) first; none last."
    )
    NEWEST = strawberry.enum_value("NEWEST", description="Created last first.")


# The newest audit event of the organisation (0: none), from the (organisation_id, id) index.
_LAST_EVENT = "last_event"
_LAST_EVENT_SQL = Sql(
    'COALESCE((SELECT MAX("event"."id") FROM "audit_event" AS "event" '
    'WHERE "event"."organisation_id" = "organisation"."id"), 0)'
)


def _name_beyond(position: str, row_id: int) -> Q:
    return Q(name__gt=position) | Q(name=position, id__gt=row_id)


def _people_beyond(position: int, row_id: int) -> Q:
    return Q(member_count__lt=position) | Q(member_count=position, id__lt=row_id)


def _activity_beyond(position: int, row_id: int) -> Q:
    return Q(last_event__lt=position) | Q(last_event=position, id__lt=row_id)  # _LAST_EVENT


def _newest_beyond(position: int, row_id: int) -> Q:
    return Q(id__lt=row_id)


# Keyset orders of a customers list (core/pagination.py).
_CUSTOMER_ORDERS: dict[CustomerOrder, SortKey[Organisation]] = {
    CustomerOrder.NAME: SortKey(
        name="name",
        order_by=("name", "id"),
        position=lambda row: row.name,
        beyond=_name_beyond,
        textual=True,
    ),
    CustomerOrder.PEOPLE: SortKey(
        name="people",
        order_by=("-member_count", "-id"),
        position=lambda row: row.member_count,
        beyond=_people_beyond,
    ),
    CustomerOrder.LAST_ACTIVITY: SortKey(
        name="activity",
        order_by=(f"-{_LAST_EVENT}", "-id"),
        position=lambda row: int(getattr(row, _LAST_EVENT)),
        beyond=_activity_beyond,
        annotations={_LAST_EVENT: _LAST_EVENT_SQL},
    ),
    CustomerOrder.NEWEST: SortKey(
        name="newest",
        order_by=("-id",),
        position=lambda row: 0,
        beyond=_newest_beyond,
    ),
}


def customers_of(
    actor: Actor,
    parent: Organisation,
    *,
    search: str | None = None,
    order: CustomerOrder | None = None,
) -> tuple[QuerySet[Organisation], SortKey[Organisation] | None]:
    """The organisations directly below `parent` that the actor may view, with the
    words of `search` in their name, and how to page them: in `order`, else by
    relevance for a search, else in the order they were created."""
    children = Organisation.filter(rows_visible_to(actor, Organisation), parent_id=parent.id)
    words = search_words(search)
    if words:
        name = fold_sql('"ranked"."name"')
        rank = (
            ranked_by("organisation", '"organisation"."id"', [name], [name], folded_phrase(words))
            if order is None
            else None
        )
        children = searched(
            children, words, lambda word: ORGANISATION.contains('"organisation"."id"', word), rank
        )
    return children, None if order is None else _CUSTOMER_ORDERS[order]


async def create_root(
    name: str, kind: OrganisationKind = OrganisationKind.PROVIDER
) -> Organisation:
    """The provider at the root of the tree (command line only)."""
    async with in_transaction():
        organisation = await Organisation.create(
            name=clean_text(name, field="name", required=True), kind=kind
        )
        organisation.path = f"/{organisation.id}/"
        await organisation.save(update_fields=["path"])
    return organisation


async def create_child(
    *,
    actor: Actor | None,
    parent: Organisation,
    name: str,
    kind: OrganisationKind,
    require_two_factor: bool = False,
) -> Organisation:
    name = clean_text(name, field="name", required=True)
    if kind not in CHILD_KINDS[parent.kind]:
        raise DomainError(
            ErrorCode.NOT_RESELLER,
            f"A {parent.kind.value.lower()} cannot have {kind.value.lower()} organisations below it.",
            "kind",
        )
    async with in_transaction():
        organisation = await Organisation.create(
            parent=parent, kind=kind, name=name, require_two_factor=require_two_factor
        )
        organisation.path = f"{parent.path}{organisation.id}/"
        await organisation.save(update_fields=["path"])
        if actor is not None:
            await audit.record(
                "organisation.created",
                actor=actor,
                organisation_id=organisation.id,
                target=organisation,
                details={"parent": audit.ref(parent), "kind": kind.value},
            )
    return organisation


async def update(
    *,
    actor: Actor,
    organisation: Organisation,
    name: str | None = None,
    settings: dict[str, bool] | None = None,
) -> Organisation:
    """Rename, or change the yes/no settings given in `settings`."""
    changes: dict[str, object] = dict(settings or {})
    if name is not None:
        changes["name"] = clean_text(name, field="name", required=True)
    changes = {k: v for k, v in changes.items() if getattr(organisation, k) != v}
    if not changes:
        return organisation
    before = {k: getattr(organisation, k) for k in changes}
    async with in_transaction():
        for key, value in changes.items():
            setattr(organisation, key, value)
        await organisation.save(update_fields=[*changes, "updated_at"])
        await audit.record(
            "organisation.updated",
            actor=actor,
            organisation_id=organisation.id,
            target=organisation,
            details={"before": before, "after": changes},
        )
    return organisation


MAX_SEATS = 1_000_000


async def set_seat_limit(
    *, actor: Actor, organisation: Organisation, limit: int | None
) -> Organisation:
    _check_from_above(actor, organisation)
    if limit is not None and not 0 <= limit <= MAX_SEATS:
        raise DomainError(ErrorCode.INVALID, f"Use 0 to {MAX_SEATS}, or no limit.", "limit")
    before = organisation.seat_limit
    async with in_transaction():
        organisation.seat_limit = limit
        await organisation.save(update_fields=["seat_limit", "updated_at"])
        await audit.record(
            "organisation.seat_limit_changed",
            actor=actor,
            organisation_id=organisation.id,
            target=organisation,
            details={"before": {"seatLimit": before}, "after": {"seatLimit": limit}},
        )
    return organisation


def _check_from_above(actor: Actor, organisation: Organisation) -> None:
    # Suspension is the parent's decision: members cannot suspend or revive themselves.
    if not actor.governs_from_above(organisation):
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "Only an administrator of a parent organisation can change this.",
        )


async def set_status(
    *, actor: Actor, organisation: Organisation, status: OrganisationStatus
) -> Organisation:
    _check_from_above(actor, organisation)
    if organisation.status is status:
        raise DomainError(
            ErrorCode.INVALID_STATE, f"The organisation is already {status.value.lower()}."
        )
    async with in_transaction():
        organisation.status = status
        await organisation.save(update_fields=["status", "updated_at"])
        if status is OrganisationStatus.SUSPENDED:
            # Everyone in the subtree is signed out, so reactivation revives no old session.
            user_ids = await Membership.filter(
                subtree(organisation.path, "organisation__")
            ).values_list("user_id", flat=True)
            await Session.filter(user_id__in=set(user_ids)).delete()
        await audit.record(
            "organisation.suspended"
            if status is OrganisationStatus.SUSPENDED
            else "organisation.reactivated",
            actor=actor,
            organisation_id=organisation.id,
            target=organisation,
        )
    return organisation
