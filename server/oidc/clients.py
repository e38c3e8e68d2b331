"""OpenID Connect clients (relying parties): registered by a provider's or a
reseller's owners and admins (OIDC_CLIENTS_MANAGE), for their own subtree.

- A confidential client gets a secret, shown once and kept as its SHA-256 (it is
  256 random bits); a public client (a single-page or mobile app) has none and
  must use PKCE, which every client must anyway.
- A confidential client may instead register its public JSON Web Key Set and
  authenticate with `private_key_jwt` (server/oidc/assertions.py): then it has
  no secret at all, and only public keys are stored.
- Redirect URIs are compared exactly: no wildcards, no fragments, https (or
  http on a loopback address, for development).
- The access rule says who may sign in to it: people with an active membership
  in one of its organisations (empty: anywhere in the owner's subtree), with
  one of its roles (empty: any), holding the "portal access" grant if it asks.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.core import clock
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode, not_found
from server.core.permissions import Permission, Role
from server.core.tokens import hash_token
from server.core.validation import clean_text
from server.oidc.assertions import check_jwks
from server.oidc.models import OidcClient
from server.tenancy.models import Organisation, OrganisationKind

CLIENT_ID_PREFIX = "fdc_"
SECRET_PREFIX = "fdcs_"  # noqa: S105 - a prefix, not a secret
MAX_URIS = 10
MAX_URI_LENGTH = 2000
_LOOPBACK_NAMES = {"localhost"}


class AuthMethod(Enum):
    """How a client authenticates at the token and revocation endpoints."""

    CLIENT_SECRET = "client_secret"  # noqa: S105 - client_secret_basic or client_secret_post
    PRIVATE_KEY_JWT = "private_key_jwt"
    NONE = "none"  # a public client


@dataclass(frozen=True)
class AccessRule:
    organisations: list[Organisation]
    roles: list[Role]
    requires_portal_access: bool


@dataclass(frozen=True)
class Changes:
    """What an update changes; None leaves it as it is."""

    name: str | None = None
    redirect_uris: list[str] | None = None
    post_logout_redirect_uris: list[str] | None = None
    first_party: bool | None = None
    api_permissions: list[Permission] | None = None
    access: AccessRule | None = None
    auth_method: AuthMethod | None = None
    jwks: Any = None


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri: str, field: str) -> str:
    """An absolute URI compared exactly later: https, or http on loopback; no
    fragment, no wildcard, no user information."""
    uri = uri.strip()
    if not uri or len(uri) > MAX_URI_LENGTH or any(ord(c) < 33 or ord(c) == 127 for c in uri):
        raise DomainError(ErrorCode.INVALID, "Give absolute addresses without spaces.", field)
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise DomainError(ErrorCode.INVALID, "This is not a valid address.", field) from None
    if "*" in uri:
        raise DomainError(
            ErrorCode.INVALID, "Wildcards are not allowed: list each address exactly.", field
        )
    if parts.fragment or "#" in uri:
        raise DomainError(ErrorCode.INVALID, "A redirect address has no fragment (#…).", field)
    if not host or parts.username is not None or parts.password is not None:
        raise DomainError(ErrorCode.INVALID, "Give an absolute address with a host.", field)
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(host)):
        raise DomainError(
            ErrorCode.INVALID,
            "Use https (http only for localhost, for development).",
            field,
        )
    return uri


def check_redirect_uris(uris: Iterable[str], field: str, *, required: bool) -> list[str]:
    cleaned: list[str] = []
    for uri in uris:
        checked = check_redirect_uri(uri, field)
        if checked not in cleaned:
            cleaned.append(checked)
    if required and not cleaned:
        raise DomainError(ErrorCode.REQUIRED, "Give at least one redirect address.", field)
    if len(cleaned) > MAX_URIS:
        raise DomainError(ErrorCode.INVALID, f"At most {MAX_URIS} addresses.", field)
    return cleaned


def check_access(owner: Organisation, access: AccessRule) -> None:
    """The rule's organisations must lie in the owner's subtree."""
    for organisation in access.organisations:
        if not organisation.is_within(owner.path):
            raise not_found("accessRule.organisationIds", "organisation")


def _apply_access(client: OidcClient, access: AccessRule) -> None:
    client.access_organisation_ids = sorted({o.id for o in access.organisations})
    client.access_roles = sorted({r.value for r in access.roles})
    client.access_requires_portal_grant = access.requires_portal_access


def _new_secret() -> tuple[str, str, str]:
    raw = SECRET_PREFIX + secrets.token_urlsafe(32)
    return raw, hash_token(raw), raw[: len(SECRET_PREFIX) + 4]


async def create(
    *,
    actor: Actor,
    owner: Organisation,
    name: str,
    public: bool,
    first_party: bool,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    api_permissions: list[Permission],
    access: AccessRule,
    auth_method: AuthMethod | None = None,
    jwks: Any = None,
) -> tuple[OidcClient, str | None]:
    """A new client and its secret (None for a public or a private_key_jwt
    client), shown this once."""
    if owner.kind is OrganisationKind.CUSTOMER:
        raise DomainError(
            ErrorCode.NOT_RESELLER,
            "Only a provider or a reseller registers clients.",
            "organisationId",
        )
    name = clean_text(name, field="name", required=True)
    uris = check_redirect_uris(redirect_uris, "redirectUris", required=True)
    logout_uris = check_redirect_uris(
        post_logout_redirect_uris, "postLogoutRedirectUris", required=False
    )
    check_access(owner, access)
    method = auth_method or (AuthMethod.NONE if public else AuthMethod.CLIENT_SECRET)
    if public != (method is AuthMethod.NONE):
        raise DomainError(
            ErrorCode.INVALID,
            "A public client authenticates with none; a confidential one with a secret or "
            "private_key_jwt.",
            "tokenEndpointAuthMethod",
        )
    keys = _keys_for(method, jwks)
    with_secret = method is AuthMethod.CLIENT_SECRET
    secret, digest, hint = _new_secret() if with_secret else (None, None, None)
    now = clock.now()
    client = OidcClient(
        organisation=owner,
        name=name,
        client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(16),
        secret_hash=digest,
        secret_hint=hint,
        public=public,
        first_party=first_party,
        redirect_uris=uris,
        post_logout_redirect_uris=logout_uris,
        api_permissions=sorted({p.value for p in api_permissions}),
        jwks=keys,
        created_by=actor.user,
        created_at=now,
        updated_at=now,
    )
    _apply_access(client, access)
    async with in_transaction():
        await client.save()
        await audit.record(
            "oidc_client.created",
            actor=actor,
            organisation_id=owner.id,
            target=client,
            details={
                "clientId": client.client_id,
                "public": public,
                "firstParty": first_party,
                "authMethod": method.value,
            },
        )
    return client, secret


def _keys_for(method: AuthMethod, jwks: Any) -> dict[str, list[dict[str, Any]]] | None:
    if method is not AuthMethod.PRIVATE_KEY_JWT:
        if jwks is not None:
            raise DomainError(
                ErrorCode.INVALID, "Only a private_key_jwt client has public keys.", "jwks"
            )
        return None
    if jwks is None:
        raise DomainError(
            ErrorCode.REQUIRED, "A private_key_jwt client needs its public keys.", "jwks"
        )
    return check_jwks(jwks)


def _method_change(client: OidcClient, changes: Changes) -> list[str]:
    """Keys given, or a confidential client moving from its secret to
    private_key_jwt (the secret stops at once). Checked before anything changes."""
    current = AuthMethod(client.auth_method)
    method = changes.auth_method or current
    if method is current and changes.jwks is None:
        return []
    if method is not current and not (
        current is AuthMethod.CLIENT_SECRET and method is AuthMethod.PRIVATE_KEY_JWT
    ):
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "A client can move from a secret to private_key_jwt only; register a new "
            "client for any other change of authentication.",
            "tokenEndpointAuthMethod",
        )
    client.jwks = _keys_for(method, changes.jwks if changes.jwks is not None else client.jwks)
    client.secret_hash = client.secret_hint = None
    return ["jwks", "secret_hash", "secret_hint"]


async def update(*, actor: Actor, client: OidcClient, changes: Changes) -> OidcClient:
    fields: list[str] = []
    fields += _method_change(client, changes)
    if changes.name is not None:
        client.name = clean_text(changes.name, field="name", required=True)
        fields.append("name")
    if changes.redirect_uris is not None:
        client.redirect_uris = check_redirect_uris(
            changes.redirect_uris, "redirectUris", required=True
        )
        fields.append("redirect_uris")
    if changes.post_logout_redirect_uris is not None:
        client.post_logout_redirect_uris = check_redirect_uris(
            changes.post_logout_redirect_uris, "postLogoutRedirectUris", required=False
        )
        fields.append("post_logout_redirect_uris")
    if changes.first_party is not None:
        client.first_party = changes.first_party
        fields.append("first_party")
    if changes.api_permissions is not None:
        client.api_permissions = sorted({p.value for p in changes.api_permissions})
        fields.append("api_permissions")
    if changes.access is not None:
        owner = await Organisation.get(id=client.organisation_id)
        check_access(owner, changes.access)
        _apply_access(client, changes.access)
        fields += ["access_organisation_ids", "access_roles", "access_requires_portal_grant"]
    if not fields:
        return client
    client.updated_at = clock.now()
    async with in_transaction():
        await client.save(update_fields=[*fields, "updated_at"])
        await audit.record(
            "oidc_client.updated",
            actor=actor,
            organisation_id=client.organisation_id,
            target=client,
            details={"changed": sorted(fields)},
        )
    return client


async def rotate_secret(*, actor: Actor, client: OidcClient) -> str:
    """A new secret for a confidential client; the old one stops working at once."""
    if client.public:
        raise DomainError(ErrorCode.INVALID_STATE, "A public client has no secret.", "oidcClientId")
    if client.jwks is not None:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "This client authenticates with private_key_jwt and has no secret: change its "
            "public keys instead (updateOidcClient jwks).",
            "oidcClientId",
        )
    secret, digest, hint = _new_secret()
    client.secret_hash, client.secret_hint, client.updated_at = digest, hint, clock.now()
    async with in_transaction():
        await client.save(update_fields=["secret_hash", "secret_hint", "updated_at"])
        await audit.record(
            "oidc_client.secret_rotated",
            actor=actor,
            organisation_id=client.organisation_id,
            target=client,
        )
    return secret


async def delete(*, actor: Actor, client: OidcClient) -> None:
    """Remove the client; its codes, tokens and consents go with it."""
    async with in_transaction():
        await audit.record(
            "oidc_client.deleted",
            actor=actor,
            organisation_id=client.organisation_id,
            target=client,
            details={"clientId": client.client_id},
        )
        await client.delete()


def clients_of(owner: Organisation) -> QuerySet[OidcClient]:
    return OidcClient.filter(organisation_id=owner.id).order_by("id")


async def load_access_organisations(ids: list[int]) -> list[Organisation]:
    return await Organisation.filter(id__in=ids).order_by("id") if ids else []
