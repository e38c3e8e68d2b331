"""SCIM tokens and the SCIM setting, in GraphQL: create (shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from strawberry import relay

from server.accounts.models import User
from server.accounts.types import UserNode
from server.core import clock
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import (
    STEP_UP_SECONDS,
    checked,
    checked_target,
    organisation,
    owner_of,
    requires,
)
from server.core.nodes import Loaded, node_of, visible_row
from server.core.pagination import Connection, paginate
from server.core.permissions import Permission
from server.scim import tokens as service
from server.scim.models import ScimToken
from server.tenancy.models import Organisation, ScimNewPeople
from server.tenancy.refs import OrganisationRef


@strawberry.type(
    name="ScimToken",
    description="A secret an identity provider sends to /scim/v2/ as `Bearer fdscim_…`.",
)
@node_of(ScimToken)
class ScimTokenType(relay.Node):
    id: relay.NodeID[int]
    name: str
    hint: str = strawberry.field(description="The secret's first characters, to tell tokens apart.")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @strawberry.field
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > clock.now()

    @strawberry.field
    @staticmethod
    async def organisation(
        row: strawberry.Parent[ScimToken], info: Info
    ) -> Loaded[OrganisationRef]:
        return await info.context.loaders.by_id(Organisation).load(row.organisation_id)

    @strawberry.field(description="Whose rights it provisions with (it stops when they lose them).")
    @staticmethod
    async def created_by(row: strawberry.Parent[ScimToken], info: Info) -> UserNode | None:
        return await visible_row(info, User, row.created_by_id)


if TYPE_CHECKING:
    ScimTokenNode: TypeAlias = ScimToken  # the value is the row (core/nodes.py)
else:
    ScimTokenNode = ScimTokenType


@strawberry.type(description="An organisation's SCIM provisioning.")
class ScimProvisioning:
    base_url: str = strawberry.field(description="What the identity provider calls (Tenant URL).")
    new_people: ScimNewPeople = strawberry.field(
        description="How people the identity provider creates join."
    )


@strawberry.input
class CreateScimTokenInput:
    organisation_id: strawberry.ID
    name: str
    expires_at: datetime = strawberry.field(description="At most a year ahead.")


@strawberry.type
class CreateScimTokenPayload(Payload):
    secret: str | None = strawberry.field(
        default=None, description="The token (`fdscim_…`). Shown this once only: store it now."
    )
    scim_token: ScimTokenNode | None = None


@strawberry.input
class ScimTokenInput:
    scim_token_id: strawberry.ID


@strawberry.type
class ScimTokenPayload(Payload):
    scim_token: ScimTokenNode | None = None


@strawberry.input
class SetScimNewPeopleInput:
    organisation_id: strawberry.ID
    new_people: ScimNewPeople


@strawberry.type
class ScimProvisioningPayload(Payload):
    scim_provisioning: ScimProvisioning | None = None


def provisioning_of(info: Info, organisation: Organisation) -> ScimProvisioning:
    base = info.context.settings.public_url.rstrip("/") + "/scim/v2"
    return ScimProvisioning(base_url=base, new_people=organisation.scim_new_people)


@strawberry.type
class Query:
    @strawberry.field(
        description="The organisation's SCIM tokens, revoked and expired ones included.",
        extensions=[requires(Permission.SCIM_MANAGE, on=organisation("organisation_id"))],
    )
    async def scim_tokens(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ScimTokenNode]:
        owner = checked(info).organisation
        return await paginate(service.tokens_of(owner), first=first, after=after)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A token for the organisation's identity provider (SCIM 2.0 at /scim/v2/): "
        "it provisions people into this organisation only, as MEMBERs, with your rights here.",
        extensions=[
            requires(
                Permission.SCIM_MANAGE,
                on=organisation("input.organisation_id"),
                recent_auth=STEP_UP_SECONDS,
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def create_scim_token(
        self, info: Info, input: CreateScimTokenInput
    ) -> CreateScimTokenPayload:
        secret, token = await service.create(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            name=input.name,
            expires_at=input.expires_at,
        )
        return CreateScimTokenPayload(secret=secret, scim_token=token)

    @strawberry.mutation(
        description="Stop a SCIM token at once.",
        extensions=[
            requires(
                Permission.SCIM_MANAGE,
                on=owner_of("input.scim_token_id", ScimToken),
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def revoke_scim_token(self, info: Info, input: ScimTokenInput) -> ScimTokenPayload:
        token = await service.revoke(
            actor=info.context.require_actor(), token_id=checked_target(info, ScimToken).id
        )
        return ScimTokenPayload(scim_token=token)

    @strawberry.mutation(
        description="How people the identity provider creates join: invited (the default), "
        "or active at once with a mailed link to choose a password.",
        extensions=[
            requires(
                Permission.SCIM_MANAGE,
                on=organisation("input.organisation_id"),
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def set_scim_new_people(
        self, info: Info, input: SetScimNewPeopleInput
    ) -> ScimProvisioningPayload:
        updated = await service.set_new_people(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            new_people=input.new_people,
        )
        return ScimProvisioningPayload(scim_provisioning=provisioning_of(info, updated))
