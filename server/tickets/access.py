"""Who sees which tickets: the one place that knows ticket access.

Ticket visibility follows the membership's ticket access, not the role:

- OWN: one's own tickets in that organisation;
- ACCOUNT and ADMIN: every ticket of the organisation and of every
  organisation below it (a provider's or reseller's support desk).

Every role holds TICKETS_USE; a membership whose ticket access is NONE sees
no tickets. Fields are guarded by `desk(...)`, which prints
`@requires(permission: TICKETS_USE)` like the core guard and lets support
desks of ancestor organisations in, which the core guard (built on roles and
delegated administration) would not.
"""

from __future__ import annotations

from typing import Any

from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField
from tortoise.expressions import Q

from server.core.actor import Actor
from server.core.context import Info
from server.core.errors import (
    DomainError,
    ErrorCode,
    Forbidden,
    NotFoundError,
    Unauthenticated,
    graphql_name,
    not_found,
)
from server.core.guard import OrganisationLookup, Outcome, RequiresDirective
from server.core.permissions import Permission, TicketAccess
from server.organisations.models import Organisation
from server.tickets.models import Ticket


def _uses_tickets(actor: Actor, membership: Any) -> bool:
    # Through the actor, so that whatever narrows its rights (an API token) applies.
    return actor.can(Permission.TICKETS_USE, membership.organisation)


def ticket_access_in(actor: Actor, organisation: Organisation) -> TicketAccess:
    """The actor's effective ticket access in `organisation`: their own
    membership's, or ACCOUNT through a support desk above it."""
    best = TicketAccess.NONE
    own = actor.membership_in(organisation.id)
    if own is not None and _uses_tickets(actor, own):
        best = own.ticket_access
    if best.rank < TicketAccess.ACCOUNT.rank:
        for m in actor.memberships:
            if (
                m.organisation_id != organisation.id
                and _uses_tickets(actor, m)
                and m.ticket_access.rank >= TicketAccess.ACCOUNT.rank
                and organisation.is_within(m.organisation.path)
            ):
                return TicketAccess.ACCOUNT
    return best


def handles_tickets(actor: Actor, organisation: Organisation) -> bool:
    """May see and answer every ticket there (ACCOUNT or better)."""
    return ticket_access_in(actor, organisation).rank >= TicketAccess.ACCOUNT.rank


def may_view_ticket(actor: Actor, ticket: Ticket, organisation: Organisation) -> bool:
    access = ticket_access_in(actor, organisation)
    if access.rank >= TicketAccess.ACCOUNT.rank:
        return True
    return access is TicketAccess.OWN and ticket.reporter_id == actor.user.id


def visible_tickets(actor: Actor) -> Q:
    """Filter for every ticket the actor may see."""
    query = Q(id=-1)
    for m in actor.memberships:
        if not _uses_tickets(actor, m):
            continue
        if m.ticket_access.rank >= TicketAccess.ACCOUNT.rank:
            query |= Q(organisation__path__startswith=m.organisation.path)
        elif m.ticket_access is TicketAccess.OWN:
            query |= Q(organisation_id=m.organisation_id, reporter_id=actor.user.id)
    return query


class TicketDesk(Outcome):
    """Field guard: the actor needs some ticket access (OWN or better) in the
    organisation `on` finds. Out of reach answers like missing; an
    organisation the actor sees but has no ticket access in is FORBIDDEN."""

    def __init__(self, on: OrganisationLookup) -> None:
        self.on = on

    def apply(self, field: StrawberryField) -> None:
        field.directives.append(RequiresDirective(permission=Permission.TICKETS_USE))
        self.field = field

    def _missing(self) -> Any:
        argument = getattr(self.on, "argument", None)
        if isinstance(self.field.type, StrawberryOptional):
            return None
        if self._is_payload():
            name = graphql_name(argument.rsplit(".", 1)[-1]) if argument else None
            payload: Any = self.field.type
            return payload.failed(not_found(name))
        raise NotFoundError()

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        actor = info.context.actor
        if actor is None:
            raise Unauthenticated()
        try:
            target = await self.on(source, info, kwargs)
        except DomainError as error:
            if error.code is ErrorCode.NOT_FOUND:
                return self._missing()
            raise
        if ticket_access_in(actor, target) is TicketAccess.NONE:
            if actor.can_see(target):
                raise Forbidden()
            return self._missing()
        return await self._run(next_, source, info, kwargs)


def desk(on: OrganisationLookup) -> TicketDesk:
    return TicketDesk(on)
