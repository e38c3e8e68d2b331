"""The authorization code flow with PKCE over HTTP: sign-in redirects, codes,
tokens, ID tokens, userinfo, refresh rotation and reuse, revocation, logout."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet

from server.accounts.models import Membership
from server.audit.models import AuditEvent
from server.core import clock
from server.oidc.models import OidcAuthorizationCode, OidcSubject, OidcToken
from tests.helpers.fixtures import gid
from tests.oidc.flow import (
    authorize,
    authorize_params,
    browser_sign_in,
    code_for,
    exchange,
    pkce,
    query_of,
    registered,
)
from tests.oidc.helpers import RP

ISSUER = "https://portal.example.test"


async def test_the_whole_flow_for_a_confidential_client(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, secret = await registered(admin, tree.reseller.id, firstParty=True)
    member = tree["acme.member"]
    await browser_sign_in(http, member.email)
    verifier, challenge = pkce()
    code = await code_for(http, authorize_params(client_id, challenge))
    answer = await exchange(http, client_id, secret, code, verifier)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 600
    key_set = KeySet.import_key_set((await http.get("/oidc/jwks")).json())
    claims = jwt.decode(tokens["id_token"], key_set, algorithms=["ES256"]).claims
    subject = (await OidcSubject.get(user_id=member.user.id)).subject
    assert claims["sub"] == subject and str(member.user.id) != subject
    assert claims["iss"] == ISSUER and claims["aud"] == client_id
    assert claims["nonce"] == "n0nce" and claims["email"] == member.email
    assert claims["email_verified"] is True and claims["acr"] == "urn:frontdesk:acr:pwd"
    assert claims["frontdesk"]["memberships"] == [
        {
            "organisation": {"id": gid("Organisation", tree.acme.id), "name": "Acme"},
            "role": "MEMBER",
            "ticketAccess": "OWN",
            "grants": {
                "canImpersonate": False,
                "restrictRecordingDeletion": False,
                "portalAccess": False,
            },
        }
    ]

    info = await http.get(
        "/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200
    assert info.json()["sub"] == subject and info.json()["name"] == member.user.display_name

    refreshed = await http.post(
        "/oidc/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client_id, secret),
    )
    assert refreshed.status_code == 200, refreshed.text
    newer = refreshed.json()
    assert newer["refresh_token"] != tokens["refresh_token"]
    # The old refresh token again: reuse, and the whole family goes.
    reused = await http.post(
        "/oidc/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client_id, secret),
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    again = await http.post(
        "/oidc/token",
        data={"grant_type": "refresh_token", "refresh_token": newer["refresh_token"]},
        auth=(client_id, secret),
    )
    assert again.json()["error"] == "invalid_grant"
    gone = await http.get(
        "/oidc/userinfo", headers={"authorization": f"Bearer {newer['access_token']}"}
    )
    assert gone.status_code == 401 and "invalid_token" in gone.headers["www-authenticate"]
    actions = [e.action for e in await AuditEvent.filter(action__startswith="oidc.").order_by("id")]
    assert actions == ["oidc.signed_in", "oidc.refresh_reuse_detected"]


async def test_without_a_session_the_browser_goes_to_our_sign_in_and_back(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(admin, tree.reseller.id, firstParty=True)
    _, challenge = pkce()
    params = authorize_params(client_id, challenge)
    answer = await authorize(http, params)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/admin/sign-in"
    back = parse_qs(location.query)["next"][0]
    assert back.startswith("/oidc/authorize?") and "fresh" not in parse_qs(location.query)
    await browser_sign_in(http, tree["acme.member"].email)
    answer = await http.get(back)
    assert answer.status_code == 303 and query_of(answer.headers["location"])["code"]

    # prompt=login: a fresh sign-in, whatever the session.
    forced = await authorize(http, {**params, "prompt": "login"})
    location = urlsplit(forced.headers["location"])
    assert location.path == "/admin/sign-in" and parse_qs(location.query)["fresh"] == ["1"]
    back = parse_qs(location.query)["next"][0]
    assert "prompt" not in back and "fd_fresh_after" in back
    still = await http.get(back)  # the old session is not fresh enough
    assert urlsplit(still.headers["location"]).path == "/admin/sign-in"
    clock.advance(timedelta(seconds=2))
    await browser_sign_in(http, tree["acme.member"].email)
    done = await http.get(back)
    assert query_of(done.headers["location"])["code"]
    # max_age: the session is 2 seconds old.
    clock.advance(timedelta(seconds=5))
    aged = await authorize(http, {**params, "max_age": "3"})
    assert urlsplit(aged.headers["location"]).path == "/admin/sign-in"
    assert query_of((await authorize(http, {**params, "max_age": "60"})).headers["location"])[
        "code"
    ]
    # prompt=none without a session: login_required at the client.
    http.cookies.clear()
    none = await authorize(http, {**params, "prompt": "none"})
    assert query_of(none.headers["location"])["error"] == "login_required"


async def test_unknown_clients_and_redirect_uris_never_redirect(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(admin, tree.reseller.id, firstParty=True)
    _, challenge = pkce()
    for params in (
        authorize_params("fdc_nobody", challenge),
        authorize_params(client_id, challenge, redirect_uri="https://evil.example/cb"),
        authorize_params(client_id, challenge, redirect_uri=RP + "/"),
        authorize_params(client_id, challenge, redirect_uri=RP.upper()),
    ):
        answer = await authorize(http, params)
        assert answer.status_code == 400 and "location" not in answer.headers
        assert "text/html" in answer.headers["content-type"]


async def test_request_errors_go_back_to_the_client(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(admin, tree.reseller.id, firstParty=True)
    await browser_sign_in(http, tree["acme.member"].email)
    _, challenge = pkce()
    good = authorize_params(client_id, challenge)
    cases = [
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "email"}, "invalid_scope"),
        ({"scope": "openid api:MEMBERS_VIEW"}, "invalid_scope"),
        ({"request": "x"}, "request_not_supported"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
    ]
    for change, error in cases:
        answer = await authorize(http, {**good, **change})
        assert answer.status_code == 303, change
        found = query_of(answer.headers["location"])
        assert found["error"] == error, (change, found)
        assert found["state"] == "st4te" and "code" not in found
    assert await OidcToken.all().count() == 0


async def test_code_exchange_errors(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, secret = await registered(admin, tree.reseller.id, firstParty=True)
    other_id, other_secret = await registered(admin, tree.reseller.id, firstParty=True)
    await browser_sign_in(http, tree["acme.member"].email)
    verifier, challenge = pkce()
    params = authorize_params(client_id, challenge)

    code = await code_for(http, params)
    wrong_secret = await exchange(http, client_id, "fdcs_wrong", code, verifier)
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    assert "basic" in wrong_secret.headers["www-authenticate"].lower()
    no_auth = await http.post(
        "/oidc/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": RP,
            "code_verifier": verifier,
            "client_id": client_id,
        },
    )
    assert no_auth.status_code == 401 and no_auth.json()["error"] == "invalid_client"
    stolen = await exchange(http, other_id, other_secret, code, verifier)
    assert stolen.json()["error"] == "invalid_grant"
    missing = await exchange(http, client_id, secret, code, "")
    assert missing.json()["error"] == "invalid_request"
    wrong = await exchange(http, client_id, secret, code, pkce()[0])
    assert wrong.json()["error"] == "invalid_grant"
    elsewhere = await exchange(http, client_id, secret, code, verifier, redirect_uri=RP + "x")
    assert elsewhere.json()["error"] == "invalid_grant"
    first = await exchange(http, client_id, secret, code, verifier)
    assert first.status_code == 200
    replayed = await exchange(http, client_id, secret, code, verifier)
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    # The replay revoked what the code gave.
    info = await http.get(
        "/oidc/userinfo", headers={"authorization": f"Bearer {first.json()['access_token']}"}
    )
    assert info.status_code == 401

    late = await code_for(http, params)
    clock.advance(timedelta(seconds=61))
    expired = await exchange(http, client_id, secret, late, verifier)
    assert expired.json()["error"] == "invalid_grant"

    form = {"grant_type": "password", "client_id": client_id, "client_secret": secret}
    unsupported = await http.post("/oidc/token", data=form)
    assert unsupported.json()["error"] == "unsupported_grant_type"
    as_json = await http.post("/oidc/token", json=form)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"


async def test_a_public_client_uses_pkce_alone(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, secret = await registered(admin, tree.reseller.id, firstParty=True, public=True)
    assert secret is None
    await browser_sign_in(http, tree["acme.member"].email)
    verifier, challenge = pkce()
    code = await code_for(http, authorize_params(client_id, challenge))
    answer = await exchange(http, client_id, None, code, verifier)
    assert answer.status_code == 200, answer.text
    with_secret = await http.post(
        "/oidc/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": answer.json()["refresh_token"],
            "client_id": client_id,
            "client_secret": "anything",
        },
    )
    assert with_secret.status_code == 401


async def test_people_outside_the_access_rule_get_a_refusal_page(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(
        admin,
        tree.reseller.id,
        firstParty=True,
        accessRule={"organisationIds": [gid("Organisation", tree.acme.id)], "roles": ["ADMIN"]},
    )
    _, challenge = pkce()
    params = authorize_params(client_id, challenge)
    for outsider in ("acme.member", "globex.admin", "provider.owner"):
        http.cookies.clear()
        await browser_sign_in(http, tree[outsider].email)
        answer = await authorize(http, params)
        assert answer.status_code == 403 and "Access not granted" in answer.text, outsider
    # The page leads back to the client, which learns the outcome (and its state).
    [back] = re.findall(r'<a href="([^"]+)">Back to ', answer.text)
    returned = urlsplit(html.unescape(back))
    assert f"{returned.scheme}://{returned.netloc}{returned.path}" == params["redirect_uri"]
    query = parse_qs(returned.query)
    assert query["error"] == ["access_denied"] and query["state"] == [params["state"]]
    http.cookies.clear()
    await browser_sign_in(http, tree["acme.admin"].email)
    assert (await authorize(http, params)).status_code == 303
    refusals = await AuditEvent.filter(action="oidc.refused").count()
    assert refusals == 3


async def test_portal_access_grant_opens_a_client_that_asks_for_it(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(
        admin, tree.reseller.id, firstParty=True, accessRule={"requiresPortalAccess": True}
    )
    _, challenge = pkce()
    params = authorize_params(client_id, challenge)
    await browser_sign_in(http, tree["acme.member"].email)
    assert (await authorize(http, params)).status_code == 403
    granted = await admin.ok(
        """mutation($id: ID!) { setFeatureAccess(input: {membershipId: $id, portalAccess: true}) {
        membership { portalAccess } errors { code } } }""",
        {"id": tree["acme.member"].membership_id},
    )
    assert granted["membership"]["portalAccess"] is True
    assert (await authorize(http, params)).status_code == 303


async def test_third_party_clients_ask_for_consent_once(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, secret = await registered(admin, tree.reseller.id)
    await browser_sign_in(http, tree["acme.member"].email)
    _, challenge = pkce()
    params = authorize_params(client_id, challenge)
    page = await authorize(http, params)
    assert page.status_code == 200 and "Your organisations and roles in them" in page.text
    assert "Your email address" in page.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    forged = await http.post(
        "/oidc/consent", data={**fields, "csrf": "0" * 64, "decision": "allow"}
    )
    assert forged.status_code == 403
    denied = await http.post("/oidc/consent", data={**fields, "decision": "deny"})
    assert query_of(denied.headers["location"])["error"] == "access_denied"
    allowed = await http.post("/oidc/consent", data={**fields, "decision": "allow"})
    assert query_of(allowed.headers["location"])["code"]
    # Consent is remembered; prompt=consent asks again.
    assert (await authorize(http, params)).status_code == 303
    assert (await authorize(http, {**params, "prompt": "consent"})).status_code == 200


async def test_impersonation_never_reaches_a_client(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(admin, tree.reseller.id, firstParty=True)
    owner, member = tree["acme.owner"], tree["acme.member"]
    await Membership.filter(id=owner.membership.id).update(can_impersonate=True)
    await browser_sign_in(http, owner.email)
    started = await http.post(
        "/graphql",
        json={
            "query": 'mutation($id: ID!) { impersonateUser(input: {membershipId: $id, reason: "help", session: COOKIE}) { errors { code } } }',
            "variables": {"id": member.membership_id},
        },
    )
    assert started.json()["data"]["impersonateUser"]["errors"] == []
    _, challenge = pkce()
    code = await code_for(http, authorize_params(client_id, challenge))
    [issued] = await OidcAuthorizationCode.all()
    assert issued.user_id == owner.user.id  # the administrator's own session, never the member's
    assert code


async def test_revocation_and_logout(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, secret = await registered(
        admin,
        tree.reseller.id,
        firstParty=True,
        postLogoutRedirectUris=["https://rp.example.net/bye"],
    )
    await browser_sign_in(http, tree["acme.member"].email)
    verifier, challenge = pkce()
    code = await code_for(http, authorize_params(client_id, challenge))
    tokens = (await exchange(http, client_id, secret, code, verifier)).json()
    missing = await http.post("/oidc/revoke", data={}, auth=(client_id, secret))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    bad = await http.post("/oidc/revoke", data={"token": "x"}, auth=(client_id, "nope"))
    assert bad.status_code == 401
    unknown = await http.post(
        "/oidc/revoke", data={"token": "fdrt_unknown"}, auth=(client_id, secret)
    )
    assert unknown.status_code == 200
    revoked = await http.post(
        "/oidc/revoke", data={"token": tokens["refresh_token"]}, auth=(client_id, secret)
    )
    assert revoked.status_code == 200
    info = await http.get(
        "/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 401

    code = await code_for(http, authorize_params(client_id, challenge))
    tokens = (await exchange(http, client_id, secret, code, verifier)).json()
    wrong_back = await http.get(
        "/oidc/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil/"},
    )
    assert wrong_back.status_code == 400 and "location" not in wrong_back.headers
    page = await http.get(
        "/oidc/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://rp.example.net/bye",
            "state": "s1",
        },
    )
    assert page.status_code == 200 and "Sign out" in page.text
    fields = {
        k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
    }
    done = await http.post("/oidc/logout/confirm", data=fields)
    assert done.status_code == 303
    assert done.headers["location"] == "https://rp.example.net/bye?state=s1"
    viewer = await http.post("/graphql", json={"query": "{ viewer { user { email } } }"})
    assert viewer.json()["data"]["viewer"] is None
    info = await http.get(
        "/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 401


async def test_asking_for_two_step_sign_in_refuses_people_without_a_second_factor(
    tree, sign_in, http
):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(admin, tree.reseller.id, firstParty=True)
    await browser_sign_in(http, tree["acme.member"].email)
    _, challenge = pkce()
    params = authorize_params(client_id, challenge, acr_values="urn:frontdesk:acr:2fa")
    answer = await authorize(http, params)
    found = query_of(answer.headers["location"])
    assert found["error"] == "access_denied" and "code" not in found


async def test_prompt_none_never_shows_a_page(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, _ = await registered(admin, tree.reseller.id)  # third-party: consent needed
    await browser_sign_in(http, tree["acme.member"].email)
    _, challenge = pkce()
    answer = await authorize(http, authorize_params(client_id, challenge, prompt="none"))
    assert query_of(answer.headers["location"])["error"] == "consent_required"
