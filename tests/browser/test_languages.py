"""The admin app in the person's language: a browser that prefers German gets the
sign-in page and the screens after it in German (document language, dates), the
switch below the sign-in page and the language in the profile change it; an
organisation's default language (its brand's) applies to its people."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server
from tests.browser.helpers import App


@pytest.fixture
def unbranded(server: Server) -> Iterator[None]:
    """The demo tree is shared by the browser tests: the brand set here goes afterwards."""
    yield
    with sqlite3.connect(server.database, timeout=10) as db:
        db.execute('DELETE FROM "organisation_brand"')


def _lang(page: Page) -> str:
    return page.evaluate("document.documentElement.lang")


def test_german_browser_gets_german_then_switches_to_english(app: App) -> None:
    page = app.page(locale="de-DE")
    page.goto("/admin/sign-in")
    expect(page.get_by_role("heading", name="Bei Frontdesk anmelden")).to_be_visible()
    assert _lang(page) == "de"
    expect(page.get_by_role("link", name="Passwort vergessen?")).to_be_visible()
    app.check_a11y(page, "sign-in-german")

    # A required field left empty: the app's own message, in German.
    page.get_by_role("button", name="Anmelden", exact=True).click()
    expect(page.get_by_text("Bitte füllen Sie „E-Mail“ aus.")).to_be_visible()

    page.get_by_label("E-Mail").fill("owner@acme.example.com")
    page.get_by_label("Passwort").fill(app.server.password)
    page.get_by_role("button", name="Anmelden", exact=True).click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    expect(page.get_by_role("heading", name="Benutzer", exact=True)).to_be_visible()
    main_nav = page.get_by_role("navigation", name="Hauptnavigation")
    expect(main_nav.get_by_role("link", name="Audit-Protokoll")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Letzte Anmeldung")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ von \d+ Benutzern angezeigt\.$"))).to_be_visible()
    expect(page).to_have_title("Benutzer · Frontdesk-Verwaltung")
    app.check_a11y(page, "users-german")

    # Dates in German: "04.12.2026, 20:56" rather than "4 Dec 2026, 20:56".
    page.get_by_role("link", name="Mein Konto").first.click()
    expect(page.get_by_role("heading", name="Mein Konto")).to_be_visible()
    signed_in = page.get_by_role("row").filter(has_text="Diese Sitzung").locator("time").first
    expect(signed_in).to_have_text(re.compile(r"^\d\d\.\d\d\.\d{4}, \d\d:\d\d$"))

    # English in the profile: the page is redrawn in English, and it sticks.
    page.get_by_label("Sprache", exact=True).select_option("en")
    page.get_by_role("button", name="Profil speichern").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    assert _lang(page) == "en"
    app.open_section(page, "Users")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()

    # Back to the organisation's default (none here): the browser's German again.
    page.get_by_role("link", name="My account").first.click()
    page.get_by_label("Language", exact=True).select_option("")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("heading", name="Mein Konto")).to_be_visible()
    expect(page.get_by_label("Sprache", exact=True)).to_have_value("")


def test_switch_below_the_sign_in_page(app: App) -> None:
    page = app.page(locale="de-DE")
    page.goto("/admin/forgot-password")
    expect(page.get_by_role("heading", name="Passwort vergessen?")).to_be_visible()
    switch = page.get_by_role("navigation", name="Sprache")
    switch.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    assert _lang(page) == "en"
    page.get_by_role("link", name="Back to sign-in").click()
    expect(page.get_by_role("heading", name="Sign in to Frontdesk")).to_be_visible()
    page.get_by_role("navigation", name="Language").get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("heading", name="Bei Frontdesk anmelden")).to_be_visible()


def test_english_browser_gets_english(app: App) -> None:
    page = app.page(locale="en-US")
    page.goto("/admin/sign-in")
    expect(page.get_by_role("heading", name="Sign in to Frontdesk")).to_be_visible()
    assert _lang(page) == "en"
    expect(
        page.get_by_role("navigation", name="Language").get_by_role("button", name="Deutsch")
    ).to_have_attribute("lang", "de")


@pytest.mark.usefixtures("unbranded")
def test_the_organisations_default_language_applies_to_its_people(app: App) -> None:
    owner = app.page(locale="en-GB")
    app.sign_in(owner, "owner@globex.example.com")
    app.open_section(owner, "Settings")
    brand = owner.get_by_role("form", name="Brand")
    brand.get_by_label("Default language").select_option("de")
    brand.get_by_role("button", name="Save brand").click()
    # The owner's own profile names no language: the organisation's default wins
    # over the browser's English.
    expect(owner.get_by_role("heading", name="Einstellungen von Globex GmbH")).to_be_visible()
    assert _lang(owner) == "de"

    member = app.page(locale="en-GB")
    member.goto("/admin/sign-in")  # signed out, on the server's own host: the browser's English
    member.get_by_label("Email").fill("carol@globex.example.com")
    member.get_by_label("Password").fill(app.server.password)
    member.get_by_role("button", name="Sign in", exact=True).click()
    expect(member.get_by_role("button", name="Abmelden")).to_be_visible()

    # A person's own choice beats the organisation's.
    member.get_by_role("link", name="Mein Konto").first.click()
    member.get_by_label("Sprache", exact=True).select_option("en")
    member.get_by_role("button", name="Profil speichern").click()
    expect(member.get_by_role("heading", name="My account")).to_be_visible()
