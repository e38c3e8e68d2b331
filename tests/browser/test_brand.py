"""A reseller's brand in the app: the reseller sets a value its customers
inherit, a customer's owner sets its own portal name, logo, colour and host
name (a bad colour is refused next to its field), the header of its people
wears them, and its sign-in page, reached by that host name, shows them."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Server
from tests.browser.helpers import LAPTOP, App

LOGO = "https://logo.globex.example/logo.png"
HOST = "portal.globex.example"
# A 1×1 PNG: the logo's host does not exist here, so the browser gets it from the test.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(autouse=True)
def unbranded(server: Server) -> Iterator[None]:
    """The demo tree is shared by the browser tests: the brands set here (a logo
    on a host that does not resolve for the other tests' pages) go afterwards.
    Test harness only: the app clears a brand value by value (setBrand)."""
    yield
    with sqlite3.connect(server.database, timeout=10) as db:
        db.execute('DELETE FROM "sender_verification"')
        db.execute('DELETE FROM "organisation_brand"')


def _serve_logo(page: Page) -> None:
    page.context.route(
        "https://logo.globex.example/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PNG),
    )


def _brand_form(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("form", name="Brand")


def _source_of(page: Page, setting: str):  # type: ignore[no-untyped-def]
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=setting))
    return row.get_by_role("cell").last


def test_customers_brand_shows_in_header_settings_and_its_sign_in_page(
    app: App, server: Server
) -> None:
    reseller = app.page()
    app.sign_in(reseller, "owner@northwind.example.com")
    reseller.get_by_role("combobox", name="Organisation").select_option(label="Northwind Hosting")
    app.open_section(reseller, "Settings")
    form = _brand_form(reseller)
    form.get_by_label("Support contact").fill("help@northwind.example.com")
    form.get_by_role("button", name="Save brand").click()
    expect(_source_of(reseller, "Support contact")).to_have_text("Set here")

    owner = app.page()
    _serve_logo(owner)
    app.sign_in(owner, "owner@globex.example.com")
    expect(owner.get_by_role("link", name="Frontdesk", exact=True)).to_be_visible()
    app.open_section(owner, "Settings")
    expect(_source_of(owner, "Support contact")).to_have_text("Inherited from Northwind Hosting")
    app.check_a11y(owner, "brand-settings")

    form = _brand_form(owner)
    form.get_by_label("Portal name").fill("Globex Phones")
    form.get_by_label("Logo address").fill(LOGO)
    form.get_by_label("Colour").fill("red")
    form.get_by_label("Own host name").fill(HOST)
    form.get_by_role("button", name="Save brand").click()
    expect(form.get_by_label("Colour")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_text("Give the colour as #rrggbb")).to_be_visible()
    # Nothing was saved: the header still says Frontdesk.
    expect(owner.get_by_role("link", name="Frontdesk", exact=True)).to_be_visible()
    form.get_by_label("Colour").fill("#aa3300")
    form.get_by_role("button", name="Save brand").click()

    header = owner.locator("#topbar")
    expect(header.get_by_role("link", name="Globex Phones")).to_be_visible()
    expect(header.locator("img.brand-logo")).to_have_attribute("src", LOGO)
    expect(header).to_have_css("border-top-color", "rgb(170, 51, 0)")
    expect(_source_of(owner, "Portal name")).to_have_text("Set here")
    expect(owner).to_have_title("Settings of Globex GmbH · Globex Phones admin")
    app.check_a11y(owner, "brand-header")

    # A member of Globex sees the same header.
    member = app.page()
    _serve_logo(member)
    app.sign_in(member, "carol@globex.example.com")
    expect(member.locator("#topbar").get_by_role("link", name="Globex Phones")).to_be_visible()

    # The server's own address keeps the default sign-in page.
    app.sign_out(member)

    # Reached by Globex's host name (resolved to this server), the sign-in page wears its brand.
    port = urlsplit(server.url).port
    browser = app.browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"],
        headless=True,
    )
    try:
        context = browser.new_context(viewport=LAPTOP, reduced_motion="reduce")
        page = context.new_page()
        context.route("https://logo.globex.example/**", _fulfil_logo)
        page.goto(f"http://{HOST}:{port}/admin/sign-in")
        expect(page.get_by_role("heading", name="Sign in to Globex Phones")).to_be_visible()
        expect(page.locator(".sign-in-brand img.brand-logo")).to_have_attribute("src", LOGO)
        expect(page.get_by_text("Help: help@northwind.example.com")).to_be_visible()
        expect(page.locator(".sign-in-brand")).to_have_css("border-top-color", "rgb(170, 51, 0)")
        app.check_a11y(page, "brand-sign-in")
    finally:
        browser.close()


def _fulfil_logo(route: Route) -> None:
    route.fulfill(status=200, content_type="image/png", body=PNG)
