"""Contact persons: list and search, create, update, delete, invite."""

from __future__ import annotations

from typing import Any

import strawberry

from server.contacts import service
from server.contacts.models import Contact, ContactKind
from server.contacts.types import ContactConnection, ContactNode
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import checked, checked_target, organisation, owner_of, requires
from server.core.pagination import paginate
from server.core.permissions import Permission, Role
from server.invitations.schema import InvitationPayload


def _on_contact() -> Any:
    return owner_of("input.contact_id", Contact)


def _given(values: Any, *skip: str) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(values).items()
        if name not in skip and value is not strawberry.UNSET
    }


@strawberry.input
class CreateContactInput:
    organisation_id: strawberry.ID
    kind: ContactKind = ContactKind.GENERAL
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    email: str | None = None
    office_phone: str | None = None
    mobile_phone: str | None = None
    notes: str | None = None


@strawberry.input(description="Only the fields given change; an empty string clears one.")
class UpdateContactInput:
    contact_id: strawberry.ID
    kind: ContactKind | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    office_phone: str | None = strawberry.UNSET
    mobile_phone: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.input
class ContactInput:
    contact_id: strawberry.ID


@strawberry.input
class InviteContactInput:
    contact_id: strawberry.ID
    role: Role = Role.MEMBER


@strawberry.type
class ContactPayload(Payload):
    contact: ContactNode | None = None


@strawberry.type
class DeleteContactPayload(Payload):
    deleted_contact_id: strawberry.ID | None = None  # the global id given


@strawberry.type
class Query:
    @strawberry.field(
        description="Contact persons of an organisation, searched by name, email or title.",
        extensions=[requires(Permission.CONTACTS_VIEW, on=organisation("organisation_id"))],
    )
    async def contacts(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        search: str | None = None,
        kind: ContactKind | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ContactConnection:
        target = checked(info).organisation
        contacts = service.contacts_of(target, search=search, kind=kind)
        return await paginate(contacts, first=first, after=after)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Add a contact person (they cannot sign in).",
        extensions=[requires(Permission.CONTACTS_MANAGE, on=organisation("input.organisation_id"))],
    )
    async def create_contact(self, info: Info, input: CreateContactInput) -> ContactPayload:
        target = checked(info).organisation
        created = await service.create_contact(
            actor=info.context.require_actor(),
            organisation=target,
            values=_given(input, "organisation_id"),
        )
        return ContactPayload(contact=created)

    @strawberry.mutation(
        description="Change a contact person's details.",
        extensions=[requires(Permission.CONTACTS_MANAGE, on=_on_contact())],
    )
    async def update_contact(self, info: Info, input: UpdateContactInput) -> ContactPayload:
        updated = await service.update_contact(
            actor=info.context.require_actor(),
            contact_id=checked_target(info, Contact).id,
            changes=_given(input, "contact_id"),
        )
        return ContactPayload(contact=updated)

    @strawberry.mutation(
        description="Delete a contact person (a user invited from it stays).",
        extensions=[requires(Permission.CONTACTS_MANAGE, on=_on_contact())],
    )
    async def delete_contact(self, info: Info, input: ContactInput) -> DeleteContactPayload:
        await service.delete_contact(
            actor=info.context.require_actor(), contact_id=checked_target(info, Contact).id
        )
        return DeleteContactPayload(deleted_contact_id=input.contact_id)

    @strawberry.mutation(
        description="Invite a contact person to sign in: an invitation to their email with "
        "their names and phone numbers filled in.",
        extensions=[requires(Permission.MEMBERS_MANAGE, on=_on_contact())],
    )
    async def invite_contact(self, info: Info, input: InviteContactInput) -> InvitationPayload:
        invitation = await service.invite_contact(
            actor=info.context.require_actor(),
            contact_id=checked_target(info, Contact).id,
            role=input.role,
        )
        return InvitationPayload(invitation=invitation)
