"""Shared by tests/core/test_http.py.new, tests/core/test_http_responses.py: The HTTP edge: what reaches GraphQL and how, response headers, the admin"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from server.settings import get_settings
from tests.helpers.fixtures import ORIGIN, PASSWORD

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
