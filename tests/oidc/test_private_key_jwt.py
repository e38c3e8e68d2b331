"""private_key_jwt client authentication (RFC 7523, OpenID Connect Core §9):
a client registered with its public keys signs a short, single-use assertion
at the token and revocation endpoints; its keys are checked when registered."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from server.core import clock
from server.oidc.models import OidcClient, OidcUsedAssertion
from tests.oidc.flow import authorize_params, browser_sign_in, code_for, pkce
from tests.oidc.helpers import CREATE_CLIENT, ROTATE_SECRET, RP, UPDATE_CLIENT, client_input

ISSUER = "https://portal.example.test"
TOKEN_URL = ISSUER + "/oidc/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FIELDS = "clientId tokenEndpointAuthMethod jwks secretHint"


def public_set(*keys: Any) -> dict[str, Any]:
    return {"keys": [{**key.as_dict(private=False), "kid": f"k{i}"} for i, key in enumerate(keys)]}


def assertion(
    key: Any,
    client_id: str,
    *,
    alg: str = "ES256",
    aud: Any = TOKEN_URL,
    lifetime: int = 60,
    jti: str | None = None,
    **extra: Any,
) -> str:
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "jti": jti or secrets.token_urlsafe(16),
        **extra,
    }
    return jwt.encode({"alg": alg}, claims, key, algorithms=[alg])


async def register(admin: Any, org_id: int, keys: dict[str, Any], **extra: Any) -> dict[str, Any]:
    payload = await admin.ok(
        CREATE_CLIENT.replace("clientId", FIELDS),
        {
            "input": client_input(
                org_id,
                firstParty=True,
                tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
                jwks=keys,
                **extra,
            )
        },
    )
    return payload


def signed_form(token: str, **values: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": token, **values}


async def code_and_verifier(http: Any, tree: Any, client_id: str) -> tuple[str, str]:
    verifier, challenge = pkce()
    return await code_for(http, authorize_params(client_id, challenge)), verifier


def grant(code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": RP,
        "code_verifier": verifier,
    }


async def test_a_signed_assertion_authenticates_at_token_and_revocation(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    key = ECKey.generate_key("P-256", private=True)
    created = await register(admin, tree.reseller.id, public_set(key))
    assert created["clientSecret"] is None
    client = created["oidcClient"]
    assert client["tokenEndpointAuthMethod"] == "PRIVATE_KEY_JWT"
    assert client["jwks"] == public_set(key) and "d" not in client["jwks"]["keys"][0]
    assert set(client["jwks"]["keys"][0]) == {"kty", "crv", "x", "y", "kid"}
    client_id = client["clientId"]
    row = await OidcClient.get(client_id=client_id)
    assert row.secret_hash is None and row.jwks is not None
    assert not {"d", "p", "q"} & set(row.jwks["keys"][0])

    await browser_sign_in(http, tree["acme.member"].email)
    code, verifier = await code_and_verifier(http, tree, client_id)
    answer = await http.post(
        "/oidc/token", data={**grant(code, verifier), **signed_form(assertion(key, client_id))}
    )
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["id_token"] and tokens["refresh_token"]
    # The issuer is an accepted audience too, and client_id may come along.
    refreshed = await http.post(
        "/oidc/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client_id,
            **signed_form(assertion(key, client_id, aud=[ISSUER])),
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    revoked = await http.post(
        "/oidc/revoke",
        data={
            "token": refreshed.json()["refresh_token"],
            **signed_form(assertion(key, client_id, aud=ISSUER + "/oidc/revoke")),
        },
    )
    assert revoked.status_code == 200
    unsigned = await http.post("/oidc/revoke", data={"token": tokens["access_token"]})
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "invalid_client"


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
@pytest.mark.parametrize(
    "make",
    ["rsa", "ed25519", "eddsa"],
)
async def test_rsa_and_ed25519_keys_work_too(tree, sign_in, http, make):
    admin = await sign_in(tree["reseller.admin"].email)
    if make == "rsa":
        key: Any = RSAKey.generate_key(2048, private=True)
        alg = "PS256"
    else:
        key = OKPKey.generate_key("Ed25519", private=True)
        alg = "Ed25519" if make == "ed25519" else "EdDSA"
    client_id = (await register(admin, tree.reseller.id, public_set(key)))["oidcClient"]["clientId"]
    await browser_sign_in(http, tree["acme.member"].email)
    code, verifier = await code_and_verifier(http, tree, client_id)
    answer = await http.post(
        "/oidc/token",
        data={**grant(code, verifier), **signed_form(assertion(key, client_id, alg=alg))},
    )
    assert answer.status_code == 200, answer.text


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_bad_assertions_are_invalid_client(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    key = ECKey.generate_key("P-256", private=True)
    rsa = RSAKey.generate_key(2048, private=True)
    client_id = await register(admin, tree.reseller.id, public_set(key, rsa) | {})
    client_id = client_id["oidcClient"]["clientId"]
    await browser_sign_in(http, tree["acme.member"].email)
    code, verifier = await code_and_verifier(http, tree, client_id)

    async def token(form: dict[str, str]) -> Any:
        return await http.post("/oidc/token", data={**grant(code, verifier), **form})

    async def refused(form: dict[str, str], error: str = "invalid_client") -> str:
        answer = await token(form)
        assert answer.status_code == (401 if error == "invalid_client" else 400), answer.text
        assert answer.json()["error"] == error
        assert answer.headers["cache-control"] == "no-store"
        return str(answer.json()["error_description"])

    now = int(clock.now().timestamp())
    other = ECKey.generate_key("P-256", private=True)
    assert "aud" in await refused(
        signed_form(assertion(key, client_id, aud="https://elsewhere.example/token"))
    )
    assert "expired" in await refused(signed_form(assertion(key, client_id, lifetime=-1)))
    assert "5 minutes" in await refused(signed_form(assertion(key, client_id, lifetime=301)))
    long_ago = assertion(key, client_id, lifetime=200, iat=now - 200)
    assert "5 minutes" in await refused(signed_form(long_ago))
    no_exp = jwt.encode(
        {"alg": "ES256"},
        {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "jti": "x1"},
        key,
    )
    assert "exp" in await refused(signed_form(no_exp))
    not_a_number = assertion(key, client_id, exp=float("nan"))
    assert "exp must be a number" in await refused(signed_form(not_a_number))
    in_the_future = assertion(key, client_id, nbf=now + 120)
    assert "not valid yet" in await refused(signed_form(in_the_future))
    no_jti = jwt.encode(
        {"alg": "ES256"},
        {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60},
        key,
    )
    assert "jti" in await refused(signed_form(no_jti))
    assert "signature" in await refused(signed_form(assertion(other, client_id)))
    wrong_iss = assertion(key, client_id, iss="someone-else")
    assert "iss" in await refused(signed_form(wrong_iss))
    unsigned = (
        _b64({"alg": "none"})
        + "."
        + _b64({"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60, "jti": "n1"})
        + "."
    )
    assert "alg" in await refused(signed_form(unsigned))
    # An HMAC keyed with the client's public key (the classic confusion) is refused.
    claims = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60, "jti": "h1"}
    signing_input = _b64({"alg": "HS256"}) + "." + _b64(claims)
    mac = hmac.new(rsa.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    confused = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert "alg" in await refused(signed_form(confused))
    await refused({"client_assertion_type": ASSERTION_TYPE})
    await refused({"client_assertion": assertion(key, client_id)})
    await refused(
        {
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            "client_assertion": assertion(key, client_id),
        }
    )
    await refused(signed_form("not-a-jwt"))
    await refused(signed_form(assertion(key, client_id), client_id="fdc_other"))
    # A secret for a private_key_jwt client: it has none.
    await refused({"client_id": client_id, "client_secret": "fdcs_guess"})
    basic = await http.post("/oidc/token", data=grant(code, verifier), auth=(client_id, "x"))
    assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"
    both = await http.post(
        "/oidc/token",
        data={**grant(code, verifier), **signed_form(assertion(key, client_id))},
        auth=(client_id, "x"),
    )
    assert both.json()["error"] == "invalid_request"

    # Single use: the same jti twice is refused; after it expires its row goes.
    once = assertion(key, client_id, jti="only-once")
    assert (await token(signed_form(once))).status_code == 200
    assert "used before" in await refused(signed_form(once))
    assert await OidcUsedAssertion.filter(client__client_id=client_id).count() >= 1
    clock.advance(timedelta(minutes=6))
    code, verifier = await code_and_verifier(http, tree, client_id)
    assert (await token(signed_form(assertion(key, client_id)))).status_code == 200
    assert await OidcUsedAssertion.filter(jti_hash__not="").count() == 1


async def test_a_public_or_secret_client_cannot_use_an_assertion(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    key = ECKey.generate_key("P-256", private=True)
    created = await admin.ok(CREATE_CLIENT, {"input": client_input(tree.reseller.id)})
    client_id = created["oidcClient"]["clientId"]
    answer = await http.post(
        "/oidc/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "fdrt_x",
            **signed_form(assertion(key, client_id)),
        },
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def _create(org_id: int, **extra: Any) -> dict[str, Any]:
    return {"input": client_input(org_id, tokenEndpointAuthMethod="PRIVATE_KEY_JWT", **extra)}


@pytest.mark.filterwarnings("ignore:Key size should be")
async def test_key_sets_are_checked_when_registered(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    ec = ECKey.generate_key("P-256", private=True)
    small = RSAKey.generate_key(1024, private=True)
    p384 = ECKey.generate_key("P-384", private=True)
    cases: list[tuple[Any, str]] = [
        (None, "REQUIRED"),
        ({"keys": []}, "REQUIRED"),
        ("not json", "INVALID"),
        ({"nokeys": 1}, "INVALID"),
        ({"keys": [ec.as_dict(private=True)]}, "INVALID"),  # private material
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "INVALID"),
        ({"keys": [small.as_dict(private=False)]}, "INVALID"),
        ({"keys": [p384.as_dict(private=False)]}, "INVALID"),
        ({"keys": [{**ec.as_dict(private=False), "alg": "HS256"}]}, "INVALID"),
        ({"keys": [{**ec.as_dict(private=False), "use": "enc"}]}, "INVALID"),
        ({"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]}, "INVALID"),
        ({"keys": [ec.as_dict(private=False)] * 6}, "INVALID"),
        ({"keys": [ec.as_dict(private=False), p384.as_dict(private=False)]}, "INVALID"),
    ]
    for jwks, code in cases:
        body = await admin(CREATE_CLIENT, _create(tree.reseller.id, jwks=jwks))
        payload = body["data"]["createOidcClient"]
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("jwks", code)], jwks
    private = await admin(
        CREATE_CLIENT, _create(tree.reseller.id, jwks={"keys": [ec.as_dict(private=True)]})
    )
    assert "private" in private["data"]["createOidcClient"]["errors"][0]["message"]
    # Keys for a client of another method, or a public client with private_key_jwt.
    keys = public_set(ec)
    assert await admin.refused(
        CREATE_CLIENT, {"input": client_input(tree.reseller.id, jwks=keys)}
    ) == ["INVALID"]
    assert await admin.refused(
        CREATE_CLIENT, _create(tree.reseller.id, jwks=keys, public=True)
    ) == ["INVALID"]
    assert await OidcClient.all().count() == 0


async def test_update_switches_to_keys_and_rotation_is_refused(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    created = await admin.ok(
        CREATE_CLIENT, {"input": client_input(tree.reseller.id, firstParty=True)}
    )
    node_id, client_id = created["oidcClient"]["id"], created["oidcClient"]["clientId"]
    secret = created["clientSecret"]
    update = UPDATE_CLIENT.replace("clientId", FIELDS)
    ec = ECKey.generate_key("P-256", private=True)
    # Keys alone on a secret client: refused, nothing changed.
    assert await admin.refused(
        update, {"input": {"oidcClientId": node_id, "jwks": public_set(ec)}}
    ) == ["INVALID"]
    bad = await admin.refused(
        update,
        {
            "input": {
                "oidcClientId": node_id,
                "tokenEndpointAuthMethod": "PRIVATE_KEY_JWT",
                "jwks": {"keys": [ec.as_dict(private=True)]},
                "name": "Renamed",
            }
        },
    )
    assert bad == ["INVALID"]
    row = await OidcClient.get(client_id=client_id)
    assert row.secret_hash is not None and row.jwks is None and row.name == "Wiki"

    switched = await admin.ok(
        update,
        {
            "input": {
                "oidcClientId": node_id,
                "tokenEndpointAuthMethod": "PRIVATE_KEY_JWT",
                "jwks": public_set(ec),
            }
        },
    )
    assert switched["oidcClient"]["tokenEndpointAuthMethod"] == "PRIVATE_KEY_JWT"
    assert switched["oidcClient"]["secretHint"] is None
    old_secret = await http.post("/oidc/revoke", data={"token": "x"}, auth=(client_id, secret))
    assert old_secret.status_code == 401
    assert await admin.refused(ROTATE_SECRET, {"id": node_id}) == ["INVALID_STATE"]
    back = await admin.refused(
        update, {"input": {"oidcClientId": node_id, "tokenEndpointAuthMethod": "CLIENT_SECRET"}}
    )
    assert back == ["INVALID_STATE"]
    # New keys replace the old ones.
    new = ECKey.generate_key("P-256", private=True)
    await admin.ok(update, {"input": {"oidcClientId": node_id, "jwks": public_set(new)}})
    await browser_sign_in(http, tree["acme.member"].email)
    code, verifier = await code_and_verifier(http, tree, client_id)
    stale = await http.post(
        "/oidc/token", data={**grant(code, verifier), **signed_form(assertion(ec, client_id))}
    )
    assert stale.status_code == 401
    fresh = await http.post(
        "/oidc/token", data={**grant(code, verifier), **signed_form(assertion(new, client_id))}
    )
    assert fresh.status_code == 200, fresh.text


async def test_discovery_names_private_key_jwt(http):
    found = (await http.get("/.well-known/openid-configuration")).json()
    assert "private_key_jwt" in found["token_endpoint_auth_methods_supported"]
    assert "private_key_jwt" in found["revocation_endpoint_auth_methods_supported"]
    algs = found["token_endpoint_auth_signing_alg_values_supported"]
    assert "ES256" in algs and "RS256" in algs
    assert not any(a == "none" or a.startswith("HS") for a in algs)


async def test_authlib_assertions_work_when_short_lived(tree, sign_in, http):
    """Authlib's PrivateKeyJWT signs for an hour by default: refused (at most five
    minutes). Its signing function with expires_in (README) is accepted."""
    from authlib.oauth2.rfc7523 import private_key_jwt_sign

    admin = await sign_in(tree["reseller.admin"].email)
    key = ECKey.generate_key("P-256", private=True)
    created = await register(admin, tree.reseller.id, public_set(key))
    client_id = created["oidcClient"]["clientId"]
    await browser_sign_in(http, tree["acme.member"].email)
    code, verifier = await code_and_verifier(http, tree, client_id)
    hour = private_key_jwt_sign(key, client_id, TOKEN_URL, alg="ES256")
    refused = await http.post("/oidc/token", data={**grant(code, verifier), **signed_form(hour)})
    assert refused.status_code == 401 and "5 minutes" in refused.json()["error_description"]
    short = private_key_jwt_sign(key, client_id, TOKEN_URL, alg="ES256", expires_in=60)
    answer = await http.post("/oidc/token", data={**grant(code, verifier), **signed_form(short)})
    assert answer.status_code == 200, answer.text


async def test_one_assertion_sent_ten_times_at_once_authenticates_once(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    key = ECKey.generate_key("P-256", private=True)
    client_id = (await register(admin, tree.reseller.id, public_set(key)))["oidcClient"]["clientId"]
    token = assertion(key, client_id, aud=ISSUER + "/oidc/revoke")
    answers = await asyncio.gather(
        *(
            http.post("/oidc/revoke", data={"token": "fdrt_unknown", **signed_form(token)})
            for _ in range(10)
        )
    )
    assert sorted(a.status_code for a in answers) == [200] + [401] * 9
    assert await OidcUsedAssertion.all().count() == 1
