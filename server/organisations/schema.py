"""Organisations: lookup, the administered list, customers, settings, suspension."""

from __future__ import annotations

import strawberry

from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import authenticated, checked, organisation, requires
from server.core.pagination import paginate
from server.core.permissions import Permission
from server.organisations import service
from server.organisations.types import OrganisationConnection, OrganisationNode
from server.tenancy.models import OrganisationKind, OrganisationStatus


@strawberry.input
class CreateOrganisationInput:
    parent_id: strawberry.ID = strawberry.field(description="A reseller (or the provider).")
    name: str
    kind: OrganisationKind = OrganisationKind.CUSTOMER
    require_two_factor: bool = False


# The yes/no settings `updateOrganisation` changes.
SETTINGS = (
    "require_two_factor",
    "allow_email_codes",
    "require_totp_for_admins",
    "require_passkeys_for_admins",
    "ticket_access_after_first_sign_in",
)


@strawberry.input(description="Only the fields given change.")
class UpdateOrganisationInput:
    organisation_id: strawberry.ID
    name: str | None = None
    require_two_factor: bool | None = None
    allow_email_codes: bool | None = None
    require_totp_for_admins: bool | None = None
    require_passkeys_for_admins: bool | None = None
    ticket_access_after_first_sign_in: bool | None = None


@strawberry.input
class OrganisationInput:
    organisation_id: strawberry.ID


@strawberry.input
class SetSeatLimitInput:
    organisation_id: strawberry.ID
    limit: int | None = strawberry.field(description="Null removes the limit.")


@strawberry.type
class OrganisationPayload(Payload):
    organisation: OrganisationNode | None = None


@strawberry.type
class Query:
    @strawberry.field(
        description="One organisation; null when it does not exist or is out of reach.",
        extensions=[requires(Permission.ORGANISATION_VIEW, on=organisation("id"))],
    )
    async def organisation(self, info: Info, id: strawberry.ID) -> OrganisationNode | None:
        return checked(info).organisation

    @strawberry.field(
        description="Every organisation the viewer may view, the descendants they administer included.",
        extensions=[authenticated(api_tokens=True)],
    )
    async def organisations(
        self,
        info: Info,
        search: str | None = None,
        kind: OrganisationKind | None = None,
        status: OrganisationStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> OrganisationConnection:
        organisations = service.administered_by(
            info.context.require_actor(), search=search, kind=kind, status=status
        )
        return await paginate(organisations, first=first, after=after)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create a customer (or, under the provider, a reseller) below a parent.",
        extensions=[requires(Permission.CUSTOMERS_MANAGE, on=organisation("input.parent_id"))],
    )
    async def create_organisation(
        self, info: Info, input: CreateOrganisationInput
    ) -> OrganisationPayload:
        created = await service.create_child(
            actor=info.context.require_actor(),
            parent=checked(info).organisation,
            name=input.name,
            kind=input.kind,
            require_two_factor=input.require_two_factor,
        )
        return OrganisationPayload(organisation=created)

    @strawberry.mutation(
        description="Change an organisation's name or settings.",
        extensions=[
            requires(Permission.ORGANISATION_MANAGE, on=organisation("input.organisation_id"))
        ],
    )
    async def update_organisation(
        self, info: Info, input: UpdateOrganisationInput
    ) -> OrganisationPayload:
        updated = await service.update(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            name=input.name,
            settings={
                name: value for name in SETTINGS if (value := getattr(input, name)) is not None
            },
        )
        return OrganisationPayload(organisation=updated)

    @strawberry.mutation(
        description="Suspend a sub-organisation: nobody in it or below it can sign in; nothing is deleted.",
        extensions=[
            requires(Permission.CUSTOMERS_MANAGE, on=organisation("input.organisation_id"))
        ],
    )
    async def suspend_organisation(
        self, info: Info, input: OrganisationInput
    ) -> OrganisationPayload:
        changed = await service.set_status(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            status=OrganisationStatus.SUSPENDED,
        )
        return OrganisationPayload(organisation=changed)

    @strawberry.mutation(
        description="Limit how many users a customer may have (a provider's or reseller's call).",
        extensions=[
            requires(Permission.CUSTOMERS_MANAGE, on=organisation("input.organisation_id"))
        ],
    )
    async def set_seat_limit(self, info: Info, input: SetSeatLimitInput) -> OrganisationPayload:
        changed = await service.set_seat_limit(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            limit=input.limit,
        )
        return OrganisationPayload(organisation=changed)

    @strawberry.mutation(
        description="Reactivate a suspended sub-organisation.",
        extensions=[
            requires(Permission.CUSTOMERS_MANAGE, on=organisation("input.organisation_id"))
        ],
    )
    async def reactivate_organisation(
        self, info: Info, input: OrganisationInput
    ) -> OrganisationPayload:
        changed = await service.set_status(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            status=OrganisationStatus.ACTIVE,
        )
        return OrganisationPayload(organisation=changed)
