"""Frontdesk as an OpenID Connect provider for relying-party tests: a real
server (subprocess, its own SQLite database, the demo data), Chromium, and
GraphQL helpers to register a client. Used by the conftests of tests/oidc/rp
(the npm `openid-client`) and tests/examples (the Python example app); they
run in the SQLite pass, as tests/browser does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.helpers.live_server import DemoServer

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { code } } }"""
CREATE_CLIENT = """mutation($input: CreateOidcClientInput!) { createOidcClient(input: $input) {
  clientSecret oidcClient { clientId } errors { field code } } }"""


Server = DemoServer


def skip_reason() -> str | None:
    """Why these tests cannot run here (None: they can)."""
    if os.environ.get("FRONTDESK_BROWSER_TESTS", "1") == "0":
        return "FRONTDESK_BROWSER_TESTS=0"
    if os.environ.get("FRONTDESK_TEST_DATABASE_URL"):
        return "relying-party tests run in the SQLite pass only (their server has its own database)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def sign_in_at_frontdesk(page: Any, server: Server, email: str) -> None:
    """On Frontdesk's own sign-in screen (where the authorization request sent the
    browser): the person's email and the demo password."""
    page.wait_for_url(f"{server.url}/admin/sign-in?**")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def graphql(server: Server, query: str, variables: dict[str, Any], token: str = "") -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    answer = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={**headers, "origin": server.url},
        timeout=30,
    )
    body = answer.json()
    assert not body.get("errors"), body
    return body["data"]


def bearer(server: Server, email: str) -> str:
    token: str = graphql(server, LOGIN, {"email": email, "password": server.password})["login"][
        "token"
    ]
    assert token
    return token


def organisation_ids(server: Server, token: str) -> dict[str, str]:
    """The organisations the token's person sees, by name."""
    orgs = graphql(server, "{ organisations(first: 50) { nodes { id name } } }", {}, token)
    return {o["name"]: o["id"] for o in orgs["organisations"]["nodes"]}


def create_client(server: Server, token: str, **input: Any) -> tuple[str, str]:
    """createOidcClient with `input`; returns (client id, client secret)."""
    created = graphql(server, CREATE_CLIENT, {"input": input}, token)["createOidcClient"]
    assert created["errors"] == [], created
    return created["oidcClient"]["clientId"], created["clientSecret"]
