"""Impersonation in the app: an owner grants the right, an admin opens a
member's portal with a reason, turns their do-not-disturb off, and stops; the
trail reads newest first with before and after, the member gets the mail and
finds the change under "My activity"."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Mailbox
from tests.browser.helpers import App

DND_OFF = "Admin Acme as Bob Acme switched do not disturb off for extension 202"


def test_admin_opens_a_members_portal_turns_dnd_off_and_stops(app: App, mailbox: Mailbox) -> None:
    owner = app.page()
    app.sign_in(owner, "owner@acme.example.com")
    app.open_section(owner, "Users")
    owner.get_by_role("link", name="Admin Acme").click()
    owner.get_by_label("May open members' portals (impersonation)").check()
    owner.get_by_role("button", name="Save feature access").click()
    expect(owner.get_by_text("Feature access saved.")).to_be_visible()

    page = app.page()
    app.sign_in(page, "admin@acme.example.com")
    app.open_section(page, "Users")
    page.get_by_role("link", name="Bob Acme").click()
    page.get_by_role("button", name="Open user's portal").click()
    dialog = page.get_by_role("dialog", name="Open Bob Acme's portal")
    dialog.get_by_role("button", name="Open portal").click()
    expect(dialog.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("Reason").fill("Bob is on leave and left do-not-disturb on")
    dialog.get_by_role("button", name="Open portal").click()

    banner = page.get_by_role("region", name="Impersonation")
    expect(banner).to_contain_text("Bob Acme")
    expect(banner).to_contain_text(re.compile(r"(\d+ min|less than a minute) left"))
    expect(banner).to_contain_text("Admin Acme")
    # Bob is a member: his portal opens on his phone and offers no user admin.
    expect(page.get_by_role("heading", name="My phone: extension 202")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    switch = page.get_by_role("switch", name="Do not disturb")
    expect(switch).to_have_attribute("aria-checked", "true")
    app.check_a11y(page, "impersonation-my-phone")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.locator(".page-head").get_by_text("Available")).to_be_visible()
    app.shot(page, "impersonation-banner")
    app.doc_shot(page, "impersonation")

    banner.get_by_role("button", name="Stop impersonating").click()
    expect(banner).to_be_hidden()
    expect(page.get_by_role("heading", name="Bob Acme", level=1)).to_be_visible()
    expect(page.locator(".who")).to_have_text("Admin Acme")

    # The administrator sees the change on Bob's extension, and the trail.
    app.open_section(page, "Extensions")
    row = page.get_by_role("row").filter(has_text="Bob Acme")
    expect(row.get_by_text("Available")).to_be_visible()
    app.open_section(page, "Audit log")
    page.get_by_label("Action (exact, or a prefix ending in a dot)").fill("impersonation.")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("row").filter(has_text="impersonation.started")).to_be_visible()
    rows = page.locator("table.audit tbody tr")
    # Newest first, each event a sentence.
    expect(rows.first).to_contain_text("Admin Acme closed the portal of Bob Acme")
    expect(rows.nth(1)).to_contain_text("Admin Acme opened the portal of Bob Acme")
    page.get_by_label("Action (exact, or a prefix ending in a dot)").fill("extension.")
    page.get_by_role("button", name="Apply").click()
    changed = rows.filter(has_text=DND_OFF)
    expect(changed).to_have_count(1)
    before, after = changed.locator(".before-after .side").all()
    expect(before).to_contain_text("Before")
    expect(before.locator("dt")).to_have_text(["Do not disturb"])
    expect(before.locator("dd")).to_have_text(["on"])
    expect(after.locator("dd")).to_have_text(["off"])
    # Side by side, and the list uses the page's width.
    assert before.bounding_box()["y"] == after.bounding_box()["y"]  # type: ignore[index]
    page.set_viewport_size({"width": 1600, "height": 900})
    main_width = page.locator("main").bounding_box()["width"]  # type: ignore[index]
    assert main_width > 1300, main_width  # not the 72rem column of the other screens
    page.set_viewport_size({"width": 1280, "height": 800})
    app.check_a11y(page, "audit-log-events")
    app.shot(page, "audit-log-events")

    # Bob hears of it once it ended, in words, and finds it under "My activity".
    mail = mailbox.wait_for("bob@acme.example.com", "used your Frontdesk account")
    text = mail.get_body(("plain",)).get_content()
    assert "Reason given: Bob is on leave and left do-not-disturb on" in text
    assert f"- {DND_OFF}" in text
    bob = app.page()
    app.sign_in(bob, "bob@acme.example.com")
    app.open_section(bob, "My activity")
    expect(bob.get_by_role("heading", name="My activity")).to_be_visible()
    expect(bob.locator("table.audit tbody tr").filter(has_text=DND_OFF)).to_have_count(1)
    app.check_a11y(bob, "my-activity")


DESKTOP = {"width": 1366, "height": 768}


def open_carols_portal(app: App, page: Page) -> None:
    app.sign_in(page, "admin@globex.example.com")
    app.open_section(page, "Users")
    page.get_by_role("link", name="Carol Globex").click()
    page.get_by_role("button", name="Open user's portal").click()
    dialog = page.get_by_role("dialog", name="Open Carol Globex's portal")
    dialog.get_by_label("Reason").fill("Carol cannot find her voicemail settings")
    dialog.get_by_role("button", name="Open portal").click()
    expect(page.get_by_role("region", name="Impersonation")).to_contain_text("Carol Globex")


def test_signing_out_inside_a_portal_signs_the_administrator_out(
    app: App, mailbox: Mailbox
) -> None:
    owner = app.page()
    app.sign_in(owner, "owner@globex.example.com")
    app.open_section(owner, "Users")
    owner.get_by_role("link", name="Admin Globex").click()
    owner.get_by_label("May open members' portals (impersonation)").check()
    owner.get_by_role("button", name="Save feature access").click()
    expect(owner.get_by_text("Feature access saved.")).to_be_visible()

    for phone in (False, True):
        page = app.page(phone=phone)
        if not phone:
            page.set_viewport_size(DESKTOP)
        open_carols_portal(app, page)
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in to Frontdesk")).to_be_visible()
        # Reopening the app finds no session: neither Carol's portal nor the admin's own.
        page.goto("/admin/")
        expect(page.get_by_role("heading", name="Sign in to Frontdesk")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/admin/sign-in"))
        page.goto("/admin/account")
        expect(page.get_by_role("heading", name="Sign in to Frontdesk")).to_be_visible()
        app.check_a11y(page, f"signed-out-after-portal-{'phone' if phone else 'desktop'}")
        # Carol hears that the portal was closed.
        mail = mailbox.wait_for("carol@globex.example.com", "used your Frontdesk account")
        assert "Carol cannot find her voicemail settings" in mail.get_body(("plain",)).get_content()

    # The trail has the end of both impersonations, signed out.
    app.sign_in(owner, "owner@globex.example.com")
    owner.set_viewport_size(DESKTOP)
    app.open_section(owner, "Audit log")
    owner.get_by_label("Action (exact, or a prefix ending in a dot)").fill("impersonation.ended")
    owner.get_by_role("button", name="Apply").click()
    ended = owner.locator("table.audit tbody tr").filter(
        has_text="Admin Globex signed out of the portal of Carol Globex"
    )
    expect(ended).to_have_count(2)
