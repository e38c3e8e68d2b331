"""A real relying party against the running server: the npm `openid-client`
(rp.mjs) does discovery, builds the authorization request with PKCE (S256),
exchanges the code, validates the ID token against our JWKS, reads userinfo,
refreshes (rotation), detects reuse and logs out; Chromium signs in on our own
sign-in screen with a password and an authenticator-app code. And what must
fail: a wrong redirect URI, no PKCE, a replayed code, an expired code, and a
person outside the client's access rule."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
from joserfc.jwk import ECKey

from tests.helpers.oidc_server import (
    Server,
    bearer,
    create_client,
    graphql,
    organisation_ids,
    sign_in_at_frontdesk,
)
from tests.oidc.rp.conftest import CODE_SECONDS, RP_PORT

HERE = Path(__file__).resolve().parent
# The relying party's own pages, on another site than the server's (localhost, not 127.0.0.1).
CALLBACK = f"http://localhost:{RP_PORT}/callback"
BYE = f"http://localhost:{RP_PORT}/bye"
ALICE = "alice@acme.example.com"
OUTSIDER = "owner@globex.example.com"


def rp(step: str, **given: Any) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["node", "rp.mjs", step, json.dumps(given)],  # noqa: S607 - node from PATH
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"rp.mjs {step} printed nothing: {done.stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


@pytest.fixture(scope="module")
def setup(server: Server) -> dict[str, Any]:
    """Northwind's admin registers the client (Acme's people may use it); Alice
    sets up an authenticator app."""
    admin = bearer(server, "admin@northwind.example.com")
    ids = organisation_ids(server, admin)
    client_id, client_secret = create_client(
        server,
        admin,
        organisationId=ids["Northwind Hosting"],
        name="Team wiki",
        redirectUris=[CALLBACK],
        postLogoutRedirectUris=[BYE],
        firstParty=True,
        accessRule={"organisationIds": [ids["Acme Ltd"]]},
    )
    alice = bearer(server, ALICE)
    secret = graphql(server, "mutation { enrolTotp { secret } }", {}, alice)["enrolTotp"]["secret"]
    confirmed = graphql(
        server,
        "mutation($code: String!) { confirmTotp(input: {code: $code}) { errors { code } } }",
        {"code": pyotp.TOTP(secret).now()},
        alice,
    )
    assert confirmed["confirmTotp"]["errors"] == []
    return {
        "issuer": server.url,
        "clientId": client_id,
        "secret": client_secret,
        "totp": secret,
    }


def _page(browser: Any, server: Server) -> Any:
    context = browser.new_context(base_url=server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    return context.new_page()


def _next_totp(secret: str) -> str:
    """A code of the next time step (the current one went into the set-up)."""
    return pyotp.TOTP(secret).at(datetime.now() + timedelta(seconds=30))


def test_the_code_flow_with_a_real_relying_party(browser, server, setup, rp_pages):  # type: ignore[no-untyped-def]
    client = {k: setup[k] for k in ("issuer", "clientId", "secret")}
    start = rp("authorize", **client, redirectUri=CALLBACK)
    assert start["ok"], start
    page = _page(browser, server)

    # A redirect URI the client did not register: our error page, never a redirect.
    wrong = start["url"].replace("%2Fcallback", "%2Fcallback2")
    page.goto(wrong)
    assert page.url.startswith(server.url)
    assert page.get_by_role("heading", name="Sign-in cannot continue").is_visible()
    # No PKCE: refused back at the client.
    parts = urlsplit(start["url"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    no_pkce = {k: v for k, v in query.items() if not k.startswith("code_challenge")}
    page.goto(f"{server.url}/oidc/authorize?{urlencode(no_pkce)}")
    page.wait_for_url(CALLBACK + "**")
    refused = parse_qs(urlsplit(page.url).query)
    assert refused["error"] == ["invalid_request"] and "code" not in refused

    # Our sign-in screen, with the password and the app's code, then back to the client.
    page.goto(start["url"])
    sign_in_at_frontdesk(page, server, ALICE)
    page.get_by_label("Code from your authenticator app").fill(_next_totp(setup["totp"]))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(CALLBACK + "**")
    callback = page.url

    state = {k: start[k] for k in ("verifier", "state", "nonce")}
    done = rp("callback", **client, callbackUrl=callback, **state)
    assert done["ok"], done
    claims = done["claims"]
    assert claims["email"] == ALICE and claims["iss"] == server.url
    assert claims["acr"] == "urn:frontdesk:acr:2fa" and claims["amr"] == ["pwd", "mfa"]
    [membership] = claims["frontdesk"]["memberships"]
    assert membership["organisation"]["name"] == "Acme Ltd" and membership["role"] == "MEMBER"
    assert done["userinfo"]["sub"] == claims["sub"] and done["userinfo"]["email"] == ALICE

    # The same code again: refused (and what it gave is revoked).
    replay = rp("callback", **client, callbackUrl=callback, **state)
    assert replay == {**replay, "ok": False, "error": "invalid_grant"}
    gone = rp("userinfo", **client, accessToken=done["accessToken"], sub=claims["sub"])
    assert gone["ok"] is False

    # A second sign-in (the session is there: straight back), refreshed and reused.
    second = rp("authorize", **client, redirectUri=CALLBACK)
    page.goto(second["url"])
    page.wait_for_url(CALLBACK + "**")
    state = {k: second[k] for k in ("verifier", "state", "nonce")}
    tokens = rp("callback", **client, callbackUrl=page.url, **state)
    assert tokens["ok"], tokens
    refreshed = rp("refresh", **client, refreshToken=tokens["refreshToken"])
    assert refreshed["ok"] and refreshed["refreshToken"] != tokens["refreshToken"], refreshed
    assert refreshed["claims"]["sub"] == tokens["claims"]["sub"]
    reused = rp("refresh", **client, refreshToken=tokens["refreshToken"])
    assert reused["ok"] is False and reused["error"] == "invalid_grant", reused
    family_gone = rp("refresh", **client, refreshToken=refreshed["refreshToken"])
    assert family_gone["ok"] is False and family_gone["error"] == "invalid_grant"

    # A code left waiting past its life.
    late = rp("authorize", **client, redirectUri=CALLBACK)
    page.goto(late["url"])
    page.wait_for_url(CALLBACK + "**")
    time.sleep(CODE_SECONDS + 1)
    state = {k: late[k] for k in ("verifier", "state", "nonce")}
    expired = rp("callback", **client, callbackUrl=page.url, **state)
    assert expired["ok"] is False and expired["error"] == "invalid_grant", expired

    # RP-initiated logout: our confirmation page, then back to the client.
    last = rp("authorize", **client, redirectUri=CALLBACK)
    page.goto(last["url"])
    page.wait_for_url(CALLBACK + "**")
    state = {k: last[k] for k in ("verifier", "state", "nonce")}
    final = rp("callback", **client, callbackUrl=page.url, **state)
    assert final["ok"], final
    logout = rp("logout", **client, idToken=final["idToken"], postLogoutRedirectUri=BYE)
    page.goto(logout["url"])
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(BYE + "**")
    assert parse_qs(urlsplit(page.url).query)["state"] == ["bye"]
    after = rp("userinfo", **client, accessToken=final["accessToken"], sub=final["claims"]["sub"])
    assert after["ok"] is False
    # Signed out of Frontdesk too: the next authorization asks for a sign-in.
    again = rp("authorize", **client, redirectUri=CALLBACK)
    page.goto(again["url"])
    page.wait_for_url("**/admin/sign-in?**")
    page.get_by_label("Password").wait_for()
    page.context.close()


def test_someone_outside_the_access_rule_is_refused(browser, server, setup, rp_pages):  # type: ignore[no-untyped-def]
    client = {k: setup[k] for k in ("issuer", "clientId", "secret")}
    start = rp("authorize", **client, redirectUri=CALLBACK)
    page = _page(browser, server)
    page.goto(start["url"])
    sign_in_at_frontdesk(page, server, OUTSIDER)
    page.get_by_role("heading", name="Access not granted").wait_for()
    assert page.url.startswith(f"{server.url}/oidc/authorize")
    assert "Team wiki" in page.content()
    page.context.close()


def test_private_key_jwt_with_a_real_relying_party(browser, server, setup, rp_pages):  # type: ignore[no-untyped-def]
    """openid-client signs its assertions (aud: the issuer, exp: a minute) with a
    key Frontdesk knows only the public half of; the code, refresh and
    revocation calls carry no secret."""
    key = ECKey.generate_key("P-256", parameters={"kid": "rp-1"}, private=True)
    admin = bearer(server, "admin@northwind.example.com")
    client_id, secret = create_client(
        server,
        admin,
        organisationId=organisation_ids(server, admin)["Northwind Hosting"],
        name="Ticket tool",
        redirectUris=[CALLBACK],
        firstParty=True,
        tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
        jwks={"keys": [key.as_dict(private=False)]},
    )
    assert secret is None
    client = {
        "issuer": server.url,
        "clientId": client_id,
        "privateJwk": key.as_dict(private=True),
    }
    start = rp("authorize", **client, redirectUri=CALLBACK)
    page = _page(browser, server)
    page.goto(start["url"])
    sign_in_at_frontdesk(page, server, OUTSIDER)
    page.wait_for_url(CALLBACK + "**")
    state = {k: start[k] for k in ("verifier", "state", "nonce")}
    done = rp("callback", **client, callbackUrl=page.url, **state)
    assert done["ok"], done
    assert done["claims"]["email"] == OUTSIDER and done["claims"]["aud"] == client["clientId"]
    refreshed = rp("refresh", **client, refreshToken=done["refreshToken"])
    assert refreshed["ok"], refreshed
    assert rp("revoke", **client, token=refreshed["refreshToken"])["ok"]
    gone = rp("refresh", **client, refreshToken=refreshed["refreshToken"])
    assert gone["ok"] is False and gone["error"] == "invalid_grant"
    # Another key (not registered) is refused at the token endpoint.
    stranger = {
        **client,
        "privateJwk": ECKey.generate_key("P-256", private=True).as_dict(private=True),
    }
    refused = rp("refresh", **stranger, refreshToken=done["refreshToken"])
    # (401 with a WWW-Authenticate challenge: openid-client reports the challenge.)
    assert refused["ok"] is False and refused["status"] == 401, refused
    assert rp("refresh", **client, refreshToken=done["refreshToken"])["ok"] is False
    page.context.close()
