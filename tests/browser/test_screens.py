"""Every main screen passes axe-core (no serious or critical violation) on a
laptop and a phone, and the smaller flows on them work: API tokens and webhook
secrets shown once, revoking, the audit CSV, contacts, extensions, settings,
my account."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import App


def test_reseller_screens_api_tokens_and_audit_export(app: App) -> None:
    page = app.page()
    app.sign_in(page, "owner@northwind.example.com")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_label("Include users of customers").check()
    expect(page.get_by_role("columnheader", name="Organisation")).to_be_visible()
    app.check_a11y(page, "users-with-customers")
    app.doc_shot(page, "users")

    app.open_section(page, "API tokens")
    page.get_by_role("button", name="Create token").click()
    dialog = page.get_by_role("dialog", name="New API token for Northwind Hosting")
    dialog.get_by_label("Name").fill("Billing sync")
    dialog.get_by_role("button", name="Create token").click()
    expect(dialog.get_by_text("Choose at least one permission.")).to_be_visible()
    dialog.get_by_label("Members view").check()
    dialog.get_by_label("Customers manage").check()
    dialog.get_by_label("Only the admin app's operations").check()
    app.check_a11y(page, "api-token-dialog")
    dialog.get_by_role("button", name="Create token").click()
    shown = page.get_by_role("dialog", name='Token "Billing sync" created')
    expect(shown.get_by_label("Token")).to_have_value(re.compile(r"^fdt_"))
    shown.get_by_role("button", name="Done").click()
    row = page.get_by_role("row").filter(has_text="Billing sync")
    expect(row.get_by_text("Active")).to_be_visible()
    expect(row.get_by_text("Only the admin app's operations")).to_be_visible()
    app.check_a11y(page, "api-tokens")
    row.get_by_role("button", name="Revoke Billing sync").click()
    page.get_by_role("dialog", name='Revoke "Billing sync"?').get_by_role(
        "button", name="Revoke"
    ).click()
    expect(row.get_by_text("Revoked")).to_be_visible()

    app.open_section(page, "Audit log")
    page.get_by_label("Include customers").check()
    expect(page.get_by_role("columnheader", name="Organisation")).to_be_visible()
    app.check_a11y(page, "audit-log")
    href = page.get_by_role("link", name="Export CSV").get_attribute("href") or ""
    assert href.startswith("/audit/export.csv?") and "includeDescendants=true" in href
    csv = page.request.get(href)
    assert csv.ok, csv.status
    assert csv.text().splitlines()[0].startswith("id,created_at,")

    # Webhooks: the URL's error shows at the field; the secret is shown once.
    app.open_section(page, "Webhooks")
    page.get_by_role("button", name="Create webhook").click()
    dialog = page.get_by_role("dialog", name="New webhook for Northwind Hosting")
    dialog.get_by_label("Endpoint URL").fill("ftp://hooks.example.com/frontdesk")
    dialog.get_by_label("member.invited").check()
    dialog.get_by_role("button", name="Create webhook").click()
    expect(dialog.get_by_label("Endpoint URL")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("Endpoint URL").fill("https://hooks.example.com/frontdesk")
    dialog.get_by_role("button", name="Create webhook").click()
    created = page.get_by_role("dialog", name="Webhook created")
    expect(created.get_by_label("Signing secret")).to_have_value(re.compile(r"^whsec_"))
    created.get_by_role("button", name="Done").click()
    endpoint = page.get_by_role("region", name="https://hooks.example.com/frontdesk")
    expect(endpoint.get_by_text("Active")).to_be_visible()
    app.check_a11y(page, "webhooks")
    endpoint.get_by_role("button", name="Pause").click()
    expect(endpoint.get_by_text("Paused")).to_be_visible()
    endpoint.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete this webhook?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()

    app.open_section(page, "Settings")
    expect(page.get_by_role("heading", name="Settings of Northwind Hosting")).to_be_visible()
    app.check_a11y(page, "settings")

    page.get_by_role("link", name="My account").first.click()
    expect(page.get_by_role("heading", name="Where you're signed in")).to_be_visible()
    expect(page.get_by_text("This session")).to_be_visible()
    app.check_a11y(page, "my-account")


def test_customer_admin_screens_contacts_and_extensions(app: App) -> None:
    page = app.page()
    app.sign_in(page, "admin@acme.example.com")
    app.open_section(page, "Contacts")
    expect(page.get_by_role("row").filter(has_text="accounts@acme.example.com")).to_be_visible()
    page.get_by_role("button", name="Add contact").click()
    dialog = page.get_by_role("dialog", name="Add a contact")
    dialog.get_by_label("Contact for").select_option("TECHNICAL")
    dialog.get_by_label("First name").fill("Rita")
    dialog.get_by_label("Last name").fill("Router")
    dialog.get_by_label("Email").fill("rita@acme.example.com")
    dialog.get_by_role("button", name="Add contact").click()
    expect(page.get_by_role("row").filter(has_text="rita@acme.example.com")).to_be_visible()
    app.check_a11y(page, "contacts")

    app.open_section(page, "Extensions")
    expect(page.get_by_role("link", name="201")).to_be_visible()
    app.check_a11y(page, "extensions")
    page.get_by_role("link", name="201").click()
    expect(page.get_by_role("heading", name="Extension 201 · Alice")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Always forward")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="When there is no answer")).to_be_checked()
    expect(page.get_by_role("heading", name="Calls")).to_be_visible()
    app.check_a11y(page, "extension-detail")

    app.open_section(page, "My phone")
    expect(page.get_by_role("heading", name="My phone: extension 203")).to_be_visible()


def test_phone_layout_keeps_navigation_and_lists_usable(app: App) -> None:
    page = app.page(phone=True)
    app.sign_in(page, "owner@acme.example.com")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Users")).to_be_visible()
    nav.get_by_role("link", name="Users").click()
    expect(nav).to_be_hidden()
    expect(page.get_by_role("row").filter(has_text="alice@acme.example.com")).to_be_visible()
    app.check_a11y(page, "users-phone")
    # Keyboard: on a fresh load the skip link is the first stop; it lands in the content.
    page.reload()
    expect(page.get_by_role("row").filter(has_text="alice@acme.example.com")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
