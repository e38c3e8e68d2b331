"""What the code flow issues and takes back: authorization codes, access
tokens, refresh tokens (rotated, with reuse detection), ID tokens, subjects.

Every secret here is 256 random bits with a recognisable prefix, kept as its
SHA-256 only. A code lives a minute (FRONTDESK_OIDC_CODE_SECONDS) and is used once; using it again revokes
what it was exchanged for. A refresh token is used once too: each use gives a
new one in the same family, and presenting a used one again revokes the whole
family (someone copied it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from tortoise.transactions import in_transaction

from server.accounts.models import User, UserStatus
from server.audit import service as audit
from server.core import clock
from server.core.actor import RequestMeta
from server.core.tokens import hash_token, new_token
from server.oidc import keys
from server.oidc.discovery import ACR_TWO_FACTOR
from server.oidc.models import OidcAuthorizationCode, OidcClient, OidcSubject, OidcToken
from server.oidc.rules import person_claims, reachable_memberships
from server.settings import get_settings

CODE_PREFIX = "fdac_"
ACCESS_PREFIX = "fdat_"  # noqa: S105 - a prefix, not a secret
REFRESH_PREFIX = "fdrt_"  # noqa: S105 - a prefix, not a secret
ACCESS_LIFETIME = timedelta(minutes=10)
REFRESH_LIFETIME = timedelta(days=30)


class GrantError(Exception):
    """An OAuth error answered by the token endpoint (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


async def subject_of(user: User) -> str:
    """The person's `sub`: made once, random, never the database id."""
    found = await OidcSubject.get_or_none(user_id=user.id)
    if found is None:
        async with in_transaction():
            found = await OidcSubject.get_or_none(user_id=user.id)
            if found is None:
                found = await OidcSubject.create(user=user, subject=secrets.token_urlsafe(24))
    return found.subject


async def issue_code(
    *,
    client: OidcClient,
    user: User,
    redirect_uri: str,
    scope: str,
    nonce: str | None,
    code_challenge: str,
    auth_time: datetime,
    acr: str,
) -> str:
    raw, digest = new_token(CODE_PREFIX)
    now = clock.now()
    await OidcAuthorizationCode.create(
        code_hash=digest,
        client=client,
        user=user,
        redirect_uri=redirect_uri,
        scope=scope,
        nonce=nonce,
        code_challenge=code_challenge,
        auth_time=auth_time,
        acr=acr,
        created_at=now,
        expires_at=now + timedelta(seconds=get_settings().oidc_code_seconds),
    )
    return raw


@dataclass(frozen=True)
class Issued:
    access_token: str
    refresh_token: str
    id_token: str
    scope: str

    def response(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": int(ACCESS_LIFETIME.total_seconds()),
            "refresh_token": self.refresh_token,
            "id_token": self.id_token,
            "scope": self.scope,
        }


async def revoke_family(family: str) -> None:
    await OidcToken.filter(family=family, revoked_at__isnull=True).update(revoked_at=clock.now())


async def _issue(
    *,
    client: OidcClient,
    user: User,
    scope: str,
    auth_time: datetime,
    acr: str,
    family: str,
    nonce: str | None,
    issuer: str,
) -> Issued:
    memberships = await reachable_memberships(
        client, user, "totp" if acr == ACR_TWO_FACTOR else None
    )
    if user.status is not UserStatus.ACTIVE or not memberships:
        await revoke_family(family)
        raise GrantError("invalid_grant", "The person may no longer sign in to this client.")
    now = clock.now()
    access, access_hash = new_token(ACCESS_PREFIX)
    refresh, refresh_hash = new_token(REFRESH_PREFIX)
    for kind, token_hash, lifetime in (
        ("access", access_hash, ACCESS_LIFETIME),
        ("refresh", refresh_hash, REFRESH_LIFETIME),
    ):
        await OidcToken.create(
            token_hash=token_hash,
            kind=kind,
            family=family,
            client=client,
            user=user,
            scope=scope,
            auth_time=auth_time,
            acr=acr,
            created_at=now,
            expires_at=now + lifetime,
        )
    subject = await subject_of(user)
    claims = person_claims(user, subject, set(scope.split()), memberships)
    claims.update(
        {
            "iss": issuer,
            "aud": client.client_id,
            "azp": client.client_id,
            "iat": int(now.timestamp()),
            "exp": int((now + keys.ID_TOKEN_LIFETIME).timestamp()),
            "auth_time": int(auth_time.timestamp()),
            "acr": acr,
            "amr": ["pwd", "mfa"] if acr == ACR_TWO_FACTOR else ["pwd"],
            "at_hash": create_half_hash(access, keys.ALGORITHM).decode(),
        }
    )
    if nonce:
        claims["nonce"] = nonce
    return Issued(access, refresh, await keys.sign(claims), scope)


async def exchange_code(
    *,
    client: OidcClient,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    issuer: str,
    meta: RequestMeta,
) -> Issued:
    """The code's tokens, once. A replayed code revokes what it gave."""
    found = await OidcAuthorizationCode.get_or_none(code_hash=hash_token(code))
    if found is None or found.client_id != client.id:
        raise GrantError("invalid_grant", "The code is not valid.")
    now = clock.now()
    if found.used_at is not None:
        if found.family:
            await revoke_family(found.family)
        raise GrantError("invalid_grant", "The code was used already.")
    if found.expires_at <= now:
        raise GrantError("invalid_grant", "The code has expired.")
    if found.redirect_uri != redirect_uri:
        raise GrantError("invalid_grant", "redirect_uri differs from the authorization request.")
    if not code_verifier:
        raise GrantError("invalid_request", "code_verifier is required (PKCE).")
    if not secrets.compare_digest(create_s256_code_challenge(code_verifier), found.code_challenge):
        raise GrantError("invalid_grant", "code_verifier does not match the code challenge.")
    family = secrets.token_urlsafe(24)
    claimed = await OidcAuthorizationCode.filter(id=found.id, used_at__isnull=True).update(
        used_at=now, family=family
    )
    if claimed != 1:
        raise GrantError("invalid_grant", "The code was used already.")
    user = await User.get(id=found.user_id)
    return await _issue(
        client=client,
        user=user,
        scope=found.scope,
        auth_time=found.auth_time,
        acr=found.acr,
        family=family,
        nonce=found.nonce,
        issuer=issuer,
    )


async def refresh(
    *, client: OidcClient, token: str, scope: str | None, issuer: str, meta: RequestMeta
) -> Issued:
    """New tokens for a refresh token, used once; a second use revokes the family."""
    found = await OidcToken.get_or_none(token_hash=hash_token(token), kind="refresh")
    if found is None or found.client_id != client.id:
        raise GrantError("invalid_grant", "The refresh token is not valid.")
    now = clock.now()
    if found.revoked_at is not None or found.expires_at <= now:
        raise GrantError("invalid_grant", "The refresh token is not valid.")
    granted = found.scope.split()
    wanted = scope.split() if scope else granted
    if not set(wanted) <= set(granted):
        raise GrantError("invalid_scope", "A refresh cannot widen the scope.")
    claimed = 0
    if found.used_at is None:
        claimed = await OidcToken.filter(id=found.id, used_at__isnull=True).update(used_at=now)
    if claimed != 1:
        async with in_transaction():
            await revoke_family(found.family)
            await audit.record(
                "oidc.refresh_reuse_detected",
                meta=meta,
                actor_user_id=found.user_id,
                organisation_id=client.organisation_id,
                target=client,
                subject_user_id=found.user_id,
            )
        raise GrantError("invalid_grant", "The refresh token was used already.")
    user = await User.get(id=found.user_id)
    return await _issue(
        client=client,
        user=user,
        scope=" ".join(wanted),
        auth_time=found.auth_time,
        acr=found.acr,
        family=found.family,
        nonce=None,
        issuer=issuer,
    )


async def live_access_token(raw: str) -> OidcToken | None:
    """The access token's row (client and user loaded) while it is valid."""
    if not raw.startswith(ACCESS_PREFIX):
        return None
    found = await OidcToken.get_or_none(token_hash=hash_token(raw), kind="access").select_related(
        "client", "user"
    )
    if found is None or found.revoked_at is not None or found.expires_at <= clock.now():
        return None
    if found.user.status is not UserStatus.ACTIVE:
        return None
    return found


async def revoke(*, client: OidcClient, token: str) -> None:
    """RFC 7009: a refresh token takes its family with it; someone else's token,
    or an unknown one, changes nothing (and the answer is the same)."""
    found = await OidcToken.get_or_none(token_hash=hash_token(token))
    if found is None or found.client_id != client.id:
        return
    if found.kind == "refresh":
        await revoke_family(found.family)
    else:
        await OidcToken.filter(id=found.id).update(revoked_at=clock.now())


async def end_for(*, client_id: int, user_id: int) -> None:
    """Sign the person out of the client: every token of theirs for it stops."""
    await OidcToken.filter(client_id=client_id, user_id=user_id, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
