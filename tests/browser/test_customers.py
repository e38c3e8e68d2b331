"""A reseller's console (issue 19 point 10): each customer's people, seats,
status and two-step policy as icons with text alternatives, and last
activity; searched and sorted by the server."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import App

COLUMNS = ["Customer", "People", "Seats", "Status", "Two-step", "Last activity"]
STATUS = re.compile(r"^Status: (active|suspended)$")
POLICY = re.compile(
    r"^Two-step verification (required of everyone|required of owners and admins|not required)$"
)


def _names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("tbody tr td:first-child a").all_inner_texts()


def test_the_console_shows_each_customer_and_searches_and_sorts(app: App) -> None:
    app.sign_in(app.page(), "owner@acme.example.com")  # something happened in Acme
    page = app.page()
    app.sign_in(page, "owner@northwind.example.com")
    app.open_section(page, "Customers")
    expect(page.get_by_role("heading", name="Customers of Northwind Hosting")).to_be_visible()
    for column in COLUMNS:
        expect(page.get_by_role("columnheader", name=column, exact=True)).to_be_visible()

    acme = page.get_by_role("row").filter(has=page.get_by_role("link", name="Acme Ltd", exact=True))
    cells = acme.get_by_role("cell")
    expect(cells.nth(1)).to_have_text(re.compile(r"^\d+$"))  # people
    expect(cells.nth(2)).to_have_text(re.compile(r"^\d+ (\(no limit\)|of \d+)$"))  # seats
    # The icons are images with a text alternative (and the same tooltip).
    status = acme.get_by_role("img", name=STATUS)
    expect(status).to_be_visible()
    assert status.locator("title").text_content() == status.get_attribute("aria-label")
    expect(acme.get_by_role("img", name=POLICY)).to_be_visible()
    # Acme's owner signed in: a time, not "Never".
    expect(cells.nth(5).locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    app.check_a11y(page, "customers-console")
    app.doc_shot(page, "customers")

    # Every customer row has both icons.
    rows = page.locator("tbody tr")
    for index in range(rows.count()):
        row = rows.nth(index)
        expect(row.get_by_role("img", name=STATUS)).to_have_count(1)
        expect(row.get_by_role("img", name=POLICY)).to_have_count(1)

    names = _names(page)
    assert names == sorted(names), names  # by name at first

    page.get_by_label("Search customers").fill("glob")
    expect(page.locator("tbody tr")).to_have_count(1)
    assert _names(page) == ["Globex GmbH"]
    page.get_by_label("Search customers").fill("nothing like it")
    expect(page.get_by_text("No customer matches.")).to_be_visible()
    page.get_by_label("Search customers").fill("")
    expect(page.locator("tbody tr")).to_have_count(len(names))

    page.get_by_label("Sort by").select_option(label="Most people")
    people = page.locator("tbody tr td:nth-child(2)")
    expect(people).to_have_count(len(names))
    # The rows are replaced in place (same count): wait for the new order, not for quiet.
    page.wait_for_function(
        """(count) => {
            const people = [...document.querySelectorAll("tbody tr td:nth-child(2)")]
                .map((cell) => parseInt(cell.innerText, 10));
            return people.length === count && people.every((n, i) => i === 0 || people[i - 1] >= n);
        }""",
        arg=len(names),
    )
    counts = [int(text) for text in people.all_inner_texts()]
    assert counts == sorted(counts, reverse=True), counts

    page.get_by_label("Sort by").select_option(label="Newest")
    page.wait_for_load_state("networkidle")
    assert sorted(_names(page)) == sorted(names)


def test_a_suspended_customer_reads_as_suspended(app: App) -> None:
    page = app.page()
    app.sign_in(page, "owner@northwind.example.com")
    app.open_section(page, "Customers")
    page.get_by_role("button", name="Create customer").click()
    dialog = page.get_by_role("dialog", name="New customer of Northwind Hosting")
    dialog.get_by_label("Name").fill("Umbrella Console")
    dialog.get_by_label("Members must use two-step verification").check()
    dialog.get_by_role("button", name="Create customer").click()
    page.get_by_role("dialog", name="Umbrella Console was created").get_by_role(
        "button", name="Open Umbrella Console"
    ).click()
    app.open_section(page, "Settings")
    page.get_by_role("button", name="Suspend").click()
    page.get_by_role("dialog").get_by_role("button", name="Suspend").click()
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()

    page.get_by_role("combobox", name="Organisation").select_option(label="Northwind Hosting")
    app.open_section(page, "Customers")
    page.get_by_label("Search customers").fill("umbrella")
    row = page.get_by_role("row").filter(has_text="Umbrella Console")
    expect(row.get_by_role("img", name="Status: suspended")).to_be_visible()
    expect(
        row.get_by_role("img", name="Two-step verification required of everyone")
    ).to_be_visible()
    expect(row.get_by_role("cell").nth(1)).to_have_text("0")
    expect(row.get_by_role("cell").nth(5)).to_contain_text(re.compile(r"Never|\d"))
