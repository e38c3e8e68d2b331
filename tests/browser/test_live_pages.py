"""Pages that tell what is going on: the invitation page says who invites whom
to what (and fills in the names the inviter typed), rights granted while a
page is open show on the next focus without a reload, and lists say when they
are loading and tell "nothing yet" from "nothing matches" (with the network
held back by Playwright, and a brand-new customer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Route, expect

from server.settings import Settings
from tests.browser.conftest import Mailbox
from tests.browser.helpers import App

NEW_PASSWORD = "correct horse battery staple"
INVITE = """mutation($input: InviteUserInput!) { inviteUser(input: $input) {
  invitation { id } errors { code message } } }"""
MEMBERS = """query($org: ID!) { members(organisationId: $org, first: 50) {
  nodes { id user { email } } } }"""
FEATURES = """mutation($input: SetFeatureAccessInput!) { setFeatureAccess(input: $input) {
  membership { canImpersonate } errors { code message } } }"""


SESSION_COOKIE = Settings.session_cookie_name
DOCUMENTS = Path(__file__).resolve().parents[2] / "static/admin/documents.json"


def api(page: Page, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """A GraphQL call as the page's person. The suite's server runs only the app's own
    documents for cookie sessions (FRONTDESK_TRUSTED_DOCUMENTS=enforce), so the test's
    documents go with the same session as a bearer token, which may send any."""
    [session] = [c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    body = page.evaluate(
        """async ([query, variables, session]) => {
          const answer = await fetch("/graphql", { method: "POST", credentials: "omit",
            headers: { "Content-Type": "application/json", "Authorization": `Bearer ${session}` },
            body: JSON.stringify({ query, variables }) });
          return answer.json();
        }""",
        [query, variables or {}, session],
    )
    assert "errors" not in body, body
    return body["data"]


def a11y_now(page: Page, screen: str) -> None:
    """axe on the page as it is (a request held back: no waiting for the network)."""
    violations = Axe().run(page).response["violations"]
    bad = [v["id"] for v in violations if v.get("impact") in ("serious", "critical")]
    assert not bad, f"accessibility violations on {screen}: {bad}"


def at_every_width(app: App, page: Page, screen: str) -> None:
    """Desktop 1366 and 1920 px and a 390 px phone: no sideways scroll, axe clean;
    then the page's own size again."""
    before = page.viewport_size
    for width, height in [(1366, 768), (1920, 1080), (390, 844)]:
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{screen} scrolls sideways at {width} px"
        app.check_a11y(page, f"{screen}-{width}")
    if before:
        page.set_viewport_size(before)


def viewer_org(page: Page, name: str) -> str:
    data = api(page, "{ viewer { memberships { organisation { id name } } } }")
    [found] = [
        m["organisation"]["id"]
        for m in data["viewer"]["memberships"]
        if m["organisation"]["name"] == name
    ]
    return found


