"""Managing members in the app: change a role, disable and enable with
confirmation, and the step-up prompt when the sign-in is no longer recent."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server
from tests.browser.helpers import App


def open_member(app: App, page: Page, name: str) -> None:
    app.open_section(page, "Users")
    page.get_by_label("Search").fill(name.split()[0])
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def test_admin_changes_a_role_then_disables_and_enables_the_member(app: App) -> None:
    page = app.page()
    app.sign_in(page, "owner@acme.example.com")
    open_member(app, page, "Viewer Acme")
    app.check_a11y(page, "member-detail")
    app.doc_shot(page, "member")

    page.get_by_role("combobox", name="Role").select_option("MEMBER")
    page.get_by_role("button", name="Change role").click()
    expect(page.get_by_text("Viewer Acme is now member.")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Member")

    page.get_by_role("button", name="Disable").click()
    confirm = page.get_by_role("dialog", name="Disable Viewer Acme?")
    expect(confirm).to_be_visible()
    # Cancel is focused first: Enter on a consequential dialog does nothing harmful.
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    app.check_a11y(page, "confirm-dialog")
    confirm.get_by_role("button", name="Disable").click()
    header = page.locator(".page-head")
    expect(header.get_by_text("Disabled")).to_be_visible()

    page.get_by_role("button", name="Enable").click()
    page.get_by_role("dialog", name="Enable Viewer Acme?").get_by_role(
        "button", name="Enable"
    ).click()
    expect(header.get_by_text("Active")).to_be_visible()

    # The list agrees, and its status filter finds them.
    app.open_section(page, "Users")
    page.get_by_label("Status").select_option("ACTIVE")
    expect(page.get_by_role("row").filter(has_text="viewer@acme.example.com")).to_be_visible()
    page.get_by_label("Status").select_option("DISABLED")
    expect(page.get_by_text("No users match these filters.")).to_be_visible()


def test_step_up_prompt_appears_and_the_action_completes_after_it(app: App, server: Server) -> None:
    page = app.page()
    app.sign_in(page, "owner@globex.example.com")
    open_member(app, page, "Carol Globex")
    # Make the sign-in 10 minutes old: making someone an admin needs one within 5.
    server.age_session("owner@globex.example.com", minutes=10)

    page.get_by_role("combobox", name="Role").select_option("ADMIN")
    page.get_by_role("button", name="Change role").click()
    prompt = page.get_by_role("dialog", name="Confirm it's you")
    expect(prompt).to_be_visible()
    app.check_a11y(page, "step-up")
    prompt.get_by_label("Password").fill("not the password")
    prompt.get_by_role("button", name="Confirm").click()
    expect(prompt.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    prompt.get_by_label("Password").fill(server.password)
    prompt.get_by_role("button", name="Confirm").click()
    expect(prompt).to_be_hidden()
    # The original action ran after the prompt, without a second click.
    expect(page.get_by_text("Carol Globex is now admin.")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Admin")
