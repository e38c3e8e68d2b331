"""OpenID Connect clients in GraphQL: register (the secret shown once), change,
rotate the secret, delete, list. For a provider's or a reseller's owners and
admins (OIDC_CLIENTS_MANAGE); never through API tokens or impersonation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import strawberry
from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON

from server.accounts.models import User
from server.accounts.types import UserNode
from server.core.context import Info
from server.core.errors import Payload, not_found
from server.core.guard import (
    STEP_UP_SECONDS,
    checked,
    checked_target,
    decode_id,
    organisation,
    owner_of,
    requires,
)
from server.core.nodes import Loaded, node_of, visible_row
from server.core.pagination import Connection, paginate
from server.core.permissions import Permission, Role
from server.oidc import clients as service
from server.oidc.models import OidcClient
from server.tenancy.models import Organisation
from server.tenancy.refs import OrganisationRef

OidcTokenEndpointAuthMethod = strawberry.enum(
    service.AuthMethod,
    name="OidcTokenEndpointAuthMethod",
    description="How a client authenticates at the token and revocation endpoints.",
)


@strawberry.type(description="Who may sign in to a client.")
class OidcAccessRule:
    organisation_ids: strawberry.Private[list[int]]
    roles: list[Role] = strawberry.field(description="Empty: any role.")
    requires_portal_access: bool = strawberry.field(
        description="Only people whose membership holds the portal access grant."
    )

    @strawberry.field(
        description="Organisations whose members may sign in (empty: the whole subtree of "
        "the client's organisation)."
    )
    async def organisations(self, info: Info) -> list[Loaded[OrganisationRef]]:
        loader = info.context.loaders.by_id(Organisation)
        return [await loader.load(pk) for pk in self.organisation_ids]


@strawberry.type(
    name="OidcClient",
    description="A system people sign in to with Frontdesk (an OpenID Connect relying party).",
)
@node_of(OidcClient)
class OidcClientType(relay.Node):
    id: relay.NodeID[int]
    name: str
    client_id: str = strawberry.field(description="The `client_id` the system is configured with.")
    public: bool = strawberry.field(
        description="No secret (a browser or mobile app): PKCE only, `token_endpoint_auth_method` "
        "`none`."
    )
    first_party: bool = strawberry.field(description="Our own system: no consent page.")
    secret_hint: str | None = strawberry.field(
        description="The secret's first characters, to tell secrets apart (null: no secret)."
    )
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    created_at: datetime
    updated_at: datetime

    @strawberry.field(
        description="CLIENT_SECRET: `client_secret_basic` or `client_secret_post`; "
        "PRIVATE_KEY_JWT: a JWT signed with one of its `jwks` keys; NONE: a public client."
    )
    @staticmethod
    def token_endpoint_auth_method(row: strawberry.Parent[OidcClient]) -> service.AuthMethod:
        return service.AuthMethod(row.auth_method)

    @strawberry.field(
        description="PRIVATE_KEY_JWT: its public JSON Web Key Set (public keys only); "
        "otherwise null."
    )
    @staticmethod
    def jwks(row: strawberry.Parent[OidcClient]) -> JSON | None:
        return cast(JSON | None, row.jwks)

    @strawberry.field(description="What its access tokens may do in /graphql at most.")
    @staticmethod
    def api_permissions(row: strawberry.Parent[OidcClient]) -> list[Permission]:
        return [Permission(p) for p in row.api_permissions]

    @strawberry.field
    @staticmethod
    def access_rule(row: strawberry.Parent[OidcClient]) -> OidcAccessRule:
        return OidcAccessRule(
            organisation_ids=list(row.access_organisation_ids),
            roles=[Role(r) for r in row.access_roles],
            requires_portal_access=row.access_requires_portal_grant,
        )

    @strawberry.field
    @staticmethod
    async def organisation(
        row: strawberry.Parent[OidcClient], info: Info
    ) -> Loaded[OrganisationRef]:
        return await info.context.loaders.by_id(Organisation).load(row.organisation_id)

    @strawberry.field
    @staticmethod
    async def created_by(row: strawberry.Parent[OidcClient], info: Info) -> UserNode | None:
        return await visible_row(info, User, row.created_by_id)


if TYPE_CHECKING:
    OidcClientNode: TypeAlias = OidcClient  # the value is the row (core/nodes.py)
else:
    OidcClientNode = OidcClientType


@strawberry.input(description="Who may sign in; every part narrows it.")
class OidcAccessRuleInput:
    organisation_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Organisations of the client's subtree (empty: all of it).",
    )
    roles: list[Role] = strawberry.field(default_factory=list, description="Empty: any role.")
    requires_portal_access: bool = False


@strawberry.input
class CreateOidcClientInput:
    organisation_id: strawberry.ID
    name: str
    redirect_uris: list[str] = strawberry.field(description="Compared exactly; no wildcards.")
    public: bool = strawberry.field(default=False, description="No secret: PKCE only.")
    first_party: bool = strawberry.field(default=False, description="Skip the consent page.")
    post_logout_redirect_uris: list[str] = strawberry.field(default_factory=list)
    api_permissions: list[Permission] = strawberry.field(
        default_factory=list,
        description="Permissions its access tokens may request as `api:<PERMISSION>` scopes.",
    )
    access_rule: OidcAccessRuleInput | None = None
    token_endpoint_auth_method: service.AuthMethod | None = strawberry.field(
        default=None,
        description="Left out: NONE for a public client, CLIENT_SECRET otherwise. "
        "PRIVATE_KEY_JWT needs `jwks` and gives no secret.",
    )
    jwks: JSON | None = strawberry.field(
        default=None,
        description='PRIVATE_KEY_JWT: the client\'s public keys, `{"keys": [...]}` (RSA of '
        "2048 bits or more, EC P-256 or Ed25519; a kid each when more than one). "
        "Private key material is refused.",
    )


@strawberry.input(description="What to change; fields left out stay as they are.")
class UpdateOidcClientInput:
    oidc_client_id: strawberry.ID
    name: str | None = strawberry.UNSET
    redirect_uris: list[str] | None = strawberry.UNSET
    post_logout_redirect_uris: list[str] | None = strawberry.UNSET
    first_party: bool | None = strawberry.UNSET
    api_permissions: list[Permission] | None = strawberry.UNSET
    access_rule: OidcAccessRuleInput | None = strawberry.UNSET
    token_endpoint_auth_method: service.AuthMethod | None = strawberry.field(
        default=strawberry.UNSET,
        description="Only from CLIENT_SECRET to PRIVATE_KEY_JWT (with `jwks`): the secret "
        "stops at once.",
    )
    jwks: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="PRIVATE_KEY_JWT: the new public key set (replaces the old one).",
    )


@strawberry.input
class OidcClientInput:
    oidc_client_id: strawberry.ID


@strawberry.type
class OidcClientPayload(Payload):
    oidc_client: OidcClientNode | None = None


@strawberry.type
class OidcClientSecretPayload(Payload):
    client_secret: str | None = strawberry.field(
        default=None, description="The secret (`fdcs_…`). Shown this once only: store it now."
    )
    oidc_client: OidcClientNode | None = None


@strawberry.type
class DeleteOidcClientPayload(Payload):
    deleted_oidc_client_id: strawberry.ID | None = None


def _given(value: object) -> bool:
    return value is not None and value is not strawberry.UNSET


def _json(value: object) -> Any:
    return value if _given(value) else None


async def _access(rule: OidcAccessRuleInput | None) -> service.AccessRule:
    if rule is None:
        return service.AccessRule(organisations=[], roles=[], requires_portal_access=False)
    field = "accessRule.organisationIds"
    ids = [decode_id(value, "Organisation", field) for value in rule.organisation_ids]
    found = await service.load_access_organisations(ids)
    if len(found) != len(set(ids)):
        raise not_found(field, "organisation")
    return service.AccessRule(
        organisations=found,
        roles=list(rule.roles),
        requires_portal_access=rule.requires_portal_access,
    )


def _managing_the_client(recent_auth: int | None = None) -> list[FieldExtension]:
    """OIDC_CLIENTS_MANAGE in the client's organisation, by a person signed in
    (never through an API token or an impersonation). A new guard per field: an
    extension instance belongs to one field."""
    return [
        requires(
            Permission.OIDC_CLIENTS_MANAGE,
            on=owner_of("input.oidc_client_id", OidcClient),
            recent_auth=recent_auth,
            impersonation=False,
            api_tokens=False,
        )
    ]


@strawberry.type
class Query:
    @strawberry.field(
        description="The OpenID Connect clients registered by the organisation.",
        extensions=[
            requires(
                Permission.OIDC_CLIENTS_MANAGE,
                on=organisation("organisation_id"),
            )
        ],
    )
    async def oidc_clients(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[OidcClientNode]:
        owner = checked(info).organisation
        return await paginate(service.clients_of(owner), first=first, after=after)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register a system people sign in to with Frontdesk (OpenID Connect). "
        "A provider or reseller only; the secret is shown this once.",
        extensions=[
            requires(
                Permission.OIDC_CLIENTS_MANAGE,
                on=organisation("input.organisation_id"),
                recent_auth=STEP_UP_SECONDS,
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def create_oidc_client(
        self, info: Info, input: CreateOidcClientInput
    ) -> OidcClientSecretPayload:
        client, secret = await service.create(
            actor=info.context.require_actor(),
            owner=checked(info).organisation,
            name=input.name,
            public=input.public,
            first_party=input.first_party,
            redirect_uris=input.redirect_uris,
            post_logout_redirect_uris=input.post_logout_redirect_uris,
            api_permissions=input.api_permissions,
            access=await _access(input.access_rule),
            auth_method=input.token_endpoint_auth_method,
            jwks=input.jwks,
        )
        return OidcClientSecretPayload(client_secret=secret, oidc_client=client)

    @strawberry.mutation(
        description="Change a client: its name, addresses, consent, API permissions, access rule.",
        extensions=_managing_the_client(recent_auth=STEP_UP_SECONDS),
    )
    async def update_oidc_client(
        self, info: Info, input: UpdateOidcClientInput
    ) -> OidcClientPayload:
        changes = service.Changes(
            name=input.name if _given(input.name) else None,
            redirect_uris=input.redirect_uris if _given(input.redirect_uris) else None,
            post_logout_redirect_uris=input.post_logout_redirect_uris
            if _given(input.post_logout_redirect_uris)
            else None,
            first_party=input.first_party if _given(input.first_party) else None,
            api_permissions=input.api_permissions if _given(input.api_permissions) else None,
            access=await _access(input.access_rule) if _given(input.access_rule) else None,
            auth_method=input.token_endpoint_auth_method
            if _given(input.token_endpoint_auth_method)
            else None,
            jwks=_json(input.jwks),
        )
        client = await service.update(
            actor=info.context.require_actor(),
            client=checked_target(info, OidcClient),
            changes=changes,
        )
        return OidcClientPayload(oidc_client=client)

    @strawberry.mutation(
        description="A new secret for a confidential client; the old one stops at once.",
        extensions=_managing_the_client(recent_auth=STEP_UP_SECONDS),
    )
    async def rotate_oidc_client_secret(
        self, info: Info, input: OidcClientInput
    ) -> OidcClientSecretPayload:
        client = checked_target(info, OidcClient)
        secret = await service.rotate_secret(actor=info.context.require_actor(), client=client)
        return OidcClientSecretPayload(client_secret=secret, oidc_client=client)

    @strawberry.mutation(
        description="Remove a client: its tokens stop working at once.",
        extensions=_managing_the_client(),
    )
    async def delete_oidc_client(
        self, info: Info, input: OidcClientInput
    ) -> DeleteOidcClientPayload:
        await service.delete(
            actor=info.context.require_actor(), client=checked_target(info, OidcClient)
        )
        return DeleteOidcClientPayload(deleted_oidc_client_id=input.oidc_client_id)
