"""GraphQL types of contact persons."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from server.accounts.types import UserType, may_view_user
from server.contacts.models import Contact, ContactKind
from server.core.context import Info
from server.core.nodes import load_visible
from server.core.pagination import Connection
from server.core.permissions import Permission
from server.organisations.types import OrganisationType


@strawberry.type(
    name="Contact",
    description="A contact person of an organisation (billing, technical, …). "
    "Contacts never sign in; invite one to make them a user.",
)
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

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, Contact)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        async def visible(contact: Contact) -> bool:
            organisation = await info.context.loaders.organisation.load(contact.organisation_id)
            actor = info.context.actor
            return organisation is not None and actor.can(Permission.CONTACTS_VIEW, organisation)  # type: ignore[union-attr]

        return await load_visible(info, info.context.loaders.contact, node_ids, visible)

    @strawberry.field
    async def organisation(self, info: Info) -> OrganisationType:
        organisation_id = self.organisation_id  # type: ignore[attr-defined]
        return await info.context.loaders.organisation.load(organisation_id)  # type: ignore[return-value]

    @strawberry.field(
        description="The user an invitation of this contact created, when the viewer may see them."
    )
    async def user(self, info: Info) -> UserType | None:
        user_id = self.user_id  # type: ignore[attr-defined]
        user = await info.context.loaders.user.load(user_id) if user_id else None
        return user if user is not None and await may_view_user(info, user) else None  # type: ignore[return-value]


ContactConnection = Connection[ContactType]
