"""The SCIM card on the API tokens screen: the base URL, how people join, and a
SCIM token shown once, listed and revoked."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import App


def test_scim_tokens_are_shown_once_and_revoked(app: App) -> None:
    page = app.page()
    app.sign_in(page, "owner@northwind.example.com")
    app.open_section(page, "API tokens")
    card = page.get_by_role("region", name="SCIM provisioning")
    expect(card.get_by_text(re.compile(r"/scim/v2"))).to_be_visible()

    card.get_by_role("button", name="Create SCIM token").click()
    dialog = page.get_by_role("dialog", name="New SCIM token for Northwind Hosting")
    dialog.get_by_label("Name").fill("Entra ID")
    app.check_a11y(page, "scim-token-dialog")
    dialog.get_by_role("button", name="Create SCIM token").click()
    shown = page.get_by_role("dialog", name='SCIM token "Entra ID" created')
    expect(shown.get_by_label("SCIM token")).to_have_value(re.compile(r"^fdscim_"))
    shown.get_by_role("button", name="Done").click()
    row = card.get_by_role("row").filter(has_text="Entra ID")
    expect(row.get_by_text("Active")).to_be_visible()
    app.check_a11y(page, "scim")

    card.get_by_label("People the identity provider adds").select_option("SET_PASSWORD_LINK")
    card.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    card = page.get_by_role("region", name="SCIM provisioning")
    expect(card.get_by_label("People the identity provider adds")).to_have_value(
        "SET_PASSWORD_LINK"
    )

    row = card.get_by_role("row").filter(has_text="Entra ID")
    row.get_by_role("button", name="Revoke Entra ID").click()
    page.get_by_role("dialog", name='Revoke "Entra ID"?').get_by_role(
        "button", name="Revoke"
    ).click()
    expect(row.get_by_text("Revoked")).to_be_visible()
