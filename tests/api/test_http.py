"""The HTTP edge: what reaches GraphQL and how, response headers, the admin
app's static files, CORS, and cookie sessions with their CSRF check.

Everything goes through the `http` fixture (httpx on the real ASGI app) so
that the middleware runs exactly as in production.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.accounts.models import User
from server.auth.models import Session
from server.organisations import service as organisations_service
from server.settings import get_settings
from tests.helpers.fixtures import ORIGIN, PASSWORD, GraphQLClient, gid

COOKIE = get_settings().session_cookie_name
MAX_BODY = get_settings().max_body_bytes
INDEX_HTML = Path(__file__).resolve().parents[2] / "static" / "admin" / "index.html"
FOREIGN_ORIGIN = "https://evil.example"

TYPENAME = "{ __typename }"
VIEWER = "{ viewer { user { email } } }"
LOGIN = """
mutation Login($email: String!, $password: String!, $session: SessionDelivery!) {
  login(input: {email: $email, password: $password, session: $session}) {
    token errors { code } viewer { user { email } }
  }
}"""
LOGOUT = "mutation Logout { logout { ok errors { code } } }"
UPDATE_PROFILE = """
mutation UpdateProfile { updateProfile(input: {firstName: "Mallory"}) { errors { code } } }"""
ORGANISATIONS = "{ organisations { totalCount } }"


# --- helpers ----------------------------------------------------------------------------


def graphql_body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


async def post_json(http: httpx.AsyncClient, content: Any, **headers: str) -> httpx.Response:
    return await http.post(
        "/graphql", content=content, headers={"content-type": "application/json", **headers}
    )


async def call(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    cookie: str | None = None,
    origin: str | None = ORIGIN,
) -> httpx.Response:
    """POST a GraphQL document with an explicit session cookie and Origin (None: no header)."""
    request = http.build_request(
        "POST",
        "/graphql",
        content=graphql_body(query, variables),
        headers={"content-type": "application/json"},
    )
    if cookie is not None:
        request.headers["cookie"] = f"{COOKIE}={cookie}"
    if origin is None:
        del request.headers["origin"]
    else:
        request.headers["origin"] = origin
    return await http.send(request)


def messages(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [error["message"] for error in response.json()["errors"]]


def cookie_attributes(set_cookie: str) -> tuple[str, str, set[str]]:
    """(name, value, lower-cased attributes) of one Set-Cookie header."""
    pair, *attributes = [part.strip() for part in set_cookie.split(";")]
    name, _, value = pair.partition("=")
    return name, value.strip('"'), {attribute.lower() for attribute in attributes}


def session_cookie(response: httpx.Response) -> tuple[str, set[str]]:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "=")]
    _, value, attributes = cookie_attributes(header)
    return value, attributes


async def cookie_login(http: httpx.AsyncClient, email: str) -> tuple[httpx.Response, str]:
    response = await call(http, LOGIN, {"email": email, "password": PASSWORD, "session": "COOKIE"})
    value, _ = session_cookie(response)
    # From here on the tests send the cookie themselves, never from httpx's jar.
    http.cookies.clear()
    return response, value


def nested_parents(levels: int) -> str:
    return (
        "query($id: ID!) { organisation(id: $id) { "
        + "parent { " * levels
        + "name"
        + " }" * levels
        + " } }"
    )


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


# --- what reaches GraphQL ---------------------------------------------------------------


def refusal_code(response: httpx.Response) -> str:
    """The code of a request refused before any GraphQL ran: a JSON GraphQL error."""
    assert response.headers["content-type"] == "application/json", response.text
    [error] = response.json()["errors"]
    return error["extensions"]["code"]


async def test_query_via_get_is_refused(http):
    response = await http.get("/graphql", params={"query": TYPENAME})
    assert response.status_code == 405
    assert refusal_code(response) == "METHOD_NOT_ALLOWED"
    assert "__typename" not in response.text


async def test_mutation_via_get_is_refused(tree, http):
    response = await http.get("/graphql", params={"query": LOGOUT})
    assert response.status_code == 405
    assert "data" not in response.json()


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_are_refused(http, method):
    response = await http.request(method, "/graphql", content=graphql_body(TYPENAME))
    assert response.status_code == 405
    assert refusal_code(response) == "METHOD_NOT_ALLOWED"
    assert "POST" in response.headers["allow"]


async def test_graphiql_is_served_to_a_browser_in_development(http):
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
    ids=["text", "form", "multipart", "none"],
)
async def test_non_json_post_is_unsupported_media_type(http, content_type):
    request = http.build_request("POST", "/graphql", content=graphql_body(TYPENAME))
    if content_type is None:
        request.headers.pop("content-type", None)
    else:
        request.headers["content-type"] = content_type
    response = await http.send(request)
    assert response.status_code == 415
    assert refusal_code(response) == "UNSUPPORTED_MEDIA_TYPE"
    assert "__typename" not in response.text


async def test_json_post_with_charset_is_accepted(http):
    response = await post_json(http, graphql_body(TYPENAME))
    assert response.json() == {"data": {"__typename": "Query"}}
    response = await http.post(
        "/graphql",
        content=graphql_body(TYPENAME),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_batched_array_is_refused(http):
    batch = json.dumps([{"query": TYPENAME}, {"query": TYPENAME}]).encode()
    response = await post_json(http, batch)
    assert response.status_code == 400
    assert refusal_code(response) == "BAD_REQUEST"
    assert "Query" not in response.text


@pytest.mark.parametrize(
    "body", [b"not json", b'{"query": 5}', b'{"query": "{ __typename }", "variables": []}']
)
async def test_malformed_json_is_a_client_error(http, body):
    response = await post_json(http, body)
    assert response.status_code == 400
    assert refusal_code(response) == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{}", "No GraphQL query found"),
        (b'{"query": ""}', "No GraphQL query found"),
        (b'{"query": "{ __typename }", "operationName": 7}', "`operationName` must be a string"),
        (b'{"query": "{ __typename }", "extensions": "x"}', "`extensions` must be an object"),
        (b'{"query": "query A { __typename } query B { __typename }"}', "operation type"),
        (b'{"query": "query A { __typename }", "operationName": "B"}', "operation type"),
    ],
    ids=["no-query", "empty-query", "name-type", "extensions-type", "two-unnamed", "unknown-name"],
)
async def test_malformed_operation_request_is_a_client_error(http, body, message):
    response = await post_json(http, body)
    assert response.status_code == 400
    assert refusal_code(response) == "BAD_REQUEST"
    assert message in response.json()["errors"][0]["message"]


async def test_named_operation_out_of_several_runs(http):
    body = {"query": "query A { a: __typename } query B { b: __typename }", "operationName": "B"}
    response = await post_json(http, json.dumps(body).encode())
    assert response.json() == {"data": {"b": "Query"}}


async def test_syntax_error_is_a_graphql_error(http):
    response = await post_json(http, graphql_body("{ viewer { "))
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("Syntax Error")


@pytest.mark.parametrize("body", [b'"a string"', b"null", b"42"])
async def test_json_body_that_is_not_an_object_is_a_client_error(body):
    from server.app import create_app

    app = create_app(get_settings(), manage_database=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        response = await post_json(client, body)
    assert response.status_code == 400


async def test_body_over_the_limit_is_refused_by_its_length(http):
    padding = "a" * (MAX_BODY + 100_000)
    response = await post_json(http, graphql_body(TYPENAME, {"padding": padding}))
    assert response.status_code == 413
    assert refusal_code(response) == "PAYLOAD_TOO_LARGE"


async def test_streamed_body_over_the_limit_is_refused(http):
    """Without a Content-Length the limit is enforced while reading."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"padding": "'
        for _ in range(11):
            yield b"a" * 100_000
        yield b'"}}'

    response = await post_json(http, chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert refusal_code(response) == "PAYLOAD_TOO_LARGE"


async def test_body_under_the_limit_is_served(http):
    padding = "a" * (MAX_BODY - 10_000)
    response = await post_json(http, graphql_body(TYPENAME, {"padding": padding}))
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


# --- limits on the document -------------------------------------------------------------


async def test_depth_limit(tree, sign_in):
    client = await sign_in(tree["acme.admin"].email)
    acme = {"id": gid("Organisation", tree.acme.id)}
    assert await client.data(nested_parents(9), acme) == {"organisation": {"parent": None}}
    too_deep = await client.post(nested_parents(10), acme)
    assert any("exceeds maximum operation depth" in m for m in messages(too_deep))
    assert too_deep.json()["data"] is None


async def test_depth_limit_counts_through_fragments(tree, sign_in):
    client = await sign_in(tree["acme.admin"].email)
    query = (
        "query($id: ID!) { organisation(id: $id) { ...A } }"
        " fragment A on Organisation { parent { ...B } }"
        " fragment B on Organisation { parent { ...C } }"
        " fragment C on Organisation { " + "parent { " * 8 + "name" + " }" * 8 + " }"
    )
    response = await client.post(query, {"id": gid("Organisation", tree.acme.id)})
    assert any("exceeds maximum operation depth" in m for m in messages(response))


async def test_alias_limit(http):
    client = GraphQLClient(http)
    assert len(await client.data(aliases(30))) == 30
    response = await client.post(aliases(31))
    assert messages(response) == ["31 aliases found. Allowed: 30"]
    assert response.json()["data"] is None


async def test_alias_limit_counts_through_fragments(http):
    query = "query { ...F } fragment F on Query " + aliases(31)
    response = await GraphQLClient(http).post(query)
    assert messages(response) == ["31 aliases found. Allowed: 30"]


async def test_aliased_logins_count_against_the_alias_limit(tree, http):
    email = tree["acme.owner"].email
    attempt = f'login(input: {{email: "{email}", password: "guess"}}) {{ token }}'
    query = "mutation { " + " ".join(f"a{i}: {attempt}" for i in range(31)) + " }"
    response = await GraphQLClient(http).post(query)
    assert messages(response) == ["31 aliases found. Allowed: 30"]


async def test_token_limit(http):
    query = "{ " + "__typename " * 2100 + "}"
    response = await GraphQLClient(http).post(query)
    assert response.json()["data"] is None
    assert messages(response)


@pytest.mark.parametrize(
    "query",
    ["{ viewr { user { email } } }", "{ viewer { usr { email } } }"],
    ids=["root", "nested"],
)
async def test_misspelled_field_gets_no_suggestion(http, query):
    [message] = messages(await GraphQLClient(http).post(query))
    assert message.startswith("Cannot query field")
    assert "Did you mean" not in message


@pytest.mark.parametrize(
    "query",
    [
        '{ members(organisationID: "x") { totalCount } }',
        'mutation { login(input: {emial: "a", password: "b"}) { token } }',
        "{ organisations(kind: CUSTOMR) { totalCount } }",
        "{ viewer { ... on Viewr { user { email } } } }",
    ],
    ids=["argument", "input-field", "enum-value", "type"],
)
async def test_other_misspellings_get_no_suggestion(http, query):
    for message in messages(await GraphQLClient(http).post(query)):
        assert "Did you mean" not in message


# --- unexpected errors ------------------------------------------------------------------


def _explode(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError('relation "user" failed: SELECT password_hash FROM "user"')


async def test_unexpected_error_is_masked_and_logged(tree, sign_in, monkeypatch, caplog):
    client = await sign_in(tree["acme.admin"].email)
    monkeypatch.setattr(organisations_service, "administered_by", _explode)
    with caplog.at_level(logging.ERROR):
        response = await client.post(ORGANISATIONS)
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert "extensions" not in error
    assert "password_hash" not in response.text and "RuntimeError" not in response.text
    logged = [record for record in caplog.records if record.exc_info]
    assert any(isinstance(record.exc_info[1], RuntimeError) for record in logged)


async def test_unexpected_error_is_logged_with_the_request_id(tree, sign_in, monkeypatch, caplog):
    client = await sign_in(tree["acme.admin"].email)
    monkeypatch.setattr(organisations_service, "administered_by", _explode)
    with caplog.at_level(logging.ERROR):
        response = await client.post(ORGANISATIONS, **{"x-request-id": "trace-4711"})
    assert response.headers["x-request-id"] == "trace-4711"
    [record] = [record for record in caplog.records if record.exc_info]
    assert (
        "trace-4711" in record.getMessage() or getattr(record, "request_id", None) == "trace-4711"
    )


# --- response headers -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/graphql", "/healthz", "/admin/", "/nowhere"])
async def test_security_headers_on_every_response(http, path):
    response = await (
        post_json(http, graphql_body(TYPENAME)) if path == "/graphql" else http.get(path)
    )
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_request_id_is_echoed_only_when_well_formed(http):
    good = await post_json(http, graphql_body(TYPENAME), **{"x-request-id": "abc-123.XYZ_9"})
    assert good.headers["x-request-id"] == "abc-123.XYZ_9"
    for bad in ("has space", "x" * 65, "<script>"):
        response = await post_json(http, graphql_body(TYPENAME), **{"x-request-id": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), bad


# --- the admin app and health -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/", "/admin/accept-invitation", "/admin/reset-password"])
async def test_admin_serves_index_with_a_content_security_policy(http, path):
    response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == INDEX_HTML.read_text()
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


async def test_admin_does_not_serve_files_outside_its_directory(http):
    for path in ("/admin/../server/app.py", "/admin/%2e%2e/pyproject.toml"):
        response = await http.get(path)
        assert response.status_code == 404 or response.text == INDEX_HTML.read_text(), path


async def test_healthz(http):
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- CORS -------------------------------------------------------------------------------


async def _preflight(client: httpx.AsyncClient) -> httpx.Response:
    """The browser's CORS preflight for a bearer-token POST from FOREIGN_ORIGIN."""
    return await client.options(
        "/graphql",
        headers={
            "origin": FOREIGN_ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, authorization",
        },
    )


async def test_preflight_from_an_unlisted_origin_is_not_allowed(http):
    response = await _preflight(http)
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


async def test_request_from_an_unlisted_origin_gets_no_cors_grant(tree, http):
    response = await call(http, TYPENAME, origin=FOREIGN_ORIGIN)
    assert "access-control-allow-origin" not in response.headers


async def test_listed_origin_may_call_with_a_bearer_token_not_a_cookie(tree):
    """FRONTDESK_CORS_ORIGINS lists frontends elsewhere: they get the CORS grant
    for bearer-token calls, never credentials (our cookie stays ours)."""
    from server.app import create_app

    settings = dataclasses.replace(get_settings(), cors_origins=[FOREIGN_ORIGIN])
    transport = httpx.ASGITransport(app=create_app(settings, manage_database=False))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        preflight = await _preflight(client)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == FOREIGN_ORIGIN
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in preflight.headers
        response = await call(client, TYPENAME, origin=FOREIGN_ORIGIN)
        assert response.headers["access-control-allow-origin"] == FOREIGN_ORIGIN
        assert response.json() == {"data": {"__typename": "Query"}}


# --- cookie sessions --------------------------------------------------------------------


async def test_cookie_login_sets_a_host_only_secure_cookie(tree, http):
    response, value = await cookie_login(http, tree["acme.owner"].email)
    payload = response.json()["data"]["login"]
    assert payload["errors"] == []
    assert payload["token"] is None
    assert payload["viewer"] == {"user": {"email": tree["acme.owner"].email}}
    _, attributes = session_cookie(response)
    assert COOKIE.startswith("__Host-")
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= attributes
    assert not any(attribute.startswith("domain") for attribute in attributes)
    assert value.startswith("fds_") and len(value) >= 40
    assert await Session.all().count() == 1


async def test_token_login_sets_no_cookie(tree, http):
    response = await call(
        http, LOGIN, {"email": tree["acme.owner"].email, "password": PASSWORD, "session": "TOKEN"}
    )
    assert response.json()["data"]["login"]["token"]
    assert not response.headers.get_list("set-cookie")


async def test_cookie_with_our_origin_is_signed_in(tree, http):
    _, value = await cookie_login(http, tree["acme.owner"].email)
    response = await call(http, VIEWER, cookie=value)
    assert response.json() == {"data": {"viewer": {"user": {"email": tree["acme.owner"].email}}}}


@pytest.mark.parametrize(
    "origin",
    [FOREIGN_ORIGIN, None, "null", ORIGIN + ".evil.example"],
    ids=["foreign", "missing", "null", "lookalike"],
)
async def test_cookie_without_our_origin_is_signed_out(tree, http, origin):
    _, value = await cookie_login(http, tree["acme.owner"].email)
    response = await call(http, VIEWER, cookie=value, origin=origin)
    assert response.json() == {"data": {"viewer": None}}
    # A cross-site mutation riding on the cookie is refused and changes nothing.
    forged = await call(http, UPDATE_PROFILE, cookie=value, origin=origin)
    [error] = forged.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await User.get(id=tree["acme.owner"].user.id)).first_name == "Owner"


async def test_bearer_token_works_from_another_origin(tree, sign_in, http):
    """Bearer tokens are not sent by browsers on their own: no Origin check needed."""
    client = await sign_in(tree["acme.owner"].email)
    request = http.build_request(
        "POST",
        "/graphql",
        content=graphql_body(VIEWER),
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {client.token}",
            "origin": FOREIGN_ORIGIN,
        },
    )
    response = await http.send(request)
    assert response.json()["data"]["viewer"] == {"user": {"email": tree["acme.owner"].email}}


async def test_logout_clears_the_cookie_and_ends_the_session(tree, http):
    _, value = await cookie_login(http, tree["acme.owner"].email)
    response = await call(http, LOGOUT, cookie=value)
    assert response.json()["data"]["logout"] == {"ok": True, "errors": []}
    cleared, attributes = session_cookie(response)
    assert cleared == ""
    assert "max-age=0" in attributes
    assert {"secure", "httponly", "path=/"} <= attributes
    assert await Session.all().count() == 0
    again = await call(http, VIEWER, cookie=value)
    assert again.json() == {"data": {"viewer": None}}
