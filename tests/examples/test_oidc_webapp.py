"""examples/oidc_webapp end to end: the example app (its own process, on
localhost: another site than Frontdesk's 127.0.0.1) signs a demo person in
through Frontdesk in Chromium, shows who they are and their organisations from
the `frontdesk` claim, and signs them out at both ends (RP-initiated logout).
And what must not work: someone outside the client's access rule, and a
callback the app did not start."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.live_server import ARTIFACTS, ROOT, stop, wait_for
from tests.helpers.oidc_server import (
    Server,
    bearer,
    create_client,
    organisation_ids,
    sign_in_at_frontdesk,
)
from tests.helpers.smtp import free_port

APP_DIR = ROOT / "examples" / "oidc_webapp"
ALICE = "alice@acme.example.com"
OUTSIDER = "owner@globex.example.com"


@pytest.fixture(scope="module")
def app_url(server: Server) -> Iterator[str]:
    """Northwind's admin registers the app (Acme's people may use it), then it starts."""
    port = free_port()
    url = f"http://localhost:{port}"
    admin = bearer(server, "admin@northwind.example.com")
    ids = organisation_ids(server, admin)
    client_id, client_secret = create_client(
        server,
        admin,
        organisationId=ids["Northwind Hosting"],
        name="Ticket desk",
        redirectUris=[f"{url}/callback"],
        postLogoutRedirectUris=[f"{url}/signed-out"],
        firstParty=False,
        accessRule={"organisationIds": [ids["Acme Ltd"]]},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        {
            "FRONTDESK_ISSUER": server.url,
            "FRONTDESK_CLIENT_ID": client_id,
            "FRONTDESK_CLIENT_SECRET": client_secret,
            "APP_URL": url,
            "APP_SESSION_SECRET": secrets.token_urlsafe(32),
        }
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "oidc-webapp.log").open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - the example app, fixed arguments
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=APP_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/", process, "the example app")
            yield url
        finally:
            stop(process)


def _page(browser: Any) -> Any:
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(15_000)
    return context.new_page()


def test_sign_in_and_out_through_frontdesk(browser, server, app_url):  # type: ignore[no-untyped-def]
    page = _page(browser)
    page.goto(app_url)
    page.get_by_role("link", name="Sign in with Frontdesk").click()
    sign_in_at_frontdesk(page, server, ALICE)
    # A third-party client: Frontdesk asks once what the app may learn.
    page.get_by_role("heading", name="Sign in to Ticket desk").wait_for()
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{app_url}/")
    page.get_by_role("heading", name="Hello, Alice Acme").wait_for()
    assert page.locator("#email").inner_text() == ALICE
    assert page.locator("#memberships li").all_inner_texts() == ["Acme Ltd — MEMBER"]
    [cookie] = [c for c in page.context.cookies(app_url) if c["name"] == "ticketdesk_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    # Signed out at the app, then at Frontdesk (its confirmation page), and back.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/oidc/logout?**")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{app_url}/signed-out?**")
    page.get_by_role("heading", name="Signed out").wait_for()
    page.goto(app_url)
    page.get_by_role("link", name="Sign in with Frontdesk").wait_for()
    assert "Alice" not in page.content()
    # Frontdesk's session is gone too: signing in again asks for the password.
    page.get_by_role("link", name="Sign in with Frontdesk").click()
    page.wait_for_url(f"{server.url}/admin/sign-in?**")
    page.get_by_label("Password").wait_for()
    page.context.close()


def test_someone_outside_the_access_rule_gets_no_session(browser, server, app_url):  # type: ignore[no-untyped-def]
    page = _page(browser)
    page.goto(app_url)
    page.get_by_role("link", name="Sign in with Frontdesk").click()
    sign_in_at_frontdesk(page, server, OUTSIDER)
    page.get_by_role("heading", name="Access not granted").wait_for()
    assert page.url.startswith(f"{server.url}/oidc/authorize")
    # Back to the app, which hears access_denied for the request it started.
    page.get_by_role("link", name="Back to Ticket desk").click()
    page.wait_for_url(f"{app_url}/callback?**")
    page.get_by_text("access_denied").first.wait_for()
    page.goto(app_url)
    page.get_by_role("link", name="Sign in with Frontdesk").wait_for()
    assert page.get_by_role("button", name="Sign out").count() == 0
    page.context.close()


def test_a_callback_the_app_did_not_start_is_refused(browser, server, app_url):  # type: ignore[no-untyped-def]
    page = _page(browser)
    page.goto(app_url)
    page.get_by_role("link", name="Sign in with Frontdesk").click()
    page.wait_for_url(f"{server.url}/admin/sign-in?**")
    # Back at the app with a state it never issued (a forged or crossed callback).
    page.goto(f"{app_url}/callback?code=forged&state=forged")
    page.get_by_role("heading", name="Sign-in failed").wait_for()
    assert "mismatching_state" in page.content()
    page.goto(app_url)
    page.get_by_role("link", name="Sign in with Frontdesk").wait_for()
    page.context.close()
