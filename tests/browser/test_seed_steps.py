"""The seed portals' steps in the admin app that decide access when a person
is added: Click2Call's Add User form (ticket access, "may not delete call
recordings", emailed sign-in codes and the extension, chosen before the first
sign-in) and UKCloud's "ticket access only after the first sign-in" setting."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect

from tests.browser.conftest import Mailbox, Server
from tests.browser.helpers import App

ADDED = "dora@acme.example.com"


def _access_of(server: Server, email: str) -> tuple[int, str, int]:
    with sqlite3.connect(server.database, timeout=10) as db:
        row = db.execute(
            "SELECT m.restrict_recording_deletion, m.ticket_access, u.email_two_factor "
            'FROM membership m JOIN "user" u ON u.id = m.user_id WHERE u.email = ?',
            (email,),
        ).fetchone()
    assert row is not None, f"{email} was not added"
    return row


def _extension_holder(server: Server, number: str) -> str | None:
    with sqlite3.connect(server.database, timeout=10) as db:
        row = db.execute(
            "SELECT u.email FROM extension e JOIN organisation o ON o.id = e.organisation_id "
            "LEFT JOIN membership m ON m.id = e.membership_id "
            'LEFT JOIN "user" u ON u.id = m.user_id WHERE o.name = ? AND e.number = ?',
            ("Acme Ltd", number),
        ).fetchone()
    return row[0]


def _free_extension(server: Server, number: str) -> None:
    with sqlite3.connect(server.database, timeout=10) as db:
        db.execute("UPDATE extension SET membership_id = NULL WHERE number = ?", (number,))


def test_click2call_adds_a_user_whose_restrictions_hold_from_the_start(
    app: App, server: Server, mailbox: Mailbox
) -> None:
    admin = app.page()
    app.sign_in(admin, "owner@acme.example.com")
    admin.get_by_role("button", name="Invite user").click()
    dialog = admin.get_by_role("dialog", name="Invite someone to Acme Ltd")
    dialog.get_by_label("Email").fill(ADDED)
    dialog.get_by_label("First name (optional)").fill("Dora")
    dialog.get_by_label("Ticket access").select_option("OWN")
    dialog.get_by_label("May not delete call recordings").check()
    dialog.get_by_label("Confirm each sign-in with a mailed code").check()
    # The free reception extension is offered first; taken ones say whose they are.
    extension = dialog.get_by_label("Extension")
    expect(extension.locator("option").nth(1)).to_have_text("200 · Reception")
    expect(extension.locator("option", has_text="202 · Bob")).to_have_text(
        "202 · Bob (now Bob Acme's)"
    )
    extension.select_option(label="200 · Reception")
    dialog.get_by_label("Create the user now instead of sending an invitation").check()
    app.check_a11y(admin, "add-user-with-access")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog).to_be_hidden()
    mailbox.wait_for(ADDED, "account at Acme Ltd")
    # Set before they ever signed in: (restricted, OWN tickets, emailed codes), and the phone.
    assert _access_of(server, ADDED) == (1, "OWN", 1)
    assert _extension_holder(server, "200") == ADDED
    _free_extension(server, "200")  # the demo tree is shared by the browser tests


def test_ukcloud_grants_ticket_access_only_after_the_first_sign_in(
    app: App, server: Server
) -> None:
    admin = app.page()
    app.sign_in(admin, "owner@acme.example.com")
    admin.get_by_role("link", name="Settings").click()
    setting = admin.get_by_label("Grant ticket access only once a person has signed in")
    expect(setting).not_to_be_checked()  # off by default
    setting.check()
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_text("Settings saved.")).to_be_visible()

    def stored() -> int:
        with sqlite3.connect(server.database, timeout=10) as db:
            (value,) = db.execute(
                "SELECT ticket_access_after_first_sign_in FROM organisation WHERE name = ?",
                ("Acme Ltd",),
            ).fetchone()
        return int(value)

    assert stored() == 1
    admin.reload()
    expect(setting).to_be_checked()
    # The demo tree is shared by the browser tests: back to the default.
    setting.uncheck()
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_text("Settings saved.")).to_be_visible()
    assert stored() == 0
