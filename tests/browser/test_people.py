"""Sangoma's admin edits a person, whose new address is confirmed from a mail;
UKCloud's My Calls Admin sets ticket access from their own list."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Mailbox
from tests.browser.helpers import App

INITIAL = "an initial passphrase 7"
OWN = "my very own passphrase 9"


def add_user(app: App, page: Page, email: str, first: str, last: str, **details: str) -> None:
    """The owner's Add User form, with an initial password instead of an invitation."""
    app.open_section(page, "Users")
    page.get_by_role("button", name="Invite user").click()
    dialog = page.get_by_role("dialog", name="Invite someone to Acme Ltd")
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_label("First name (optional)").fill(first)
    dialog.get_by_label("Last name (optional)").fill(last)
    for label, value in details.items():
        dialog.get_by_label(f"{label} (optional)").fill(value)
    dialog.get_by_label("Create the user now instead of sending an invitation").check()
    dialog.get_by_label("Mail them a link to choose their password").uncheck()
    dialog.get_by_label("Initial password", exact=True).fill(INITIAL)
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text(f"{email} can now sign in.")).to_be_visible()


def open_member(app: App, page: Page, name: str) -> None:
    app.open_section(page, "Users")
    page.get_by_label("Search").fill(name.split()[0])
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def test_admin_adds_edits_and_moves_the_address_of_a_person(app: App, mailbox: Mailbox) -> None:
    page = app.page()
    app.sign_in(page, "owner@acme.example.com")
    add_user(app, page, "mia@acme.example.com", "Mia", "Calls",
             **{"Job title": "Dispatcher", "Office phone": "+44 20 7946 0300",
                "Fax": "+44 20 7946 0301"})  # fmt: skip
    open_member(app, page, "Mia Calls")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Dispatcher")
    expect(facts).to_contain_text("+44 20 7946 0301")

    edit = page.get_by_role("form", name="Edit details")
    edit.get_by_label("Job title").fill("Head of dispatch")
    edit.get_by_label("Mobile phone").fill("call me")
    edit.get_by_role("button", name="Save details").click()
    expect(edit.get_by_label("Mobile phone")).to_have_attribute("aria-invalid", "true")
    edit.get_by_label("Mobile phone").fill("07700 900300")
    edit.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Details saved.")).to_be_visible()
    expect(facts).to_contain_text("Head of dispatch")
    expect(facts).to_contain_text("07700 900300")

    # Another person's address is refused; a new one waits for its confirmation.
    move = page.get_by_role("form", name="Change sign-in address")
    move.get_by_label("New email address").fill("bob@acme.example.com")
    move.get_by_role("button", name="Send confirmation").click()
    expect(move.get_by_label("New email address")).to_have_attribute("aria-invalid", "true")
    expect(move).to_contain_text("belongs to another account")
    move.get_by_label("New email address").fill("mia@calls.example.com")
    move.get_by_role("button", name="Send confirmation").click()
    expect(
        page.get_by_text("A confirmation link was sent to mia@calls.example.com.")
    ).to_be_visible()
    expect(
        page.get_by_role("status").filter(has_text="Waiting for confirmation").first
    ).to_contain_text("mia@calls.example.com")
    app.check_a11y(page, "member-edit")

    # Mia opens the link from her new mailbox.
    mail = mailbox.wait_for("mia@calls.example.com", "Confirm your new")
    theirs = app.page()
    theirs.goto(mailbox.link(mail, "/admin/confirm-email"))
    theirs.get_by_role("button", name="Confirm my new address").click()
    expect(theirs.get_by_role("heading", name="Address confirmed")).to_be_visible()
    expect(theirs.get_by_text("You now sign in with")).to_contain_text("mia@calls.example.com")
    notice = mailbox.wait_for("mia@acme.example.com", "sign-in address was changed")
    assert "mia@calls.example.com" in notice.get_body(preferencelist=("plain",)).get_content()

    page.reload()
    expect(page.get_by_role("heading", name="Mia Calls", level=1)).to_be_visible()
    expect(facts).to_contain_text("mia@calls.example.com")
    expect(page.get_by_text("Waiting for confirmation")).to_have_count(0)


def test_my_calls_admin_sets_ticket_access_from_their_own_list(app: App) -> None:
    owner = app.page()
    app.sign_in(owner, "owner@acme.example.com")
    add_user(app, owner, "max@acme.example.com", "Max", "Tickets")

    # Max signs in once and chooses a password.
    page = app.page()
    page.goto("/admin/sign-in")
    page.get_by_label("Email").fill("max@acme.example.com")
    page.get_by_label("Password").fill(INITIAL)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("New password", exact=True).fill(OWN)
    page.get_by_label("Repeat the new password").fill(OWN)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # The owner makes Max a ticket administrator (no user administration).
    open_member(app, owner, "Max Tickets")
    owner.get_by_role("combobox", name="Ticket access").select_option("ADMIN")
    owner.get_by_role("button", name="Save feature access").click()
    expect(owner.get_by_text("Feature access saved.")).to_be_visible()

    page.goto("/admin/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Ticket access")).to_be_visible()
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    app.open_section(page, "Ticket access")
    expect(page.get_by_role("heading", name="Ticket access", level=1)).to_be_visible()
    page.get_by_label("Search").fill("Bob")
    expect(page.get_by_role("row")).to_have_count(2)  # the header and Bob
    expect(page.locator("table")).not_to_contain_text("@")
    app.check_a11y(page, "ticket-access")
    bob = page.get_by_role("combobox", name="Ticket access of Bob Acme")
    expect(bob).to_have_value("OWN")
    bob.select_option("ACCOUNT")
    expect(page.get_by_text("Ticket access of Bob Acme saved.")).to_be_visible()
    page.reload()
    page.get_by_label("Search").fill("Bob")
    bob = page.get_by_role("combobox", name="Ticket access of Bob Acme")
    expect(bob).to_have_value("ACCOUNT")
    # As it was: the other browser tests know Bob with his own tickets.
    bob.select_option("OWN")
    expect(page.get_by_text("Ticket access of Bob Acme saved.")).to_be_visible()
