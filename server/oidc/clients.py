"""OpenID Connect clients (relying parties): registered by a provider's or a
reseller's owners and admins (OIDC_CLIENTS_MANAGE), for their own subtree.

- A confidential client gets a secret, shown once and kept as its SHA-256 (it is
  256 random bits); a public client (a single-page or mobile app) has none and
  must use PKCE, which every client must anyway.
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
from ipaddress import ip_address
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
from server.oidc.models import OidcClient
from server.tenancy.models import Organisation, OrganisationKind

CLIENT_ID_PREFIX = "fdc_"
SECRET_PREFIX = "fdcs_"  # noqa: S105 - a prefix, not a secret
MAX_URIS = 10
MAX_URI_LENGTH = 2000
_LOOPBACK_NAMES = {"localhost"}


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
) -> tuple[OidcClient, str | None]:
    """A new client and its secret (None for a public client), shown this once."""
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
    secret, digest, hint = _new_secret() if not public else (None, None, None)
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
            details={"clientId": client.client_id, "public": public, "firstParty": first_party},
        )
    return client, secret


async def update(*, actor: Actor, client: OidcClient, changes: Changes) -> OidcClient:
    fields: list[str] = []
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
