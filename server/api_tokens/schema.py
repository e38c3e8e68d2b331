"""API tokens for integrations: create (shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from strawberry import relay

from server.accounts.models import User
from server.accounts.types import UserNode
from server.api_tokens import service
from server.api_tokens.models import ApiToken
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
from server.tenancy.models import Organisation
from server.tenancy.refs import OrganisationRef


@strawberry.type(name="ApiToken", description="A secret an integration sends as `Bearer fdt_…`.")
@node_of(ApiToken)
class ApiTokenType(relay.Node):
    id: relay.NodeID[int]
    name: str
    hint: str = strawberry.field(description="The secret's first characters, to tell tokens apart.")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    privileged: bool = strawberry.field(
        description="May do what needs a recent sign-in (see createApiToken)."
    )
    restricted_to_trusted_documents: bool = strawberry.field(
        description="May send only the admin app's trusted documents (by `documentId`) when "
        "the server enforces them (see createApiToken)."
    )

    @strawberry.field(description="What the token may do (never more than its creator can now).")
    @staticmethod
    def permissions(row: strawberry.Parent[ApiToken]) -> list[Permission]:
        return [Permission(p) for p in row.permissions]

    @strawberry.field
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > clock.now()

    @strawberry.field
    @staticmethod
    async def organisation(row: strawberry.Parent[ApiToken], info: Info) -> Loaded[OrganisationRef]:
        return await info.context.loaders.by_id(Organisation).load(row.organisation_id)

    @strawberry.field
    @staticmethod
    async def created_by(row: strawberry.Parent[ApiToken], info: Info) -> UserNode | None:
        return await visible_row(info, User, row.created_by_id)


if TYPE_CHECKING:
    ApiTokenNode: TypeAlias = ApiToken  # the value is the row (core/nodes.py)
else:
    ApiTokenNode = ApiTokenType


@strawberry.input
class CreateApiTokenInput:
    organisation_id: strawberry.ID
    name: str
    permissions: list[Permission] = strawberry.field(
        description="A subset of what you hold in that organisation."
    )
    expires_at: datetime = strawberry.field(description="At most a year ahead.")
    privileged: bool = strawberry.field(
        default=False,
        description="May also do what needs a recent sign-in (granting OWNER or ADMIN, "
        "webhooks, ticket-access administration). Without it, those answer REAUTH_REQUIRED "
        "to the token.",
    )
    restricted_to_trusted_documents: bool = strawberry.field(
        default=False,
        description="When the server enforces trusted documents "
        "(FRONTDESK_TRUSTED_DOCUMENTS=enforce), the token may send only the documents of "
        "the server's manifest (static/admin/documents.json), like the admin app. Without "
        "it, the token may send any document.",
    )


@strawberry.type
class CreateApiTokenPayload(Payload):
    secret: str | None = strawberry.field(
        default=None, description="The token (`fdt_…`). Shown this once only: store it now."
    )
    api_token: ApiTokenNode | None = None


@strawberry.input
class ApiTokenInput:
    api_token_id: strawberry.ID


@strawberry.type
class ApiTokenPayload(Payload):
    api_token: ApiTokenNode | None = None


@strawberry.type
class Query:
    @strawberry.field(
        description="The organisation's API tokens, revoked and expired ones included.",
        extensions=[requires(Permission.API_TOKENS_MANAGE, on=organisation("organisation_id"))],
    )
    async def api_tokens(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ApiTokenNode]:
        owner = checked(info).organisation
        return await paginate(service.tokens_of(owner), first=first, after=after)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A token for an integration, acting in this organisation and below it.",
        extensions=[
            requires(
                Permission.API_TOKENS_MANAGE,
                on=organisation("input.organisation_id"),
                recent_auth=STEP_UP_SECONDS,
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        owner = checked(info).organisation
        secret, token = await service.create(
            actor=info.context.require_actor(),
            organisation=owner,
            name=input.name,
            permissions=input.permissions,
            expires_at=input.expires_at,
            privileged=input.privileged,
            restricted_to_trusted_documents=input.restricted_to_trusted_documents,
        )
        return CreateApiTokenPayload(secret=secret, api_token=token)

    @strawberry.mutation(
        description="Stop a token at once.",
        extensions=[
            requires(
                Permission.API_TOKENS_MANAGE,
                on=owner_of("input.api_token_id", ApiToken),
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def revoke_api_token(self, info: Info, input: ApiTokenInput) -> ApiTokenPayload:
        token = await service.revoke(
            actor=info.context.require_actor(),
            token_id=checked_target(info, ApiToken).id,
        )
        return ApiTokenPayload(api_token=token)
