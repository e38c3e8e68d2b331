"""Brands: the sign-in page's brand by host name, setting a brand, and
confirming a sender address with the link mailed to it."""

from __future__ import annotations

import strawberry

from server.branding import service
from server.branding.inheritance import brand_for
from server.branding.types import SignInBrand
from server.core.brand import DEFAULT_BRAND
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import checked, organisation, public, requires
from server.core.permissions import Permission
from server.tenancy.refs import OrganisationRef


@strawberry.input(
    description="Only the fields given change; an empty string clears a value (it is "
    "inherited again). A new sender address is used once the link mailed to it is opened; "
    "giving the same unverified address again sends a new link."
)
class SetBrandInput:
    organisation_id: strawberry.ID
    portal_name: str | None = None
    sender_name: str | None = None
    sender_address: str | None = None
    support_contact: str | None = None
    logo_url: str | None = strawberry.field(default=None, description="https:// only.")
    colour: str | None = strawberry.field(default=None, description='"#rrggbb".')
    language: str | None = strawberry.field(default=None, description='"en" or "de".')
    host_name: str | None = strawberry.field(
        default=None, description="A host name of the reseller's own, e.g. portal.example.com."
    )


# The input fields `setBrand` passes on (all but the organisation).
FIELDS = tuple(service.CHECKS)


@strawberry.input
class ConfirmSenderAddressInput:
    token: str = strawberry.field(description="The token from the link in the mail.")


@strawberry.type
class BrandPayload(Payload):
    organisation: OrganisationRef | None = None


@strawberry.type
class ConfirmSenderAddressPayload(Payload):
    sender_address: str | None = None
    organisation_name: str | None = None


@strawberry.type
class Query:
    @strawberry.field(
        description="The brand of the portal reached by this request's host name (a "
        "reseller's own domain), else the server's own: for the sign-in page.",
        extensions=[public()],
    )
    async def sign_in_brand(self, info: Info) -> SignInBrand:
        organisation_id = await service.organisation_for_host(
            info.context.request.headers.get("host")
        )
        if organisation_id is None:
            return SignInBrand.of(DEFAULT_BRAND)
        return SignInBrand.of(await brand_for(organisation_id))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Set or clear an organisation's brand; its customers inherit what it sets.",
        extensions=[requires(Permission.BRAND_MANAGE, on=organisation("input.organisation_id"))],
    )
    async def set_brand(self, info: Info, input: SetBrandInput) -> BrandPayload:
        target = checked(info).organisation
        await service.set_brand(
            actor=info.context.require_actor(),
            organisation=target,
            given={name: value for name in FIELDS if (value := getattr(input, name)) is not None},
        )
        return BrandPayload(organisation=target)

    @strawberry.mutation(
        description="Confirm a sender address with the token mailed to it (single use, "
        "expiring); from then on mails go from it.",
        extensions=[public()],
    )
    async def confirm_sender_address(
        self, info: Info, input: ConfirmSenderAddressInput
    ) -> ConfirmSenderAddressPayload:
        confirmed = await service.confirm_sender(token=input.token, meta=info.context.meta)
        brand = await service.own_brand(confirmed)
        return ConfirmSenderAddressPayload(
            sender_address=brand.sender_address if brand else None,
            organisation_name=confirmed.name,
        )
