"""The HTTP surface: unexpected errors, response headers, the admin app and
health, CORS and cookie sessions.

Everything goes through the `http` fixture (httpx on the real ASGI app) so
that the middleware runs exactly as in production."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

import httpx
import pytest

from server.accounts.models import User
from server.auth.models import Session
from server.organisations import service as organisations_service
from server.settings import get_settings
from tests.core.http_calls import (
    COOKIE,
    FOREIGN_ORIGIN,
    INDEX_HTML,
    LOGIN,
    LOGOUT,
    ORGANISATIONS,
    TYPENAME,
    UPDATE_PROFILE,
    VIEWER,
    call,
    cookie_login,
    graphql_body,
    post_json,
    session_cookie,
)
from tests.helpers.fixtures import ORIGIN, PASSWORD

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


def _is_index(text: str) -> bool:
    """The app's index.html as served: its versioned addresses (server/admin_assets.py)."""
    source = INDEX_HTML.read_text()
    return (
        text.startswith(source.split("<link", 1)[0])
        and '<script type="module" src="/admin/v/' in text
    )


@pytest.mark.parametrize("path", ["/admin/", "/admin/accept-invitation", "/admin/reset-password"])
async def test_admin_serves_index_with_a_content_security_policy(http, path):
    response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert _is_index(response.text)
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


async def test_admin_does_not_serve_files_outside_its_directory(http):
    for path in ("/admin/../server/app.py", "/admin/%2e%2e/pyproject.toml"):
        response = await http.get(path)
        assert response.status_code == 404 or _is_index(response.text), path


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
