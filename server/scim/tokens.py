"""SCIM tokens: the secrets identity providers send to /scim/v2/.

The rule (the principal is `core.principals.ScimTokenGrant`): a SCIM token
provisions people into its one organisation, with its creator's rights there
cut down to managing members, and never beyond what the creator may do *now*
(demote or remove them and the token can do nothing more). It needs no recent
sign-in to use, so it never grants OWNER or ADMIN: people it creates are
MEMBERs. It is no API token: /graphql does not take it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.models import Membership, UserStatus, usable_memberships
from server.audit import service as audit
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.errors import DomainError, ErrorCode, not_found
from server.core.principals import ScimTokenGrant
from server.core.tokens import hash_token, new_token
from server.core.validation import clean_text
from server.scim.models import ScimToken
from server.tenancy.models import Organisation, ScimNewPeople

TOKEN_PREFIX = "fdscim_"  # noqa: S105 - a prefix, not a secret
MAX_LIFETIME = timedelta(days=366)
# Write last_used_at at most this often.
_TOUCH_EVERY = timedelta(seconds=60)


async def actor_for_scim_token(raw: str, meta: RequestMeta) -> Actor | None:
    """The actor of a live SCIM token, its memberships loaded; None otherwise."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = await ScimToken.get_or_none(token_hash=hash_token(raw)).select_related(
        "organisation", "created_by"
    )
    now = clock.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    creator = token.created_by
    if creator is None or creator.status is not UserStatus.ACTIVE:
        return None
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
        await ScimToken.filter(id=token.id).update(last_used_at=now)

    async def load() -> tuple[list[Membership], list[Membership]]:
        return await usable_memberships(creator.id), []

    grant = ScimTokenGrant(scim_token=token, scope_path=token.organisation.path)
    return await Actor(user=creator, principal=grant, load=load, meta=meta).load_memberships()


async def create(
    *, actor: Actor, organisation: Organisation, name: str, expires_at: datetime
) -> tuple[str, ScimToken]:
    """A new token; the secret is returned once and only its hash is kept."""
    name = clean_text(name, field="name", required=True)
    now = clock.now()
    if expires_at.tzinfo is None or expires_at <= now or expires_at > now + MAX_LIFETIME:
        raise DomainError(
            ErrorCode.INVALID,
            "Choose an expiry (with a time zone) in the future, at most a year ahead.",
            "expiresAt",
        )
    raw, digest = new_token(TOKEN_PREFIX)
    async with in_transaction():
        token = await ScimToken.create(
            organisation=organisation,
            name=name,
            token_hash=digest,
            hint=raw[: len(TOKEN_PREFIX) + 6],
            created_by=actor.user,
            created_at=now,
            expires_at=expires_at,
        )
        await audit.record(
            "scim_token.created",
            actor=actor,
            organisation_id=organisation.id,
            target=token,
            details={"expiresAt": expires_at.isoformat()},
        )
    return raw, token


def tokens_of(organisation: Organisation) -> QuerySet[ScimToken]:
    return ScimToken.filter(organisation_id=organisation.id).order_by("id")


async def revoke(*, actor: Actor, token_id: int) -> ScimToken:
    token = await ScimToken.get_or_none(id=token_id)
    if token is None:
        raise not_found("scimTokenId", "SCIM token")
    if token.revoked_at is None:
        async with in_transaction():
            token.revoked_at = clock.now()
            await token.save(update_fields=["revoked_at"])
            await audit.record(
                "scim_token.revoked",
                actor=actor,
                organisation_id=token.organisation_id,
                target=token,
            )
    return token


async def set_new_people(
    *, actor: Actor, organisation: Organisation, new_people: ScimNewPeople
) -> Organisation:
    """How people a SCIM client creates join: invited, or active with a set-password link."""
    before = organisation.scim_new_people
    if before is new_people:
        return organisation
    async with in_transaction():
        organisation.scim_new_people = new_people
        await organisation.save(update_fields=["scim_new_people", "updated_at"])
        await audit.record(
            "scim.settings_changed",
            actor=actor,
            organisation_id=organisation.id,
            target=organisation,
            details={
                "before": {"newPeople": before.value},
                "after": {"newPeople": new_people.value},
            },
        )
    return organisation
