"""The audit log in the app: newest first; a reseller sees its customers' events
(the customer it just created included) until it narrows the view; who did it
and whom it was about picked by name; before and after side by side in words;
on a wide screen every column in view, nothing behind a sideways scroll."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import App

CUSTOMER = "Audit Trail Ltd"
OWNER = "Owner Northwind (owner@northwind.example.com, Northwind Hosting)"
ADMIN = "Admin Northwind (admin@northwind.example.com, Northwind Hosting)"


def create_customer(app: App, page: Page) -> None:
    app.open_section(page, "Customers")
    page.get_by_role("button", name="Create customer").click()
    dialog = page.get_by_role("dialog", name="New customer of Northwind Hosting")
    dialog.get_by_label("Name").fill(CUSTOMER)
    dialog.get_by_role("button", name="Create customer").click()
    created = page.get_by_role("dialog", name=f"{CUSTOMER} was created")
    expect(created).to_be_visible()
    page.keyboard.press("Escape")
    expect(created).to_be_hidden()


def change_office_phone(app: App, page: Page, number: str) -> None:
    app.open_section(page, "Users")
    page.get_by_label("Search").fill("Admin")
    page.get_by_role("link", name="Admin Northwind").click()
    expect(page.get_by_role("heading", name="Admin Northwind", level=1)).to_be_visible()
    page.get_by_label("Office phone").fill(number)
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Details saved.")).to_be_visible()


def pick(page: Page, label: str, person: str) -> None:
    """Type part of the name, then the suggestion in full (as choosing it does)."""
    field = page.get_by_label(label, exact=True)
    field.fill(person.split()[0])
    expect(page.locator(f"#{field.get_attribute('list')} option[value='{person}']")).to_have_count(
        1
    )
    field.fill(person)
    expect(field).to_have_attribute("aria-invalid", "false")


def summaries(page: Page) -> list[str]:
    page.wait_for_load_state("networkidle")
    expect(page.locator(".list-results.stale")).to_have_count(0)
    return page.locator("table.audit .summary").all_inner_texts()


def test_reseller_audit_log(app: App) -> None:
    page = app.page()
    app.sign_in(page, "owner@northwind.example.com")
    create_customer(app, page)
    change_office_phone(app, page, "+49 30 901820")

    app.open_section(page, "Audit log")
    # Customers included from the start: the new customer's creation is listed.
    expect(page.get_by_label("Include customers")).to_be_checked()
    expect(page.get_by_role("columnheader", name="Organisation")).to_be_visible()
    created = page.get_by_role("row").filter(
        has_text=f"Owner Northwind created the organisation {CUSTOMER}"
    )
    expect(created.get_by_role("cell", name=CUSTOMER, exact=True)).to_be_visible()

    # Newest first: the change just made at the top, the times going back.
    first = page.locator("table.audit tbody tr").first
    expect(first.locator(".summary")).to_have_text(
        re.compile(r"^Owner Northwind changed the details of Admin Northwind")
    )
    stamps = page.locator("table.audit tbody td:first-child time").evaluate_all(
        "times => times.map((t) => t.getAttribute('datetime'))"
    )
    assert len(stamps) >= 3 and stamps == sorted(stamps, reverse=True), stamps

    # Before and after side by side, in words.
    before, after = first.locator(".before-after .side").all()
    expect(before.locator(".side-label")).to_have_text(re.compile("Before", re.I))
    expect(after.locator(".side-label")).to_have_text(re.compile("After", re.I))
    expect(before.locator("dt")).to_have_text(["Office phone"])
    expect(before.locator("dd")).to_have_text(["none"])
    expect(after.locator("dd")).to_have_text(["+49 30 901820"])
    before_box, after_box = before.bounding_box(), after.bounding_box()
    assert before_box and after_box
    assert after_box["x"] >= before_box["x"] + before_box["width"]
    assert abs(after_box["y"] - before_box["y"]) < 2
    app.check_a11y(page, "audit-reseller")

    # Narrowed to the reseller itself: its own events only.
    page.get_by_label("Include customers").uncheck()
    expect(page.get_by_role("columnheader", name="Organisation")).to_be_hidden()
    expect(created).to_have_count(0)
    assert any(s.startswith("Owner Northwind changed the details") for s in summaries(page))
    page.get_by_label("Include customers").check()
    expect(created).to_have_count(1)

    # Who did it, picked by name.
    pick(page, "Done by", OWNER)
    listed = summaries(page)
    assert listed and all(s.startswith("Owner Northwind") for s in listed), listed
    expect(created).to_have_count(1)
    href = page.get_by_role("link", name="Export CSV").get_attribute("href") or ""
    assert "actorId=" in href and "includeDescendants=true" in href

    # Whom it was about, too: only the change to Admin Northwind.
    pick(page, "About", ADMIN)
    expect(page.locator("table.audit .summary")).to_have_count(1)
    expect(page.locator("table.audit .summary")).to_have_text(
        re.compile(r"^Owner Northwind changed the details of Admin Northwind")
    )

    # A name nobody has: the field says so, the list stays as it was.
    about = page.get_by_label("About", exact=True)
    about.fill("Nobody Anywhere")
    expect(about).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Nobody here has this name or address.")).to_be_visible()
    expect(page.locator("table.audit .summary")).to_have_count(1)

    # Both cleared: everything again.
    about.fill("")
    page.get_by_label("Done by", exact=True).fill("")
    expect(page.locator("table.audit .summary").filter(has_text="signed in").first).to_be_visible()


def test_wide_screens_show_every_column(app: App) -> None:
    page = app.page()
    app.sign_in(page, "owner@northwind.example.com")
    change_office_phone(app, page, "+49 30 901821")
    app.open_section(page, "Audit log")
    expect(page.get_by_label("Include customers")).to_be_checked()
    expect(page.locator("table.audit .before-after").first).to_be_visible()
    for width, height in ((1366, 768), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        sizes = page.evaluate(
            """() => new Promise((done) => requestAnimationFrame(() => {
              const wrap = document.querySelector("main .table-wrap");
              const main = document.querySelector("main");
              done({
                page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
                table: [wrap.scrollWidth, wrap.clientWidth],
                main: main.getBoundingClientRect().right,
              });
            }))"""
        )
        assert sizes["page"][0] <= sizes["page"][1], (width, sizes)
        assert sizes["table"][0] <= sizes["table"][1], (width, sizes)
        # The page uses the width it has (no empty band on the right).
        assert sizes["main"] >= width - 2, (width, sizes)
        for column in ("When", "What happened", "Organisation", "Address"):
            header = page.get_by_role("columnheader", name=column, exact=True)
            expect(header).to_be_in_viewport()
            box = header.bounding_box()
            assert box and box["x"] + box["width"] <= width, (column, width, box)
        sides = page.locator("table.audit .before-after").first.locator(".side")
        expect(sides).to_have_count(2)
        for side in sides.all():
            expect(side).to_be_in_viewport()
        if width == 1366:
            app.doc_shot(page, "audit")
