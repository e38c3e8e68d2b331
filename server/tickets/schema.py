"""Support tickets: list, view, raise, update, comment, status; ticket access."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from server.accounts.models import Membership
from server.core.actor import Actor
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import (
    STEP_UP_SECONDS,
    Lookup,
    checked,
    checked_target,
    decode_id,
    organisation,
    owner_of,
    requires,
)
from server.core.pagination import paginate
from server.core.permissions import Permission, TicketAccess
from server.core.visibility import visible_or_none
from server.members import service as members
from server.members.schema import MembershipPayload
from server.tickets import service
from server.tickets.models import Ticket, TicketKind, TicketOrder, TicketPriority, TicketStatus
from server.tickets.types import (
    TicketAccessMemberConnection,
    TicketCommentNode,
    TicketConnection,
    TicketNode,
)


def _on_ticket(path: str = "input.ticket_id") -> Lookup:
    return owner_of(path, Ticket)


def desk(on: Lookup) -> list[Any]:
    """Some ticket access in the organisation concerned (a support desk above it
    included): printed as TICKETS_USE, decided by the ticket access."""
    return [requires(Permission.TICKETS_USE, on=on, rule=Actor.decide_tickets)]


def _ticket_id(info: Info) -> int:
    return checked_target(info, Ticket).id


@strawberry.input
class CreateTicketInput:
    organisation_id: strawberry.ID
    kind: TicketKind = strawberry.field(name="type")
    subject: str
    description: str | None = None
    priority: TicketPriority = TicketPriority.NORMAL


@strawberry.input(description="Only the fields given change.")
class UpdateTicketInput:
    ticket_id: strawberry.ID
    subject: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    priority: TicketPriority | None = strawberry.UNSET
    kind: TicketKind | None = strawberry.field(name="type", default=strawberry.UNSET)


@strawberry.input
class ChangeTicketStatusInput:
    ticket_id: strawberry.ID
    status: TicketStatus


@strawberry.input
class AddTicketCommentInput:
    ticket_id: strawberry.ID
    body: str


@strawberry.input
class SetTicketAccessInput:
    membership_id: strawberry.ID
    ticket_access: TicketAccess


@strawberry.type
class TicketPayload(Payload):
    ticket: TicketNode | None = None


@strawberry.type
class TicketCommentPayload(Payload):
    comment: TicketCommentNode | None = None
    ticket: TicketNode | None = None


@strawberry.type
class Query:
    @strawberry.field(
        description="Tickets of an organisation the viewer may see: their own with OWN ticket "
        "access, all with ACCOUNT or ADMIN; includeDescendants adds the organisations below "
        "(a support desk). Newest first unless `order` says otherwise; a `search` lists its "
        "best matches first. A cursor pages only the order it came from.",
        extensions=desk(organisation("organisation_id")),
    )
    async def tickets(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        include_descendants: bool = False,
        status: TicketStatus | None = None,
        kind: Annotated[TicketKind | None, strawberry.argument(name="type")] = None,
        priority: TicketPriority | None = None,
        reporter_id: strawberry.ID | None = None,
        search: str | None = None,
        order: TicketOrder = TicketOrder.NEWEST_FIRST,
        first: int | None = None,
        after: str | None = None,
    ) -> TicketConnection:
        target = checked(info).organisation
        tickets = service.tickets_visible_to(
            info.context.require_actor(),
            organisation=target,
            include_descendants=include_descendants,
            status=status,
            kind=kind,
            priority=priority,
            reporter_id=decode_id(reporter_id, "User", "reporterId")
            if reporter_id is not None
            else None,
            search=search,
        )
        key, newest_first = service.ticket_order(order)
        return await paginate(tickets, first=first, after=after, key=key, newest_first=newest_first)

    @strawberry.field(
        description="The organisation's active people with their ticket access, for "
        "ticket administrators (ADMIN ticket access, owners) to set it, members "
        "permission or not; `search` matches words of the name.",
        extensions=[
            requires(
                Permission.TICKETS_USE,
                on=organisation("organisation_id"),
                rule=Actor.decide_ticket_access_admin,
            )
        ],
    )
    async def ticket_access_members(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> TicketAccessMemberConnection:
        members = service.ticket_access_members(checked(info).organisation, search=search)
        return await paginate(members, first=first, after=after)

    @strawberry.field(
        description="One ticket; null when it does not exist or is out of reach.",
        extensions=desk(_on_ticket("id")),
    )
    async def ticket(self, info: Info, id: strawberry.ID) -> TicketNode | None:
        ticket = checked_target(info, Ticket)
        return await visible_or_none(info.context.actor, ticket, info.context.loaders)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Raise an incident or a request; numbered per organisation.",
        extensions=desk(organisation("input.organisation_id")),
    )
    async def create_ticket(self, info: Info, input: CreateTicketInput) -> TicketPayload:
        target = checked(info).organisation
        created = await service.create_ticket(
            actor=info.context.require_actor(),
            organisation=target,
            kind=input.kind,
            priority=input.priority,
            subject=input.subject,
            description=input.description,
        )
        return TicketPayload(ticket=created)

    @strawberry.mutation(
        description="Change a ticket's subject, description, type or priority.",
        extensions=desk(_on_ticket()),
    )
    async def update_ticket(self, info: Info, input: UpdateTicketInput) -> TicketPayload:
        changes = {
            name: value
            for name, value in vars(input).items()
            if name != "ticket_id" and value is not strawberry.UNSET
        }
        updated = await service.update_ticket(
            actor=info.context.require_actor(),
            ticket_id=_ticket_id(info),
            changes=changes,
        )
        return TicketPayload(ticket=updated)

    @strawberry.mutation(
        description="Move a ticket through NEW → IN_PROGRESS → WAITING_ON_CUSTOMER → RESOLVED "
        "→ CLOSED, or reopen a RESOLVED one (IN_PROGRESS). A reporter with OWN access may "
        "close or reopen a resolved ticket and answer a waiting one; the rest is the desk's.",
        extensions=desk(_on_ticket()),
    )
    async def change_ticket_status(
        self, info: Info, input: ChangeTicketStatusInput
    ) -> TicketPayload:
        moved = await service.change_status(
            actor=info.context.require_actor(),
            ticket_id=_ticket_id(info),
            status=input.status,
        )
        return TicketPayload(ticket=moved)

    @strawberry.mutation(
        description="Answer a ticket; the reporter gets a mail when someone else answers.",
        extensions=desk(_on_ticket()),
    )
    async def add_ticket_comment(
        self, info: Info, input: AddTicketCommentInput
    ) -> TicketCommentPayload:
        comment, ticket = await service.add_comment(
            actor=info.context.require_actor(),
            ticket_id=_ticket_id(info),
            body=input.body,
        )
        return TicketCommentPayload(comment=comment, ticket=ticket)

    @strawberry.mutation(
        description="Set a member's ticket access; for members with ADMIN ticket access "
        "(and owners); see ticketAccessAfterFirstSignIn.",
        extensions=[
            requires(
                Permission.TICKETS_USE,
                on=owner_of("input.membership_id", Membership),
                recent_auth=STEP_UP_SECONDS,
            )
        ],
    )
    async def set_ticket_access(self, info: Info, input: SetTicketAccessInput) -> MembershipPayload:
        result = await members.set_feature_access(
            actor=info.context.require_actor(),
            membership_id=checked_target(info, Membership).id,
            ticket_access=input.ticket_access,
        )
        return MembershipPayload(membership=result)
