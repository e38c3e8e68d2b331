"""Signing keys for ID tokens (ES256, joserfc). The private half is kept
encrypted with the server key (core/encryption.py, as TOTP seeds are). The
newest key that is not retired signs; `rotate` retires it, and a retired key
stays in the JWKS until every ID token it signed has expired."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.core import clock
from server.core.encryption import decrypt, encrypt
from server.oidc.models import OidcSigningKey

ALGORITHM = "ES256"
# How long an ID token is valid: a retired key is published this long after retirement.
ID_TOKEN_LIFETIME = timedelta(minutes=10)


def _new_row_values() -> dict[str, Any]:
    kid = secrets.token_urlsafe(12)
    key = ECKey.generate_key(
        "P-256", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}, private=True
    )
    return {
        "kid": kid,
        "private_jwk": encrypt(json.dumps(key.as_dict(private=True))),
        "public_jwk": key.as_dict(private=False),
        "created_at": clock.now(),
    }


async def current_key() -> OidcSigningKey:
    """The key that signs now (the first one is made on first use)."""
    key = await OidcSigningKey.filter(retired_at__isnull=True).order_by("-id").first()
    if key is None:
        key = await OidcSigningKey.create(**_new_row_values())
    return key


async def rotate() -> OidcSigningKey:
    """A new signing key; the ones before it are retired but stay published
    until the ID tokens they signed have expired."""
    now = clock.now()
    async with in_transaction():
        await OidcSigningKey.filter(retired_at__isnull=True).update(
            retired_at=now, published_until=now + ID_TOKEN_LIFETIME
        )
        return await OidcSigningKey.create(**_new_row_values())


async def published_keys() -> list[OidcSigningKey]:
    now = clock.now()
    await current_key()
    return (
        await OidcSigningKey.filter(Q(retired_at__isnull=True) | Q(published_until__gt=now))
        .order_by("-id")
        .all()
    )


async def jwks() -> dict[str, Any]:
    """The JSON Web Key Set relying parties verify ID tokens with (public halves only)."""
    return {"keys": [dict(row.public_jwk) for row in await published_keys()]}


async def sign(claims: dict[str, Any]) -> str:
    row = await current_key()
    private = ECKey.import_key(json.loads(decrypt(row.private_jwk)))
    return jwt.encode({"alg": ALGORITHM, "kid": row.kid, "typ": "JWT"}, claims, private)


async def verified_claims(token: str) -> dict[str, Any] | None:
    """The claims of an ID token we signed with a published key (expiry not checked:
    an `id_token_hint` may have expired); None if it is not ours."""
    published: list[dict[str, Any]] = [dict(row.public_jwk) for row in await published_keys()]
    keys = KeySet.import_key_set({"keys": published})
    try:
        decoded = jwt.decode(token, keys, algorithms=[ALGORITHM])
    except Exception:  # noqa: BLE001 - any malformed or foreign token is simply not ours
        return None
    return dict(decoded.claims)
