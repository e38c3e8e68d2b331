"""GraphQL types of contact persons."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from server.accounts.models import User
from server.accounts.types import UserType
from server.contacts.models import Contact, ContactKind
from server.core.context import Info
from server.core.nodes import node_of, visible_row
from server.core.pagination import Connection
from server.organisations.types import OrganisationType


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
    def display_name(self) -> str:
        return self.display_name  # type: ignore[return-value]  # the model's property

    @strawberry.field
    async def organisation(self, info: Info) -> OrganisationType:
        organisation_id = self.organisation_id  # type: ignore[attr-defined]
        return await info.context.loaders.organisation.load(organisation_id)  # type: ignore[return-value]

    @strawberry.field(
        description="The user an invitation of this contact created, when the viewer may see them."
    )
    async def user(self, info: Info) -> UserType | None:
        return await visible_row(info, User, self.user_id)  # type: ignore[attr-defined,return-value]


ContactConnection = Connection[ContactType]
