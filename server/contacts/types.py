"""GraphQL types of contact persons."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from strawberry import relay

from server.accounts.models import User
from server.accounts.types import UserNode
from server.contacts.models import Contact, ContactKind
from server.core.context import Info
from server.core.nodes import Loaded, node_of, visible_row
from server.core.pagination import Connection
from server.organisations.types import OrganisationNode
from server.tenancy.models import Organisation


@strawberry.type(
    name="Contact",
    description="A contact person of an organisation (billing, technical, …). "
    "Contacts never sign in; invite one to make them a user.",
)
@node_of(Contact)
class ContactType(relay.Node):
    id: relay.NodeID[int]
    kind: ContactKind
    first_name: str
    last_name: str
    title: str
    email: str
    office_phone: str
    mobile_phone: str
    notes: str
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    @staticmethod
    def display_name(row: strawberry.Parent[Contact]) -> str:
        return row.display_name

    @strawberry.field
    @staticmethod
    async def organisation(row: strawberry.Parent[Contact], info: Info) -> Loaded[OrganisationNode]:
        return await info.context.loaders.by_id(Organisation).load(row.organisation_id)

    @strawberry.field(
        description="The user an invitation of this contact created, when the viewer may see them."
    )
    @staticmethod
    async def user(row: strawberry.Parent[Contact], info: Info) -> UserNode | None:
        return await visible_row(info, User, row.user_id)


if TYPE_CHECKING:
    ContactNode: TypeAlias = Contact  # the value is the row (core/nodes.py)
else:
    ContactNode = ContactType

ContactConnection = Connection[ContactNode]
