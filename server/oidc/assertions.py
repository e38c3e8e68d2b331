"""`private_key_jwt` client authentication (RFC 7523 §2.2, OpenID Connect Core §9).

A confidential client registered with its public JSON Web Key Set signs a
short JWT with its private key and sends it as `client_assertion` (type
`urn:ietf:params:oauth:client-assertion-type:jwt-bearer`) instead of a secret.
We hold no secret of it at all: only public keys, checked when registered.

The assertion must be signed with one of the client's keys by an allowed
asymmetric algorithm (never `none`, never an HMAC keyed with a public key);
`iss` and `sub` are the client_id; `aud` names the token endpoint, the
endpoint called, or the issuer; `exp` is required and at most five minutes
away (with `iat`, the whole lifetime at most five minutes); `jti` is required
and single use: it is kept (as its SHA-256) until the assertion expires.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import extract_compact
from tortoise.exceptions import IntegrityError

from server.core import clock
from server.core.errors import DomainError, ErrorCode
from server.oidc.discovery import ASSERTION_ALGORITHMS
from server.oidc.models import OidcClient, OidcUsedAssertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Asymmetric only (discovery publishes them). "EdDSA": the older name of Ed25519 (RFC 9864).
ALGORITHMS = ASSERTION_ALGORITHMS
MAX_LIFETIME = timedelta(minutes=5)
MAX_KEYS = 5
MIN_RSA_BITS = 2048
_MAX_ASSERTION = 8000
# A client's clock a little ahead of ours (nbf "now" by its clock) is no error.
_LEEWAY = 30
# Members that only a private or symmetric key has (RFC 7518 §6.2.2, 6.3.2, 6.4; RFC 8037).
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_ALGS_FOR = {
    "RSA": ("RS256", "PS256"),
    "EC": ("ES256",),
    "OKP": ("Ed25519", "EdDSA"),
}


class AssertionRefused(Exception):
    """The assertion does not authenticate the client (invalid_client)."""


def _field_error(message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID, message, "jwks")


def _check_key(raw: Any, position: int) -> dict[str, Any]:
    where = f"Key {position + 1}"
    if not isinstance(raw, dict):
        raise _field_error(f"{where} is not a JSON object.")
    private = [m for m in _PRIVATE_MEMBERS if m in raw]
    if private:
        raise _field_error(
            f"{where} holds private or secret key material ({', '.join(private)}): "
            "give the public key only."
        )
    kty = raw.get("kty")
    if kty not in _ALGS_FOR:
        raise _field_error(f"{where}: kty must be RSA, EC or OKP (got {kty!r}).")
    alg = raw.get("alg")
    if alg is not None and alg not in _ALGS_FOR[kty]:
        raise _field_error(
            f"{where}: alg {alg!r} is not allowed for a {kty} key "
            f"(use {' or '.join(_ALGS_FOR[kty])})."
        )
    if raw.get("use", "sig") != "sig":
        raise _field_error(f"{where}: use must be sig.")
    kid = raw.get("kid")
    if kid is not None and (not isinstance(kid, str) or not 0 < len(kid) <= 200):
        raise _field_error(f"{where}: kid must be a short string.")
    try:
        if kty == "RSA":
            rsa = RSAKey.import_key(raw)
            if rsa.raw_value.key_size < MIN_RSA_BITS:
                raise _field_error(f"{where}: an RSA key needs at least {MIN_RSA_BITS} bits.")
            public = rsa.as_dict(private=False)
        elif kty == "EC":
            if raw.get("crv") != "P-256":
                raise _field_error(f"{where}: an EC key must be on the curve P-256 (ES256).")
            public = ECKey.import_key(raw).as_dict(private=False)
        else:
            if raw.get("crv") != "Ed25519":
                raise _field_error(f"{where}: an OKP key must be Ed25519.")
            public = OKPKey.import_key(raw).as_dict(private=False)
    except (JoseError, ValueError, TypeError, KeyError):
        raise _field_error(f"{where} is not a valid {kty} public key.") from None
    for member in ("kid", "alg", "use"):
        if member in raw:
            public[member] = raw[member]
    return dict(public)


def check_jwks(value: Any) -> dict[str, list[dict[str, Any]]]:
    """A client's public key set as it will be stored: `{"keys": [...]}` with
    1 to 5 RSA (≥ 2048 bits), EC P-256 or Ed25519 public keys, kids unique."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _field_error("This is not JSON.") from None
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list):
        raise _field_error('Give a JSON Web Key Set: {"keys": [ … ]}.')
    raw_keys: list[Any] = value["keys"]
    if not raw_keys:
        raise DomainError(ErrorCode.REQUIRED, "Give at least one public key.", "jwks")
    if len(raw_keys) > MAX_KEYS:
        raise _field_error(f"At most {MAX_KEYS} keys.")
    keys = [_check_key(raw, i) for i, raw in enumerate(raw_keys)]
    kids = [k["kid"] for k in keys if "kid" in k]
    if len(kids) != len(set(kids)):
        raise _field_error("Two keys have the same kid.")
    if len(keys) > 1 and len(kids) != len(keys):
        raise _field_error("With more than one key, give each a kid.")
    return {"keys": keys}


