"""View rules: who may see objects of one kind, declared once per kind.

A model states its rule next to its definition:

    @viewable(WithPermission(Permission.CONTACTS_VIEW))
    class Contact(Model): ...

and everything that shows such objects derives its scoping from that one
declaration: `node(id:)` and `nodes(ids:)` (core/nodes.py), nested fields
(`visible_or_none`), lists (`rule_for(Model).where(actor)`) and the CSV
export. Every rule asks the actor (core/actor.py); none decides on its own.
An object the rule hides is answered exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.expressions import Q

from server.core.permissions import Permission

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")

if TYPE_CHECKING:
    from tortoise.models import Model

    from server.accounts.models import Membership
    from server.core.actor import Actor
    from server.tenancy.models import Organisation


class Related(Protocol):
    """What a rule may look up: the request's loaders."""

    async def organisation_of(self, row: Any) -> Organisation | None: ...

    async def row(self, model: type[Model], pk: int) -> Any: ...

    def of(self, factory: Callable[[], DataLoader[K, V]]) -> DataLoader[K, V]: ...


class ViewRule(Protocol):
    async def allows(self, actor: Actor, row: Any, related: Related) -> bool: ...

    def where(self, actor: Actor) -> Q:
        """The filter for every row of the kind the actor may see."""
        ...


@dataclass(frozen=True)
class WithPermission:
    """Rows of an organisation, for whoever holds `permission` there."""

    permission: Permission

    async def allows(self, actor: Actor, row: Any, related: Related) -> bool:
        organisation = await related.organisation_of(row)
        return organisation is not None and actor.can(self.permission, organisation)

    def where(self, actor: Actor) -> Q:
        return actor.organisations_with(self.permission, "organisation__")


@dataclass(frozen=True)
class OwnOrPermission:
    """Rows assigned to one of the actor's own memberships (an extension, its
    calls), or any row of an organisation where they hold `permission`."""

    permission: Permission

    async def allows(self, actor: Actor, row: Any, related: Related) -> bool:
        organisation = await related.organisation_of(row)
        return organisation is not None and actor.may_use(
            self.permission, organisation, row.membership_id
        )

    def where(self, actor: Actor) -> Q:
        return actor.organisations_with(self.permission, "organisation__") | actor.own_rows()


class SeenOrganisation:
    """An organisation: one the actor belongs to, or administers from above."""

    async def allows(self, actor: Actor, row: Any, related: Related) -> bool:
        return actor.can_see(row)

    def where(self, actor: Actor) -> Q:
        return actor.visible_organisations()


class MemberRule:
    """A membership: one's own, or anyone's where the actor may list members."""

    async def allows(self, actor: Actor, row: Any, related: Related) -> bool:
        organisation = await related.organisation_of(row)
        return organisation is not None and actor.may_view_member(row, organisation)

    def where(self, actor: Actor) -> Q:
        own = Q(user_id=actor.user.id) if actor.personal else Q(id=-1)
        return actor.organisations_with(Permission.MEMBERS_VIEW, "organisation__") | (
            own & actor.within_reach("organisation__")
        )


@dataclass(frozen=True)
class PersonRule:
    """A person: oneself, or someone with a (non-pending) membership the actor may list."""

    memberships_of_user: Callable[[], DataLoader[int, list[Membership]]]

    async def allows(self, actor: Actor, row: Any, related: Related) -> bool:
        if row.id == actor.user.id and actor.personal:
            return True
        memberships = await related.of(self.memberships_of_user).load(row.id)
        return actor.may_view_person(row, memberships)

    def where(self, actor: Actor) -> Q:
        raise NotImplementedError("people are listed through their memberships")


class TicketRule:
    """A ticket, by the actor's ticket access (own tickets, or the desk's)."""

    async def allows(self, actor: Actor, row: Any, related: Related) -> bool:
        organisation = await related.organisation_of(row)
        return organisation is not None and actor.may_view_ticket(row.reporter_id, organisation)

    def where(self, actor: Actor) -> Q:
        return actor.visible_tickets()


@dataclass(frozen=True)
class ThroughParent:
    """Visible exactly when its parent row is (a ticket's comment)."""

    parent: Callable[[], type[Model]]
    key: str

    async def allows(self, actor: Actor, row: Any, related: Related) -> bool:
        model = self.parent()
        parent = await related.row(model, getattr(row, self.key))
        return parent is not None and await rule_for(model).allows(actor, parent, related)

    def where(self, actor: Actor) -> Q:
        raise NotImplementedError("listed through the parent")


class OwnSession:
    """Only one's own sessions exist, for people."""

    async def allows(self, actor: Actor, row: Any, related: Related) -> bool:
        return actor.personal and row.user_id == actor.user.id

    def where(self, actor: Actor) -> Q:
        return Q(user_id=actor.user.id) if actor.personal else Q(id=-1)


M = TypeVar("M", bound="type[Model]")


def viewable(rule: ViewRule) -> Callable[[M], M]:
    """Declare who may see rows of a model."""

    def declare(model: M) -> M:
        model.__view_rule__ = rule  # type: ignore[attr-defined]  # a class attribute of our own, read by rule_for
        return model

    return declare


def rule_for(model: type[Model]) -> ViewRule:
    rule: ViewRule | None = getattr(model, "__view_rule__", None)
    if rule is None:
        raise LookupError(f"{model.__name__} declares no view rule (core/visibility.py)")
    return rule


async def visible(actor: Actor | None, row: Any, related: Related) -> bool:
    if actor is None or row is None:
        return False
    return await rule_for(type(row)).allows(actor, row, related)


async def visible_or_none(actor: Actor | None, row: R | None, related: Related) -> R | None:
    """The row when the actor may see it, else None (like a missing one)."""
    return row if await visible(actor, row, related) else None


def rows_visible_to(actor: Actor, model: type[Model]) -> Q:
    """The filter for every row of `model` the actor may see, by its declared rule."""
    return rule_for(model).where(actor)
