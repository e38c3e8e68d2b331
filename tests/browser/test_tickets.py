"""Tickets in the app: a member raises one; the reseller's support desk
(ACCOUNT ticket access) finds it among its customers' tickets and answers."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import App

SUBJECT = "Headset crackles on every call"


def test_member_raises_a_ticket_and_the_account_level_desk_sees_it(app: App) -> None:
    page = app.page()
    app.sign_in(page, "alice@acme.example.com")
    app.open_section(page, "Tickets")
    page.get_by_role("button", name="Raise a ticket").click()
    dialog = page.get_by_role("dialog", name="Raise a ticket with Acme Ltd's support")
    dialog.get_by_label("Priority").select_option("HIGH")
    dialog.get_by_label("Subject").fill(SUBJECT)
    dialog.get_by_label("Description").fill("Since the update this morning.")
    dialog.get_by_role("button", name="Raise ticket").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(SUBJECT)
    expect(page.locator(".page-head").get_by_text("New")).to_be_visible()
    app.sign_out(page)

    app.sign_in(page, "member@northwind.example.com")
    app.open_section(page, "Tickets")
    expect(page.get_by_role("link", name=SUBJECT)).to_have_count(0)
    page.get_by_label("Include customers' tickets").check()
    row = page.get_by_role("row").filter(has_text=SUBJECT)
    expect(row.get_by_role("cell", name="Acme Ltd")).to_be_visible()
    expect(row.get_by_text("Alice Acme")).to_be_visible()
    app.check_a11y(page, "tickets")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(SUBJECT)

    page.get_by_label("Your answer").fill("A replacement headset is on its way.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_role("heading", name="Comments (1)")).to_be_visible()
    expect(page.get_by_text("A replacement headset is on its way.")).to_be_visible()
    page.get_by_role("combobox", name="Status").select_option("IN_PROGRESS")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator(".page-head").get_by_text("In progress")).to_be_visible()
    app.check_a11y(page, "ticket-detail")
