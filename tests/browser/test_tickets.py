"""Tickets in the app: a member raises one; the reseller's support desk
(ACCOUNT ticket access) lands on its queue, customers' tickets included, sorts
it, and answers; each person is offered only the statuses they may set."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

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
    # The desk's queue holds its customers' tickets from the start.
    customers = page.get_by_label("Include customers' tickets")
    expect(customers).to_be_checked()
    expect(page.get_by_role("link", name=SUBJECT)).to_be_visible()
    customers.uncheck()
    expect(page.get_by_role("link", name=SUBJECT)).to_have_count(0)
    customers.check()
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
    page.get_by_role("combobox", name="New status").select_option("IN_PROGRESS")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator(".page-head").get_by_text("In progress")).to_be_visible()
    app.check_a11y(page, "ticket-detail")


DESKTOP = {"width": 1366, "height": 768}
DESK = "member@northwind.example.com"
OLDEST_DEMO = "Desk phone shows 'No service'"


def status_choices(page: Page) -> list[str]:
    return page.get_by_role("combobox", name="New status").locator("option").all_inner_texts()


def first_ticket(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("table tbody tr").first


def test_the_desk_lands_on_its_sorted_queue_and_offers_only_allowed_statuses(app: App) -> None:
    carol = app.page()
    carol.set_viewport_size(DESKTOP)
    app.sign_in(carol, "carol@globex.example.com")
    app.open_section(carol, "Tickets")
    carol.get_by_role("button", name="Raise a ticket").click()
    dialog = carol.get_by_role("dialog", name="Raise a ticket with Globex GmbH's support")
    dialog.get_by_label("Subject").fill("Hold music is silent")
    dialog.get_by_role("button", name="Raise ticket").click()
    expect(carol.get_by_role("heading", level=1)).to_contain_text("Hold music is silent")
    # A reporter may not move a new ticket: no choice offered, and it says why.
    status = carol.get_by_role("region", name="Status")
    expect(status.get_by_role("combobox")).to_have_count(0)
    expect(status).to_contain_text("Only the support desk can change this ticket's status now.")
    ticket_url = carol.url

    for phone in (False, True):
        page = app.page(phone=phone)
        if not phone:
            page.set_viewport_size(DESKTOP)
        app.sign_in(page, DESK)
        # The desk starts on its queue, not on "My phone".
        expect(page.get_by_role("heading", name="Tickets", level=1)).to_be_visible()
        expect(page).to_have_url(re.compile(r"/tickets$"))
        expect(page.get_by_label("Include customers' tickets")).to_be_checked()
        sort = page.get_by_label("Sort by")
        expect(sort).to_have_value("NEWEST_FIRST")
        expect(first_ticket(page)).to_contain_text("Hold music is silent")
        expect(first_ticket(page)).to_contain_text("Globex GmbH")
        app.check_a11y(page, f"desk-queue-{'phone' if phone else 'desktop'}")
        sort.select_option("OLDEST_FIRST")
        expect(first_ticket(page)).to_contain_text(OLDEST_DEMO)
        sort.select_option("STATUS")
        expect(first_ticket(page).get_by_text("New", exact=True)).to_be_visible()
        expect(page.locator("table tbody tr").last.get_by_text("Resolved")).to_be_visible()
        sort.select_option("LAST_UPDATED")
        expect(first_ticket(page)).to_contain_text("Hold music is silent")

    # The desk may move a new ticket on, but never back to NEW or straight to CLOSED.
    page.get_by_role("link", name=re.compile("Hold music is silent")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hold music is silent")
    assert status_choices(page) == ["In progress", "Waiting on customer", "Resolved"]
    app.check_a11y(page, "desk-ticket-statuses")
    page.get_by_role("combobox", name="New status").select_option("RESOLVED")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("Now: Resolved")).to_be_visible()

    # The reporter may now reopen or close it, and nothing else.
    carol.goto(ticket_url)
    expect(carol.get_by_text("Now: Resolved")).to_be_visible()
    assert status_choices(carol) == ["In progress", "Closed"]
    carol.get_by_role("combobox", name="New status").select_option("CLOSED")
    carol.get_by_role("button", name="Change status").click()
    expect(carol.get_by_text("Now: Closed")).to_be_visible()
    expect(carol.get_by_role("region", name="Status")).to_contain_text("This ticket is closed")
    app.check_a11y(carol, "reporter-ticket-closed")

    # Sorted by last update, the ticket just closed leads the desk's queue.
    app.open_section(page, "Tickets")
    page.get_by_label("Sort by").select_option("LAST_UPDATED")
    expect(first_ticket(page)).to_contain_text("Hold music is silent")
    expect(first_ticket(page).get_by_text("Closed")).to_be_visible()
