"""GraphQL types of support tickets and their comments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from server.accounts.types import UserType, may_view_user
from server.core.context import Info
from server.core.nodes import load_visible
from server.core.pagination import Connection
from server.organisations.types import OrganisationType
from server.tickets.access import may_view_ticket
from server.tickets.models import Ticket, TicketComment, TicketKind, TicketPriority, TicketStatus
from server.tickets.service import public_name


async def _visible_ticket(info: Info, ticket: Ticket) -> bool:
    actor = info.context.actor
    organisation = await info.context.loaders.organisation.load(ticket.organisation_id)
    return (
        actor is not None
        and organisation is not None
        and may_view_ticket(actor, ticket, organisation)
    )


async def _person(info: Info, user_id: int | None) -> UserType | None:
    user = await info.context.loaders.user.load(user_id) if user_id else None
    return user if user is not None and await may_view_user(info, user) else None  # type: ignore[return-value]


async def _name(info: Info, user_id: int | None) -> str:
    return public_name(await info.context.loaders.user.load(user_id) if user_id else None)


@strawberry.type(
    name="TicketComment", description="An answer on a ticket, by the reporter or the support desk."
)
class TicketCommentType(relay.Node):
    id: relay.NodeID[int]
    body: str
    created_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, TicketComment)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        async def visible(comment: TicketComment) -> bool:
            ticket = await info.context.loaders.ticket.load(comment.ticket_id)
            return ticket is not None and await _visible_ticket(info, ticket)

        return await load_visible(info, info.context.loaders.ticket_comment, node_ids, visible)

    @strawberry.field(description="The author's name (support staff are named, not addressed).")
    async def author_name(self, info: Info) -> str:
        return await _name(info, self.author_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The author, when the viewer may see that person.")
    async def author(self, info: Info) -> UserType | None:
        return await _person(info, self.author_id)  # type: ignore[attr-defined]


@strawberry.type(name="Ticket", description="A support ticket of an organisation.")
class TicketType(relay.Node):
    id: relay.NodeID[int]
    number: int = strawberry.field(description="Numbered per organisation: 1, 2, 3, …")
    priority: TicketPriority
    subject: str
    description: str
    status: TicketStatus
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None

    @strawberry.field(name="type")
    def kind(self) -> TicketKind:
        return self.kind

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, Ticket)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        async def visible(ticket: Ticket) -> bool:
            return await _visible_ticket(info, ticket)

        return await load_visible(info, info.context.loaders.ticket, node_ids, visible)

    @strawberry.field
    async def organisation(self, info: Info) -> OrganisationType:
        organisation_id = self.organisation_id  # type: ignore[attr-defined]
        return await info.context.loaders.organisation.load(organisation_id)  # type: ignore[return-value]

    @strawberry.field(description="The reporter's name.")
    async def reporter_name(self, info: Info) -> str:
        return await _name(info, self.reporter_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Who raised it, when the viewer may see that person.")
    async def reporter(self, info: Info) -> UserType | None:
        return await _person(info, self.reporter_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The answers, oldest first.")
    async def comments(self, info: Info) -> list[TicketCommentType]:
        return await info.context.loaders.comments_of_ticket.load(self.id)  # type: ignore[return-value]


TicketConnection = Connection[TicketType]
