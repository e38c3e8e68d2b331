"""API tokens: organisation-scoped secrets for integrations.

The rule (the principal is `core.principals.ApiTokenGrant`): a token acts with
its creator's rights, narrowed to the token's organisation (and its
descendants) and to the permissions chosen at creation — never beyond what
the creator may do *now*, and never anything that belongs to the person
(their profile, sessions, credentials, own tickets or phone). Demote the
creator and their tokens shrink with them; disable or remove the creator's
membership and the tokens it made are revoked for good. A token may do what
needs a recent sign-in (granting OWNER, webhooks) only when created as
`privileged`, which itself needs a recent sign-in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.models import Membership, UserStatus, usable_memberships
from server.api_tokens.models import ApiToken
from server.audit import service as audit
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.errors import DomainError, ErrorCode, not_found
from server.core.permissions import Permission
from server.core.principals import ApiTokenGrant
from server.core.subtree import subtree
from server.core.tokens import hash_token, new_token
from server.core.validation import clean_text
from server.tenancy.models import Organisation

TOKEN_PREFIX = "fdt_"  # noqa: S105 - a prefix, not a secret
MAX_LIFETIME = timedelta(days=366)
# Write last_used_at at most this often.
_TOUCH_EVERY = timedelta(seconds=60)


async def actor_for_api_token(raw: str, meta: RequestMeta) -> Actor | None:
    token = await ApiToken.get_or_none(token_hash=hash_token(raw)).select_related(
        "organisation", "created_by"
    )
    now = clock.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    creator = token.created_by
    if creator is None or creator.status is not UserStatus.ACTIVE:
        return None
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
        await ApiToken.filter(id=token.id).update(last_used_at=now)

    async def load() -> tuple[list[Membership], list[Membership]]:
        return await usable_memberships(creator.id), []

    grant = ApiTokenGrant(
        token=token,
        scope_path=token.organisation.path,
        granted=frozenset(Permission(p) for p in token.permissions),
    )
    return Actor(user=creator, principal=grant, load=load, meta=meta)


async def create(
    *,
    actor: Actor,
    organisation: Organisation,
    name: str,
    permissions: list[Permission],
    expires_at: datetime,
    privileged: bool = False,
    restricted_to_trusted_documents: bool = False,
) -> tuple[str, ApiToken]:
    """A new token; the secret is returned once and only its hash is kept."""
    name = clean_text(name, field="name", required=True)
    if not permissions:
        raise DomainError(ErrorCode.REQUIRED, "Choose at least one permission.", "permissions")
    held = actor.permissions_in(organisation)
    beyond = [p.value for p in permissions if p not in held]
    if beyond:
        raise DomainError(
            ErrorCode.OUT_OF_SCOPE_PERMISSION,
            f"You cannot give a token what you do not hold: {', '.join(beyond)}.",
            "permissions",
        )
    now = clock.now()
    if expires_at.tzinfo is None or expires_at <= now or expires_at > now + MAX_LIFETIME:
        raise DomainError(
            ErrorCode.INVALID,
            "Choose an expiry (with a time zone) in the future, at most a year ahead.",
            "expiresAt",
        )
    raw, digest = new_token(TOKEN_PREFIX)
    async with in_transaction():
        token = await ApiToken.create(
            organisation=organisation,
            name=name,
            token_hash=digest,
            hint=raw[: len(TOKEN_PREFIX) + 6],
            permissions=sorted({p.value for p in permissions}),
            created_by=actor.user,
            created_at=now,
            expires_at=expires_at,
            privileged=privileged,
            restricted_to_trusted_documents=restricted_to_trusted_documents,
        )
        await audit.record(
            "api_token.created",
            actor=actor,
            organisation_id=organisation.id,
            target=token,
            details={
                "permissions": token.permissions,
                "expiresAt": expires_at.isoformat(),
                "privileged": privileged,
                "restrictedToTrustedDocuments": restricted_to_trusted_documents,
            },
        )
    return raw, token


def tokens_of(organisation: Organisation) -> QuerySet[ApiToken]:
    return ApiToken.filter(organisation_id=organisation.id)


async def revoke(*, actor: Actor, token_id: int) -> ApiToken:
    token = await ApiToken.get_or_none(id=token_id)
    if token is None:
        raise not_found("apiTokenId", "API token")
    if token.revoked_at is None:
        async with in_transaction():
            token.revoked_at = clock.now()
            await token.save(update_fields=["revoked_at"])
            await audit.record(
                "api_token.revoked",
                actor=actor,
                organisation_id=token.organisation_id,
                target=token,
            )
    return token


async def revoke_made_through(*, actor: Actor, membership: Membership) -> int:
    """Revoke for good the tokens a person made in a membership's organisation
    (or below it) when that membership is disabled or removed: enabling them
    again later does not bring the tokens back. Returns how many."""
    organisation = await Organisation.get(id=membership.organisation_id)
    tokens = await ApiToken.filter(
        subtree(organisation.path, "organisation__"),
        created_by_id=membership.user_id,
        revoked_at=None,
    )
    now = clock.now()
    for token in tokens:
        token.revoked_at = now
        await token.save(update_fields=["revoked_at"])
        await audit.record(
            "api_token.revoked",
            actor=actor,
            organisation_id=token.organisation_id,
            target=token,
            details={"reason": "creator_disabled_or_removed"},
        )
    return len(tokens)
