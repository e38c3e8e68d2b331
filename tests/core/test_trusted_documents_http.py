"""Trusted documents over HTTP: a manifest document by `documentId`, an unknown
id, and FRONTDESK_TRUSTED_DOCUMENTS=enforce — cookie sessions and requests
without a credential run only manifest documents, a person's bearer session and
unrestricted API tokens anything, tokens created restricted only the manifest's."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from server.api_tokens.models import ApiToken
from server.app import create_app
from server.audit.models import AuditEvent
from server.auth.models import Session
from server.core import clock
from server.settings import get_settings
from server.trusted_documents import load_manifest
from tests.helpers.fixtures import ORIGIN, PASSWORD, gid

GRAPHQL_RESPONSE = "application/graphql-response+json"
FREE_VIEWER = "{ viewer { user { email } } }"  # no admin app document
FREE_LOGOUT = "mutation SignOut { logout { ok } }"
CREATE_TOKEN = """
mutation($org: ID!, $perms: [Permission!]!, $expires: DateTime!, $restricted: Boolean!) {
  createApiToken(input: {organisationId: $org, name: "Sync", permissions: $perms,
                         expiresAt: $expires, restrictedToTrustedDocuments: $restricted}) {
    secret apiToken { restrictedToTrustedDocuments } errors { code }
  }
}"""
TOKENS = """query($org: ID!) { apiTokens(organisationId: $org) {
  nodes { name restrictedToTrustedDocuments } } }"""


def manifest_id(fragment: str) -> str:
    """The id of the one admin app document containing `fragment`."""
    [found] = [i for i, text in load_manifest().by_id.items() if fragment in text]
    return found


def manifest_text(fragment: str) -> str:
    return load_manifest().by_id[manifest_id(fragment)]


VIEWER_ID = manifest_id("query Viewer {")
LOGIN_ID = manifest_id("login(input: $input)")
LOGOUT_ID = manifest_id("mutation { logout { ok } }")
MEMBERS_ID = manifest_id("query Members($org: ID!, $search: String, $role: Role")


async def post(
    http: httpx.AsyncClient,
    body: dict[str, object],
    *,
    token: str | None = None,
    cookie: str | None = None,
    accept: str = "application/json",
) -> httpx.Response:
    headers = {"content-type": "application/json", "accept": accept}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if cookie is not None:
        headers["cookie"] = f"{get_settings().session_cookie_name}={cookie}"
    http.cookies.clear()  # each request carries only what it is given here
    return await http.post("/graphql", json=body, headers=headers)


def error_code(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None, body
    [error] = body["errors"]
    code: str = error["extensions"]["code"]
    return code


@pytest.fixture
async def enforcing(database: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = dataclasses.replace(get_settings(), trusted_documents="enforce")
    transport = httpx.ASGITransport(app=create_app(settings, manage_database=False))
    async with httpx.AsyncClient(
        transport=transport, base_url=ORIGIN, headers={"origin": ORIGIN}
    ) as client:
        yield client


async def cookie_of(http: httpx.AsyncClient, email: str) -> str:
    """Sign in as the admin app does: its Login document by id, a cookie session."""
    variables = {"input": {"email": email, "password": PASSWORD, "session": "COOKIE"}}
    response = await post(http, {"documentId": LOGIN_ID, "variables": variables})
    assert response.json()["data"]["login"]["errors"] == [], response.text
    cookie = response.cookies.get(get_settings().session_cookie_name)
    assert cookie
    return cookie


async def token_for(sign_in, tree, *, restricted: bool) -> str:  # type: ignore[no-untyped-def]
    admin = await sign_in(tree["reseller.admin"].email)
    variables = {
        "org": gid("Organisation", tree.reseller.id),
        "perms": ["MEMBERS_VIEW"],
        "expires": (clock.now() + timedelta(days=30)).isoformat(),
        "restricted": restricted,
    }
    payload = await admin.ok(CREATE_TOKEN, variables)
    assert payload["apiToken"] == {"restrictedToTrustedDocuments": restricted}
    secret: str = payload["secret"]
    return secret


# --- by id, in the default mode ------------------------------------------------------


async def test_a_manifest_document_by_id_answers_as_its_text_does(tree, sign_in, http):
    client = await sign_in(tree["acme.admin"].email)
    by_id = await post(http, {"documentId": VIEWER_ID}, token=client.token)
    by_text = await post(http, {"query": manifest_text("query Viewer {")}, token=client.token)
    assert by_id.status_code == by_text.status_code == 200
    assert by_id.json() == by_text.json()
    assert by_id.json()["data"]["viewer"]["user"]["email"] == tree["acme.admin"].email
    # Anything else still runs in the default mode ("allow").
    free = await post(http, {"query": FREE_VIEWER}, token=client.token)
    assert free.json() == {"data": {"viewer": {"user": {"email": tree["acme.admin"].email}}}}


@pytest.mark.parametrize("mode", ["allow", "enforce"])
async def test_an_unknown_id_is_a_request_error_that_runs_nothing(
    tree, sign_in, http, enforcing, mode
):
    client = await sign_in(tree["acme.admin"].email)
    target = http if mode == "allow" else enforcing
    unknown = "sha256:" + "0" * 64
    response = await post(target, {"documentId": unknown}, token=client.token)
    assert error_code(response) == "TRUSTED_DOCUMENT_NOT_FOUND"
    assert unknown in response.json()["errors"][0]["message"]
    # GraphQL over HTTP's own media type: a 400 with no data at all.
    strict = await post(
        target, {"documentId": unknown}, token=client.token, accept=GRAPHQL_RESPONSE
    )
    assert strict.status_code == 400
    assert strict.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in strict.json()
    assert strict.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"documentId": "sha256:" + "A" * 64}, "64 lowercase hexadecimal digits"),
        ({"documentId": "0" * 64}, '"sha256:"'),
        ({"documentId": 42}, '"sha256:"'),
        ({"documentId": VIEWER_ID, "query": FREE_VIEWER}, "not both"),
    ],
)
async def test_a_malformed_document_id_is_refused_before_anything_runs(http, body, message):
    response = await post(http, body)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert message in error["message"]


# --- enforce: cookie sessions and requests without a credential -------------------------


async def test_enforce_lets_a_cookie_session_run_manifest_documents_only(tree, enforcing):
    email = tree["acme.admin"].email
    cookie = await cookie_of(enforcing, email)
    by_id = await post(enforcing, {"documentId": VIEWER_ID}, cookie=cookie)
    assert by_id.json()["data"]["viewer"]["user"]["email"] == email
    # A manifest document's exact text passes too (a browser without WebCrypto sends it).
    by_text = await post(enforcing, {"query": manifest_text("query Viewer {")}, cookie=cookie)
    assert by_text.json() == by_id.json()
    members = await post(
        enforcing,
        {
            "documentId": MEMBERS_ID,
            "variables": {"org": gid("Organisation", tree.acme.id), "descendants": False},
        },
        cookie=cookie,
    )
    assert members.json()["data"]["members"]["totalCount"] == 3

    refused = await post(enforcing, {"query": FREE_VIEWER}, cookie=cookie)
    assert error_code(refused) == "TRUSTED_DOCUMENT_REQUIRED"
    assert "documentId" in refused.json()["errors"][0]["message"]
    strict = await post(enforcing, {"query": FREE_VIEWER}, cookie=cookie, accept=GRAPHQL_RESPONSE)
    assert strict.status_code == 400 and "data" not in strict.json()
    # The same text with a change of whitespace is another document.
    spaced = manifest_text("query Viewer {") + " "
    assert error_code(await post(enforcing, {"query": spaced}, cookie=cookie)) == (
        "TRUSTED_DOCUMENT_REQUIRED"
    )

    # A refused mutation changes nothing: the session outlives a free `logout`.
    assert error_code(await post(enforcing, {"query": FREE_LOGOUT}, cookie=cookie)) == (
        "TRUSTED_DOCUMENT_REQUIRED"
    )
    assert await Session.filter(user_id=tree["acme.admin"].user.id).count() == 1
    still = await post(enforcing, {"documentId": VIEWER_ID}, cookie=cookie)
    assert still.json()["data"]["viewer"]["user"]["email"] == email
    logout = await post(enforcing, {"documentId": LOGOUT_ID}, cookie=cookie)
    assert logout.json()["data"]["logout"]["ok"] is True
    assert await Session.filter(user_id=tree["acme.admin"].user.id).count() == 0


async def test_enforce_holds_requests_without_a_credential_to_the_manifest(tree, enforcing):
    free_login = """mutation($e: String!, $p: String!) {
      login(input: {email: $e, password: $p}) { token errors { code } } }"""
    variables = {"e": tree["acme.admin"].email, "p": PASSWORD}
    refused = await post(enforcing, {"query": free_login, "variables": variables})
    assert error_code(refused) == "TRUSTED_DOCUMENT_REQUIRED"
    assert await Session.all().count() == 0
    # A bearer token that does not work earns nothing more than none.
    bogus = await post(enforcing, {"query": FREE_VIEWER}, token="fdt_" + "x" * 40)
    assert error_code(bogus) == "TRUSTED_DOCUMENT_REQUIRED"
    anonymous = await post(enforcing, {"documentId": VIEWER_ID})
    assert anonymous.json() == {"data": {"viewer": None}}


# --- enforce: bearer credentials ---------------------------------------------------------


async def test_enforce_lets_a_bearer_session_send_any_document(tree, sign_in, enforcing):
    client = await sign_in(tree["acme.member"].email)
    response = await post(enforcing, {"query": FREE_VIEWER}, token=client.token)
    assert response.json() == {"data": {"viewer": {"user": {"email": tree["acme.member"].email}}}}


async def test_an_unrestricted_token_sends_anything_a_restricted_one_the_manifest_only(
    tree, sign_in, enforcing
):
    org = gid("Organisation", tree.reseller.id)
    free_members = "query($org: ID!) { members(organisationId: $org) { totalCount } }"
    unrestricted = await token_for(sign_in, tree, restricted=False)
    restricted = await token_for(sign_in, tree, restricted=True)

    anything = await post(
        enforcing, {"query": free_members, "variables": {"org": org}}, token=unrestricted
    )
    assert anything.json() == {"data": {"members": {"totalCount": 3}}}

    refused = await post(
        enforcing, {"query": free_members, "variables": {"org": org}}, token=restricted
    )
    assert error_code(refused) == "TRUSTED_DOCUMENT_REQUIRED"
    listed = await post(
        enforcing,
        {"documentId": MEMBERS_ID, "variables": {"org": org, "descendants": False}},
        token=restricted,
    )
    assert listed.json()["data"]["members"]["totalCount"] == 3
    unknown = await post(enforcing, {"documentId": "sha256:" + "f" * 64}, token=restricted)
    assert error_code(unknown) == "TRUSTED_DOCUMENT_NOT_FOUND"

    # The flag shows on the token, is kept, and is audited with its creation.
    admin = await sign_in(tree["reseller.admin"].email)
    nodes = (await admin.data(TOKENS, {"org": org}))["apiTokens"]["nodes"]
    assert sorted(n["restrictedToTrustedDocuments"] for n in nodes) == [False, True]
    assert sorted(t.restricted_to_trusted_documents for t in await ApiToken.all()) == [False, True]
    details = [e.details for e in await AuditEvent.filter(action="api_token.created")]
    assert sorted(d["restrictedToTrustedDocuments"] for d in details) == [False, True]


async def test_a_restricted_token_sends_anything_while_the_server_does_not_enforce(
    tree, sign_in, http
):
    restricted = await token_for(sign_in, tree, restricted=True)
    free_members = "query($org: ID!) { members(organisationId: $org) { totalCount } }"
    response = await post(
        http,
        {"query": free_members, "variables": {"org": gid("Organisation", tree.reseller.id)}},
        token=restricted,
    )
    assert response.json() == {"data": {"members": {"totalCount": 3}}}