def _import(jwk: dict[str, Any]) -> RSAKey | ECKey | OKPKey:
    kty = jwk["kty"]
    if kty == "RSA":
        return RSAKey.import_key(jwk)
    if kty == "EC":
        return ECKey.import_key(jwk)
    return OKPKey.import_key(jwk)


def unverified_subject(assertion: str) -> str:
    """Who the assertion says it is (`sub`, else `iss`), read before verifying it
    to find the client whose keys verify it."""
    if len(assertion) > _MAX_ASSERTION:
        raise AssertionRefused("The client assertion is too long.")
    try:
        claims = json.loads(extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, UnicodeDecodeError):
        raise AssertionRefused("The client assertion is not a signed JWT.") from None
    if not isinstance(claims, dict):
        raise AssertionRefused("The client assertion has no claims.")
    subject = claims.get("sub", claims.get("iss"))
    if not isinstance(subject, str) or not subject:
        raise AssertionRefused("The client assertion names no client (sub).")
    return subject


def _verified(assertion: str, client: OidcClient) -> dict[str, Any]:
    try:
        header = extract_compact(assertion.encode()).protected
    except (JoseError, ValueError, UnicodeDecodeError):
        raise AssertionRefused("The client assertion is not a signed JWT.") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise AssertionRefused(f"The assertion's alg must be one of {', '.join(ALGORITHMS)}.")
    kid = header.get("kid")
    candidates = [
        k
        for k in (client.jwks or {}).get("keys", [])
        if alg in _ALGS_FOR[k["kty"]]
        and k.get("alg", alg) == alg
        and (kid is None or k.get("kid") == kid)
    ]
    for jwk in candidates:
        try:
            with warnings.catch_warnings():
                # "EdDSA is deprecated": accepted as the name clients still send.
                warnings.simplefilter("ignore")
                decoded = jwt.decode(assertion, _import(jwk), algorithms=[alg])
        except (JoseError, ValueError, TypeError):
            continue
        return dict(decoded.claims)
    raise AssertionRefused("The client assertion's signature does not verify.")


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AssertionRefused(f"{name} must be a number.")
    return float(value)


async def authenticate(client: OidcClient, assertion: str, audiences: tuple[str, ...]) -> None:
    """Verifies the assertion for this client and spends its jti; raises
    AssertionRefused when it does not authenticate the client."""
    if client.public or client.jwks is None:
        raise AssertionRefused("This client does not authenticate with private_key_jwt.")
    claims = _verified(assertion, client)
    if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
        raise AssertionRefused("iss and sub must both be the client_id.")
    aud = claims.get("aud")
    given = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(a in audiences for a in given if isinstance(a, str)):
        raise AssertionRefused("aud must be the token endpoint's URL (or the issuer).")
    now = clock.now()
    stamp = now.timestamp()
    exp, iat, nbf = _number(claims, "exp"), _number(claims, "iat"), _number(claims, "nbf")
    if exp is None:
        raise AssertionRefused("exp is required.")
    if exp <= stamp:
        raise AssertionRefused("The client assertion has expired.")
    limit = MAX_LIFETIME.total_seconds()
    if exp - stamp > limit or (iat is not None and exp - iat > limit):
        raise AssertionRefused("The client assertion may live at most 5 minutes.")
    if nbf is not None and nbf > stamp + _LEEWAY:
        raise AssertionRefused("The client assertion is not valid yet.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise AssertionRefused("jti is required (a unique string).")
    digest = hashlib.sha256(jti.encode()).hexdigest()
    await OidcUsedAssertion.filter(expires_at__lt=now).delete()
    try:
        await OidcUsedAssertion.create(
            client_id=client.id,
            jti_hash=digest,
            expires_at=datetime.fromtimestamp(exp, UTC),
            created_at=now,
        )
    except IntegrityError:
        raise AssertionRefused("This client assertion was used before (jti).") from None
