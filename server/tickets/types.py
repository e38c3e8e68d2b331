"""GraphQL types of support tickets and their comments."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from strawberry import relay

from server.accounts.models import User
from server.accounts.types import UserNode
from server.core.context import Info
from server.core.nodes import Loaded, node_of, visible_row
from server.core.pagination import Connection
from server.organisations.types import OrganisationNode
from server.tenancy.models import Organisation
from server.tickets.loaders import comments_by_ticket
from server.tickets.models import Ticket, TicketComment, TicketKind, TicketPriority, TicketStatus
from server.tickets.service import public_name, statuses_open_to


async def _person(info: Info, user_id: int | None) -> UserNode | None:
    return await visible_row(info, User, user_id)


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
    @staticmethod
    async def author_name(row: strawberry.Parent[TicketComment], info: Info) -> str:
        return await _name(info, row.author_id)

    @strawberry.field(description="The author, when the viewer may see that person.")
    @staticmethod
    async def author(row: strawberry.Parent[TicketComment], info: Info) -> UserNode | None:
        return await _person(info, row.author_id)


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
    @staticmethod
    def kind(row: strawberry.Parent[Ticket]) -> TicketKind:
        return row.kind

    @strawberry.field
    @staticmethod
    async def organisation(row: strawberry.Parent[Ticket], info: Info) -> Loaded[OrganisationNode]:
        return await info.context.loaders.by_id(Organisation).load(row.organisation_id)

    @strawberry.field(description="The reporter's name.")
    @staticmethod
    async def reporter_name(row: strawberry.Parent[Ticket], info: Info) -> str:
        return await _name(info, row.reporter_id)

    @strawberry.field(description="Who raised it, when the viewer may see that person.")
    @staticmethod
    async def reporter(row: strawberry.Parent[Ticket], info: Info) -> UserNode | None:
        return await _person(info, row.reporter_id)

    @strawberry.field(
        description="The statuses the viewer may move this ticket to now, in workflow order: "
        "what a status picker offers (`changeTicketStatus` accepts exactly these; empty for a "
        "closed ticket, and for a reporter whose ticket only the desk may move)."
    )
    @staticmethod
    async def allowed_statuses(row: strawberry.Parent[Ticket], info: Info) -> list[TicketStatus]:
        actor = info.context.actor
        organisation = await info.context.loaders.by_id(Organisation).load(row.organisation_id)
        if actor is None or organisation is None:
            return []
        return statuses_open_to(actor, row, organisation)

    @strawberry.field(description="The answers, oldest first.")
    async def comments(self, info: Info) -> list[TicketCommentNode]:
        return await info.context.loaders.of(comments_by_ticket).load(self.id)


if TYPE_CHECKING:
    # The values are the rows (core/nodes.py, "Rows as nodes").
    TicketNode: TypeAlias = Ticket
    TicketCommentNode: TypeAlias = TicketComment
else:
    TicketNode = TicketType
    TicketCommentNode = TicketCommentType

TicketConnection = Connection[TicketNode]
