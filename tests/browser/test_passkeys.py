"""Passkeys in Chromium, with its virtual authenticator (the DevTools protocol's
`WebAuthn.addVirtualAuthenticator`, through Playwright's CDP session): a
platform authenticator with resident keys and user verification, which signs
for real what the server checks with the `webauthn` library.

These run against a server whose public URL is http://localhost:PORT
(`localhost_server`): a relying party id must be a domain, and Chromium counts
localhost as a secure context."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import _FAILED, Server
from tests.browser.helpers import App


@pytest.fixture
def app(browser: Any, localhost_server: Server, request: pytest.FixtureRequest) -> Iterator[App]:
    portal = App(browser, localhost_server, name=request.node.name)
    try:
        yield portal
        if request.node.stash.get(_FAILED, False):
            portal.shoot_all("failure")
    finally:
        portal.close()


@dataclass
class Authenticator:
    cdp: Any  # the CDP session: the authenticator lives as long as it does
    id: str

    def credentials(self) -> list[dict[str, Any]]:
        answer = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})
        return list(answer["credentials"])


def with_authenticator(page: Page) -> Authenticator:
    """Give the page's browser a passkey authenticator."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return Authenticator(cdp, str(added["authenticatorId"]))


def add_passkey(page: Page, name: str) -> None:
    page.get_by_role("link", name="My account").first.click()
    card = page.get_by_role("region", name="Passkeys")
    expect(card.get_by_text("No passkeys yet.")).to_be_visible()
    card.get_by_role("button", name="Add a passkey").click()
    dialog = page.get_by_role("dialog", name="Add a passkey")
    dialog.get_by_label("Passkey name").fill(name)
    dialog.get_by_role("button", name="Create passkey").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Passkey added.")).to_be_visible()
    row = card.get_by_role("row").filter(has_text=name)
    expect(row.get_by_text("Never")).to_be_visible()


def test_register_a_passkey_sign_out_and_sign_in_with_it(app: App) -> None:
    page = app.page()
    authenticator = with_authenticator(page)
    app.sign_in(page, "alice@acme.example.com")
    add_passkey(page, "Work laptop")
    app.check_a11y(page, "account-passkeys")
    [stored] = authenticator.credentials()
    assert stored["isResidentCredential"] and stored["rpId"] == "localhost"

    # Signed out, the sign-in screen offers the passkey: no email, no password.
    app.sign_out(page)
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_have_count(1)
    app.check_a11y(page, "sign-in-with-passkey")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("link", name="My account").first.click()
    row = (
        page.get_by_role("region", name="Passkeys")
        .get_by_role("row")
        .filter(has_text="Work laptop")
    )
    expect(row.get_by_text("Never")).to_have_count(0)
    assert authenticator.credentials()[0]["signCount"] >= 1

    # With a passkey, a password sign-in asks for it as the second step.
    app.sign_out(page)
    page.get_by_label("Email").fill("alice@acme.example.com")
    page.get_by_label("Password").fill(app.server.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # Renamed, then removed (the session is fresh: no step-up asked).
    page.get_by_role("link", name="My account").first.click()
    card = page.get_by_role("region", name="Passkeys")
    card.get_by_role("button", name="Rename the passkey Work laptop").click()
    dialog = page.get_by_role("dialog", name="Rename passkey")
    dialog.get_by_label("Passkey name").fill("Old laptop")
    dialog.get_by_role("button", name="Save").click()
    expect(card.get_by_role("cell", name="Old laptop", exact=True)).to_be_visible()
    card.get_by_role("button", name="Remove the passkey Old laptop").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove passkey").click()
    expect(card.get_by_text("No passkeys yet.")).to_be_visible()


def test_an_organisation_requiring_passkeys_sends_its_admin_to_add_one(app: App) -> None:
    owner = app.page()
    app.sign_in(owner, "owner@northwind.example.com")
    app.open_section(owner, "Settings")
    owner.get_by_label("Owners and admins must sign in with a passkey").check()
    owner.get_by_role("button", name="Save settings").click()
    expect(owner.get_by_text("Settings saved.")).to_be_visible()

    # The admin's password alone no longer opens Northwind: add a passkey first.
    admin = app.page()
    with_authenticator(admin)
    admin.goto("/admin/sign-in")
    admin.get_by_label("Email").fill("admin@northwind.example.com")
    admin.get_by_label("Password").fill(app.server.password)
    admin.get_by_role("button", name="Sign in", exact=True).click()
    expect(admin.get_by_role("heading", name="Add a passkey")).to_be_visible()
    expect(
        admin.get_by_text(re.compile("requires owners and admins to sign in with a passkey"))
    ).to_be_visible()
    app.check_a11y(admin, "passkey-required")
    admin.get_by_role("button", name="Add a passkey").click()
    expect(admin.get_by_role("button", name="Sign out")).to_be_visible()
    expect(admin.get_by_role("heading", name="Add a passkey")).to_have_count(0)

    # Next time: the passkey alone.
    app.sign_out(admin)
    admin.get_by_role("button", name="Sign in with a passkey").click()
    expect(admin.get_by_role("button", name="Sign out")).to_be_visible()
