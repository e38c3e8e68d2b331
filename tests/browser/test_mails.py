"""Adding a user who chooses their own password from the mailed link, and a
person choosing the language their mails arrive in, in the admin app."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Mailbox
from tests.browser.helpers import App

NEW_PASSWORD = "a long new passphrase for the browser"


def set_password_from(app: App, link: str) -> Page:
    page = app.page()
    page.goto(link)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    return page


def test_a_created_user_chooses_their_password_and_their_language(
    app: App, mailbox: Mailbox
) -> None:
    admin = app.page()
    app.sign_in(admin, "owner@acme.example.com")
    admin.get_by_role("button", name="Invite user").click()
    dialog = admin.get_by_role("dialog", name="Invite someone to Acme Ltd")
    dialog.get_by_label("Email").fill("cleo@acme.example.com")
    dialog.get_by_label("First name (optional)").fill("Cleo")
    dialog.get_by_label("Create the user now instead of sending an invitation").check()
    expect(dialog.get_by_label("Mail them a link to choose their password")).to_be_checked()
    expect(dialog.get_by_label("Initial password")).to_be_hidden()
    app.check_a11y(admin, "create-user-dialog")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog).to_be_hidden()
    expect(admin.get_by_text("cleo@acme.example.com was mailed a link")).to_be_visible()

    welcome = mailbox.wait_for("cleo@acme.example.com", "account at Acme Ltd")
    person = set_password_from(app, mailbox.link(welcome, "/admin/reset-password#token="))
    app.sign_in(person, "cleo@acme.example.com", NEW_PASSWORD)

    # Choosing German turns the app German at once, and their mails.
    person.get_by_role("link", name="My account").first.click()
    person.get_by_label("Language").select_option("de")
    person.get_by_role("button", name="Save profile").click()
    expect(person.get_by_role("heading", name="Profil")).to_be_visible()
    expect(person.get_by_role("button", name="Abmelden")).to_be_visible()
    expect(person.locator("html")).to_have_attribute("lang", "de")
    person.reload()
    expect(person.get_by_label("Sprache")).to_have_value("de")

    person.get_by_role("button", name="Abmelden").click()
    expect(person.get_by_role("heading", name="Sign in to Frontdesk")).to_be_visible()
    person.get_by_role("link", name="Forgot your password?").click()
    person.get_by_label("Email").fill("cleo@acme.example.com")
    person.get_by_role("button", name="Send the link").click()
    german = mailbox.wait_for("cleo@acme.example.com", "zurücksetzen")
    text = german.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Hallo Cleo,")


def test_a_german_browser_gets_the_german_sign_in_pages(app: App) -> None:
    page = app.page(locale="de-DE")
    page.goto("/admin/sign-in")
    expect(page.get_by_role("heading", name="Bei Frontdesk anmelden")).to_be_visible()
    page.get_by_role("link", name="Passwort vergessen?").click()
    expect(page.get_by_role("button", name="Link senden")).to_be_visible()
    app.check_a11y(page, "forgot-password-de")
    page.goto("/admin/reset-password")
    expect(page.get_by_role("heading", name="Link zum Zurücksetzen unvollständig")).to_be_visible()
