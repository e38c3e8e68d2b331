"""`prompt=none` (OpenID Connect Core §3.1.2.1): never a page, always a redirect
back. From another site the session cookie (SameSite=Strict) does not count,
so the answer is login_required; from our own site a signed-in person gets a
code, or consent_required / login_required / access_denied."""

from __future__ import annotations

import html
import re

import httpx

from server.oidc.models import OidcAuthorizationCode
from tests.helpers.fixtures import gid
from tests.oidc.flow import authorize_params, browser_sign_in, pkce, query_of, registered
from tests.oidc.helpers import RP

ISSUER = "https://portal.example.test"
CROSS_SITE = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}
SAME_ORIGIN = {"sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate"}


async def silent(
    http: httpx.AsyncClient, params: dict[str, str], headers: dict[str, str]
) -> dict[str, str]:
    """A prompt=none request: always a redirect to the client, never a page."""
    answer = await http.get("/oidc/authorize", params={**params, "prompt": "none"}, headers=headers)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(RP + "?"), location
    found = query_of(location)
    assert found["iss"] == ISSUER and found["state"] == params["state"]
    return found


async def test_from_another_site_prompt_none_is_always_login_required(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(admin, tree.reseller.id, firstParty=True)
    _, challenge = pkce()
    params = authorize_params(client_id, challenge)
    # No cookie at all (what a browser sends from another site).
    found = await silent(http, params, CROSS_SITE)
    assert found["error"] == "login_required" and "code" not in found
    # Signed in, and the cookie sent along anyway: it does not count cross-site.
    await browser_sign_in(http, tree["acme.member"].email)
    found = await silent(http, params, CROSS_SITE)
    assert found["error"] == "login_required" and "code" not in found
    # Also for a client needing consent, or a person outside its access rule.
    third_party, _ = await registered(admin, tree.reseller.id)
    found = await silent(http, authorize_params(third_party, challenge), CROSS_SITE)
    assert found["error"] == "login_required"
    # Without prompt=none, a cross-site request goes to our sign-in screen and back.
    answer = await http.get("/oidc/authorize", params=params, headers=CROSS_SITE)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/sign-in?")
    assert await OidcAuthorizationCode.all().count() == 0
    # The same request from our own site (the sign-in screen sending it back) gets a code.
    found = await silent(http, params, SAME_ORIGIN)
    assert found["code"] and "error" not in found


async def test_signed_in_same_site_prompt_none_follows_the_core_rules(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    first_party, _ = await registered(admin, tree.reseller.id, firstParty=True)
    third_party, _ = await registered(admin, tree.reseller.id)
    _, challenge = pkce()
    # Not signed in, same origin: login_required.
    found = await silent(http, authorize_params(first_party, challenge), SAME_ORIGIN)
    assert found["error"] == "login_required"

    await browser_sign_in(http, tree["acme.member"].email)
    for headers in (SAME_ORIGIN, {"sec-fetch-site": "same-site"}, {}):
        found = await silent(http, authorize_params(first_party, challenge), headers)
        assert found["code"], headers
    # A sign-in older than max_age: login_required (no page to sign in again).
    found = await silent(http, authorize_params(first_party, challenge, max_age="0"), SAME_ORIGIN)
    assert found["error"] == "login_required"
    # prompt=none cannot be combined with another prompt.
    answer = await http.get(
        "/oidc/authorize",
        params={**authorize_params(first_party, challenge), "prompt": "none login"},
        headers=SAME_ORIGIN,
    )
    assert query_of(answer.headers["location"])["error"] == "invalid_request"

    # A third-party client: consent_required until the person consents.
    params = authorize_params(third_party, challenge, scope="openid email")
    found = await silent(http, params, SAME_ORIGIN)
    assert found["error"] == "consent_required" and "code" not in found
    page = await http.get("/oidc/authorize", params=params, headers=SAME_ORIGIN)
    assert page.status_code == 200
    fields = {
        k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
    }
    allowed = await http.post(
        "/oidc/consent", data={**fields, "decision": "allow"}, headers=SAME_ORIGIN
    )
    assert query_of(allowed.headers["location"])["code"]
    found = await silent(http, params, SAME_ORIGIN)
    assert found["code"]
    # More scopes than were consented to: consent_required again.
    wider = authorize_params(third_party, challenge, scope="openid email profile")
    found = await silent(http, wider, SAME_ORIGIN)
    assert found["error"] == "consent_required"


async def test_prompt_none_outside_the_access_rule_is_a_redirect_not_a_page(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(
        admin,
        tree.reseller.id,
        firstParty=True,
        accessRule={"organisationIds": [gid("Organisation", tree.acme.id)], "roles": ["ADMIN"]},
    )
    await browser_sign_in(http, tree["acme.member"].email)
    _, challenge = pkce()
    found = await silent(http, authorize_params(client_id, challenge), SAME_ORIGIN)
    assert found["error"] == "access_denied" and "code" not in found
    page = await http.get(
        "/oidc/authorize", params=authorize_params(client_id, challenge), headers=SAME_ORIGIN
    )
    assert page.status_code == 403  # without prompt=none: the refusal page