def test_the_invitation_page_says_who_invites_and_keeps_the_names_typed(
    app: App, mailbox: Mailbox
) -> None:
    admin = app.page()
    app.sign_in(admin, "admin@acme.example.com")
    acme = viewer_org(admin, "Acme Ltd")
    for email, first, last in [
        ("nora@acme.example.com", "Nora", "Nyström"),
        ("carol@globex.example.com", None, None),  # already has an account
    ]:
        invited = api(
            admin,
            INVITE,
            {
                "input": {
                    "organisationId": acme,
                    "email": email,
                    "role": "ADMIN" if first else "MEMBER",
                    "firstName": first,
                    "lastName": last,
                }
            },
        )
        assert invited["inviteUser"]["errors"] == [], invited

    person = app.page()
    person.goto(mailbox.link(mailbox.wait_for("nora@acme.example.com"), "/admin/accept-invitation"))
    expect(person.get_by_role("heading", name="Accept your invitation")).to_be_visible()
    expect(person.get_by_text("Admin Acme invites you to Acme Ltd as Admin.")).to_be_visible()
    expect(person.get_by_text("Sent to n•••@acme.example.com")).to_be_visible()
    # The names the inviter typed are there, to check; the password field has the focus.
    expect(person.get_by_label("First name")).to_have_value("Nora")
    expect(person.get_by_label("Last name")).to_have_value("Nyström")
    expect(person.get_by_label("Password", exact=True)).to_be_focused()
    at_every_width(app, person, "accept-invitation-preview")
    person.get_by_label("Last name").fill("Nyström-Berg")  # a correction
    person.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    person.get_by_role("button", name="Accept and sign in").click()
    expect(person.get_by_role("button", name="Sign out")).to_be_visible()
    expect(person.get_by_text("Nora Nyström-Berg").first).to_be_visible()

    # The same link again, and a made-up one: one clear answer.
    link = mailbox.link(mailbox.wait_for("carol@globex.example.com"), "/admin/accept-invitation")
    stranger = app.page(phone=True)
    for url in [
        "/admin/accept-invitation#token=fdi_made-up-token",
        link.replace(link.split("#token=")[1], "fdi_" + "x" * 43),
    ]:
        stranger.goto(url)
        expect(
            stranger.get_by_role("heading", name="This invitation link is not valid")
        ).to_be_visible()
    app.check_a11y(stranger, "accept-invitation-invalid-phone")

    # An existing account is asked only for its password, to join.
    stranger.goto(link)
    expect(stranger.get_by_text("Admin Acme invites you to Acme Ltd as Member.")).to_be_visible()
    expect(stranger.get_by_text("Sent to c•••@globex.example.com")).to_be_visible()
    expect(stranger.get_by_label("First name")).to_have_count(0)
    expect(stranger.get_by_text("This address already has an account")).to_be_visible()
    stranger.get_by_label("Password", exact=True).fill(app.server.password)
    stranger.get_by_role("button", name="Accept and sign in").click()
    expect(stranger.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_right_granted_meanwhile_shows_after_a_focus_without_a_reload(app: App) -> None:
    owner = app.page()
    app.sign_in(owner, "owner@globex.example.com")
    globex = viewer_org(owner, "Globex GmbH")
    members = {
        n["user"]["email"]: n["id"]
        for n in api(owner, MEMBERS, {"org": globex})["members"]["nodes"]
    }
    admin_membership = members["admin@globex.example.com"]

    def grant(value: bool) -> None:
        done = api(
            owner, FEATURES, {"input": {"membershipId": admin_membership, "canImpersonate": value}}
        )
        assert done["setFeatureAccess"]["errors"] == [], done

    grant(False)
    admin = app.page()
    app.sign_in(admin, "admin@globex.example.com")
    app.open_section(admin, "Users")
    admin.get_by_role("link", name="Carol Globex").click()
    expect(admin.get_by_role("heading", name="Carol Globex")).to_be_visible()
    expect(admin.get_by_role("button", name="Open user's portal")).to_have_count(0)
    admin.evaluate("window.__sameDocument = true")

    grant(True)
    admin.evaluate("window.dispatchEvent(new Event('focus'))")
    expect(admin.get_by_role("button", name="Open user's portal")).to_be_visible()
    assert admin.evaluate("window.__sameDocument === true"), "the page was reloaded"

    # Taken away again: a navigation is enough to notice.
    grant(False)
    admin.get_by_role("link", name="Users").first.click()
    admin.get_by_role("link", name="Carol Globex").click()
    expect(admin.get_by_role("heading", name="Carol Globex")).to_be_visible()
    expect(admin.get_by_role("button", name="Open user's portal")).to_have_count(0)
    assert admin.evaluate("window.__sameDocument === true"), "the page was reloaded"


class HeldBack:
    """Holds GraphQL requests whose body contains `marker` until `release()`."""

    def __init__(self, page: Page, marker: str) -> None:
        self.page = page
        # The app sends its documents by id (trusted documents): the ids whose text has it.
        manifest = json.loads(DOCUMENTS.read_text())
        self.markers = [marker] + [f"sha256:{h}" for h, text in manifest.items() if marker in text]
        self.held: list[Route] = []
        page.route("**/graphql", self._handle)

    def _handle(self, route: Route) -> None:
        body = route.request.post_data or ""
        if any(marker in body for marker in self.markers):
            self.held.append(route)
        else:
            route.continue_()

    def release(self) -> None:
        for route in self.held:
            route.continue_()
        self.held.clear()
        self.page.unroute("**/graphql", self._handle)


def test_lists_say_they_are_loading_and_tell_nothing_yet_from_no_match(app: App) -> None:
    page = app.page()
    app.sign_in(page, "owner@northwind.example.com")
    northwind = viewer_org(page, "Northwind Hosting")
    created = api(
        page,
        """mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) {
          organisation { id } errors { message } } }""",
        {"input": {"parentId": northwind, "name": "Brand New Ltd", "kind": "CUSTOMER"}},
    )["createOrganisation"]
    new = created["organisation"]["id"]

    # The users of a brand-new customer, while the network holds the list back.
    slow = HeldBack(page, "query Members(")
    page.goto(f"/admin/o/{new}/users")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    results = page.locator(".list-results")
    expect(results).to_have_attribute("aria-busy", "true")
    expect(results.get_by_text("Loading users…")).to_be_visible()
    expect(page.locator(".list-footer [aria-live=polite]")).to_have_text("Loading users…")
    a11y_now(page, "users-loading")
    slow.release()
    expect(results).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_text("No users yet.")).to_be_visible()
    expect(page.get_by_text("No users match these filters.")).to_have_count(0)
    page.get_by_role("button", name="Invite the first user").click()
    dialog = page.get_by_role("dialog", name="Invite someone to Brand New Ltd")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    at_every_width(app, page, "users-nothing-yet")

    # A filter that matches nobody says so instead.
    page.get_by_label("Search").fill("nobody by this name")
    expect(page.get_by_text("No users match these filters.")).to_be_visible()
    expect(page.get_by_text("No users yet.")).to_have_count(0)

    # A screen that loads before it shows anything says so after a moment.
    slow = HeldBack(page, "apiTokens(")
    page.goto(f"/admin/o/{new}/tokens")
    screen = page.locator("#main .screen")
    expect(screen).to_have_attribute("aria-busy", "true")
    expect(screen.get_by_text("Loading…")).to_be_visible()
    slow.release()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(screen).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_text("No API tokens yet.")).to_be_visible()

    # Tickets: held back, then an empty desk with how to raise the first.
    owner = app.page(phone=True)
    app.sign_in(owner, "owner@acme.example.com")
    acme = viewer_org(owner, "Acme Ltd")
    slow = HeldBack(owner, "query Tickets(")
    owner.goto(f"/admin/o/{acme}/tickets")
    expect(owner.get_by_role("heading", name="Tickets")).to_be_visible()
    expect(owner.locator(".list-results")).to_have_attribute("aria-busy", "true")
    expect(owner.locator(".list-results").get_by_text("Loading tickets…")).to_be_visible()
    slow.release()
    expect(owner.locator(".list-results")).not_to_have_attribute("aria-busy", "true")
    owner.get_by_label("Search").fill("no ticket is called this")
    expect(owner.get_by_text("No tickets match these filters.")).to_be_visible()
    app.check_a11y(owner, "tickets-no-match-phone")
