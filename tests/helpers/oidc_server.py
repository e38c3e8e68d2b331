"""Frontdesk as an OpenID Connect provider for relying-party tests: a real
server (subprocess, its own SQLite database, the demo data), Chromium, and
GraphQL helpers to register a client. Used by the conftests of tests/oidc/rp
(the npm `openid-client`) and tests/examples (the Python example app); they
run in the SQLite pass, as tests/browser does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, _run
from tests.helpers.smtp import free_port

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { code } } }"""
CREATE_CLIENT = """mutation($input: CreateOidcClientInput!) { createOidcClient(input: $input) {
  clientSecret oidcClient { clientId } errors { field code } } }"""


@dataclass
class Server:
    url: str
    password: str  # every demo user's


def skip_reason() -> str | None:
    """Why these tests cannot run here (None: they can)."""
    if os.environ.get("FRONTDESK_BROWSER_TESTS", "1") == "0":
        return "FRONTDESK_BROWSER_TESTS=0"
    if os.environ.get("FRONTDESK_TEST_DATABASE_URL"):
        return "relying-party tests run in the SQLite pass only (their server has its own database)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def wait_for(url: str, process: subprocess.Popen[Any], what: str) -> None:
    """Until `url` answers 200 (or the process died, or 30 s passed)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - our own
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start; see test-artifacts/browser")
        time.sleep(0.1)


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve(
    work: Path, *, log_name: str, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Migrate, seed the demo data, run the server on 127.0.0.1; yields it, then stops it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        {
            "FRONTDESK_DATABASE_URL": f"sqlite://{work / 'frontdesk.sqlite3'}",
            "FRONTDESK_PUBLIC_URL": url,
            "FRONTDESK_SECRET_KEY": Fernet.generate_key().decode(),
            "FRONTDESK_MAIL_DIR": str(work / "mail"),
            "FRONTDESK_ARGON2_MEMORY_KIB": "1024",
            "FRONTDESK_ARGON2_TIME_COST": "1",
            "FRONTDESK_THROTTLE_ADDRESS_ATTEMPTS": "100000",
            "FRONTDESK_THROTTLE_ACCOUNT_ATTEMPTS": "1000",
            **(extra_env or {}),
        }
    )
    _run(["migrate"], env)
    seeded = _run(["seed-demo"], env)
    password = re.search(r"Password:\s+(\S+)", seeded)
    assert password, seeded
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / log_name).open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"{url}/healthz", process, "the server")
            yield Server(url=url, password=password.group(1))
        finally:
            stop(process)


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
