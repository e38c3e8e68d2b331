"""Signing keys: discovery, the JWKS, keys encrypted at rest, rotation with the
retired key published until the ID tokens it signed have expired."""

from __future__ import annotations

from datetime import timedelta

from joserfc import jwt
from joserfc.jwk import KeySet

from server.core import clock
from server.core.encryption import decrypt
from server.oidc import keys
from server.oidc.models import OidcSigningKey

ISSUER = "https://portal.example.test"


async def test_discovery_names_our_endpoints_and_only_what_we_support(http):
    response = await http.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    config = response.json()
    assert config["issuer"] == ISSUER
    assert config["authorization_endpoint"] == f"{ISSUER}/oidc/authorize"
    assert config["token_endpoint"] == f"{ISSUER}/oidc/token"
    assert config["jwks_uri"] == f"{ISSUER}/oidc/jwks"
    assert config["end_session_endpoint"] == f"{ISSUER}/oidc/logout"
    assert config["revocation_endpoint"] == f"{ISSUER}/oidc/revoke"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["response_types_supported"] == ["code"]
    assert config["id_token_signing_alg_values_supported"] == ["ES256"]
    assert "none" in config["token_endpoint_auth_methods_supported"]


async def test_the_jwks_holds_public_keys_only_and_the_private_half_is_encrypted(http):
    response = await http.get("/oidc/jwks")
    assert response.status_code == 200
    [published] = response.json()["keys"]
    assert published["kty"] == "EC" and published["crv"] == "P-256"
    assert published["alg"] == "ES256" and published["use"] == "sig"
    assert "d" not in published
    row = await OidcSigningKey.get(kid=published["kid"])
    assert '"d"' not in row.private_jwk and published["x"] not in row.private_jwk
    assert '"d"' in decrypt(row.private_jwk)


async def test_rotation_keeps_the_old_key_published_until_its_tokens_expire(http):
    old_token = await keys.sign({"sub": "s", "iss": ISSUER})
    old_kid = (await keys.current_key()).kid
    new = await keys.rotate()
    assert new.kid != old_kid
    new_token = await keys.sign({"sub": "s", "iss": ISSUER})
    published = (await http.get("/oidc/jwks")).json()
    assert [k["kid"] for k in published["keys"]] == [new.kid, old_kid]
    key_set = KeySet.import_key_set(published)
    for token in (old_token, new_token):
        assert jwt.decode(token, key_set, algorithms=["ES256"]).claims["sub"] == "s"
    assert jwt.decode(new_token, key_set).header["kid"] == new.kid

    clock.advance(keys.ID_TOKEN_LIFETIME + timedelta(seconds=1))
    published = (await http.get("/oidc/jwks")).json()
    assert [k["kid"] for k in published["keys"]] == [new.kid]
    assert await keys.verified_claims(old_token) is None
    assert (await keys.verified_claims(new_token) or {})["sub"] == "s"


async def test_a_token_signed_by_another_key_is_not_ours(http):
    from joserfc.jwk import ECKey

    stranger = ECKey.generate_key("P-256", parameters={"kid": "x"}, private=True)
    forged = jwt.encode({"alg": "ES256", "kid": "x"}, {"sub": "s"}, stranger)
    assert await keys.verified_claims(forged) is None
    assert await keys.verified_claims("not a token") is None
