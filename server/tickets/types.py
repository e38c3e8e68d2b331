"""GraphQL types of support tickets and their comments."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from server.accounts.models import User
from server.accounts.types import UserType
from server.core.context import Info
from server.core.nodes import node_of, visible_row
from server.core.pagination import Connection
from server.organisations.types import OrganisationType
from server.tickets.loaders import comments_by_ticket
from server.tickets.models import Ticket, TicketComment, TicketKind, TicketPriority, TicketStatus
from server.tickets.service import public_name


async def _person(info: Info, user_id: int | None) -> UserType | None:
    return await visible_row(info, User, user_id)  # type: ignore[return-value]


async def _name(info: Info, user_id: int | None) -> str:
    return public_name(await info.context.loaders.by_id(User).load(user_id) if user_id else None)


@strawberry.type(
    name="TicketComment", description="An answer on a ticket, by the reporter or the support desk."
)
@node_of(TicketComment)
class TicketCommentType(relay.Node):
    id: relay.NodeID[int]
    body: str
    created_at: datetime

    @strawberry.field(description="The author's name (support staff are named, not addressed).")
    async def author_name(self, info: Info) -> str:
        return await _name(info, self.author_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The author, when the viewer may see that person.")
    async def author(self, info: Info) -> UserType | None:
        return await _person(info, self.author_id)  # type: ignore[attr-defined]


@strawberry.type(name="Ticket", description="A support ticket of an organisation.")
@node_of(Ticket)
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
        return await info.context.loaders.of(comments_by_ticket).load(self.id)  # type: ignore[return-value]


TicketConnection = Connection[TicketType]
