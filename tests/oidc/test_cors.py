"""CORS at the provider: the token, revocation and userinfo endpoints grant no
origin anything, even one listed in CORS_ORIGINS for the API; discovery and
the JWKS are public documents any origin's code may read (no credentials)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from server.app import create_app
from server.settings import get_settings
from tests.helpers.fixtures import ORIGIN
from tests.oidc.flow import authorize_params, browser_sign_in, code_for, exchange, pkce, registered

LISTED = "https://spa.example.org"
UNLISTED = "https://evil.example.com"
CLOSED = ("/oidc/token", "/oidc/revoke", "/oidc/userinfo")
OPEN = ("/.well-known/openid-configuration", "/oidc/jwks")


@pytest.fixture
async def listed(database: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app with CORS_ORIGINS naming LISTED (for the API)."""
    settings = dataclasses.replace(get_settings(), cors_origins=[LISTED])
    transport = httpx.ASGITransport(app=create_app(settings, manage_database=False))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        yield client


def no_cors(response: httpx.Response) -> bool:
    return not any(name.startswith("access-control-") for name in response.headers)


@pytest.mark.parametrize("origin", [LISTED, UNLISTED, "null"])
@pytest.mark.parametrize("path", CLOSED)
async def test_token_revocation_and_userinfo_grant_no_origin(listed, path, origin):
    preflight = await listed.options(
        path,
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert no_cors(preflight), preflight.headers
    assert preflight.status_code == 405
    answer = await listed.post(
        path, data={"grant_type": "refresh_token"}, headers={"origin": origin}
    )
    assert answer.status_code in (400, 401)
    assert no_cors(answer), answer.headers


async def test_a_successful_token_answer_carries_no_cors_grant(tree, sign_in, http, listed):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, secret = await registered(admin, tree.reseller.id, firstParty=True)
    await browser_sign_in(http, tree["acme.member"].email)
    verifier, challenge = pkce()
    code = await code_for(http, authorize_params(client_id, challenge))
    listed.headers["origin"] = LISTED
    answer = await exchange(listed, client_id, secret, code, verifier)
    assert answer.status_code == 200 and no_cors(answer)
    bearer = {"authorization": f"Bearer {answer.json()['access_token']}", "origin": LISTED}
    info = await listed.get("/oidc/userinfo", headers=bearer)
    assert info.status_code == 200 and no_cors(info)
    revoked = await listed.post(
        "/oidc/revoke", data={"token": answer.json()["access_token"]}, auth=(client_id, secret)
    )
    assert revoked.status_code == 200 and no_cors(revoked)


@pytest.mark.parametrize("path", OPEN)
async def test_discovery_and_jwks_are_readable_from_any_origin(listed, path):
    for origin in (LISTED, UNLISTED):
        answer = await listed.get(path, headers={"origin": origin})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers


async def test_the_api_keeps_its_cors_grant(listed):
    preflight = await listed.options(
        "/graphql",
        headers={"origin": LISTED, "access-control-request-method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == LISTED
