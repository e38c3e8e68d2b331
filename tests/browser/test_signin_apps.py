"""Sign-in apps (OpenID Connect clients) in the admin app: the provider's owner
creates one (the secret shown once, with the discovery address), a redirect
address the server refuses shows on its field and creates nothing, then edits
it, rotates the secret behind the step-up prompt and deletes it; each change
read back through the API. A reseller's admin grants a member portal access;
that member has no Sign-in apps entry, nor has a customer's admin."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx
from joserfc.jwk import ECKey
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server
from tests.browser.helpers import App
from tests.browser.test_journeys import org_id_of
from tests.browser.test_live_pages import api

OWNER = "owner@provider.example.com"
CLIENTS = """query($org: ID!) { oidcClients(organisationId: $org, first: 50) { nodes {
  id name clientId public firstParty tokenEndpointAuthMethod jwks secretHint redirectUris postLogoutRedirectUris apiPermissions
  accessRule { roles requiresPortalAccess organisations { name } } } } }"""
MEMBER = """query($id: ID!) { node(id: $id) { ... on Membership { portalAccess } } }"""


def clients(page: Page, org: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = api(page, CLIENTS, {"org": org})["oidcClients"]["nodes"]
    return nodes


def test_provider_creates_edits_rotates_and_deletes_a_sign_in_app(app: App, server: Server) -> None:
    page = app.page()
    app.sign_in(page, OWNER)
    app.open_section(page, "Sign-in apps")
    expect(page.get_by_role("heading", name="Sign-in apps", level=1)).to_be_visible()
    expect(page.get_by_text("No sign-in apps yet.")).to_be_visible()
    org = org_id_of(page)
    discovery = f"{server.url}/.well-known/openid-configuration"
    expect(page.get_by_role("textbox", name="Discovery URL")).to_have_value(discovery)

    # A redirect address the server refuses: its message on the field, nothing created.
    page.get_by_role("button", name="Create app").first.click()
    dialog = page.get_by_role("dialog", name="New sign-in app for Frontdesk Cloud")
    dialog.get_by_label("Name", exact=True).fill("Ticket desk")
    uris = dialog.get_by_label("Redirect URIs", exact=True)
    uris.fill("https://desk.example.com/callback\nhttp://desk.example.com/callback")
    dialog.get_by_role("checkbox", name="Members view").check()
    dialog.get_by_role("checkbox", name="Acme Ltd").check()
    dialog.get_by_role("checkbox", name="Admin", exact=True).check()
    dialog.get_by_role("checkbox", name="Only people with portal access").check()
    app.check_a11y(page, "sign-in-app-create")
    dialog.get_by_role("button", name="Create app").click()
    expect(uris).to_have_attribute("aria-invalid", "true")
    expect(dialog).to_contain_text("Use https (http only for localhost, for development).")
    assert clients(page, org) == []

    # Corrected: created, the secret shown this once with what the app is configured with.
    uris.fill("https://desk.example.com/callback\nhttp://localhost:8080/callback")
    expect(uris).not_to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("Post-logout redirect URIs (optional)").fill("https://desk.example.com/")
    dialog.get_by_role("button", name="Create app").click()
    shown = page.get_by_role("dialog", name='"Ticket desk" created')
    expect(shown).to_contain_text("you will not see it again")
    secret = shown.get_by_role("textbox", name="Client secret").input_value()
    assert secret.startswith("fdcs_"), secret
    client_id = shown.get_by_role("textbox", name="Client ID").input_value()
    expect(shown.get_by_role("textbox", name="Discovery URL")).to_have_value(discovery)
    app.check_a11y(page, "sign-in-app-secret")
    shown.get_by_role("button", name="Done").click()
    expect(shown).to_be_hidden()
    # The discovery address is real and names this server as the issuer.
    configuration = httpx.get(discovery, timeout=10).json()
    assert configuration["issuer"] == server.url

    row = page.get_by_role("row").filter(has_text="Ticket desk")
    expect(row).to_contain_text(client_id)
    expect(row).to_contain_text("Confidential")
    expect(row).to_contain_text("https://desk.example.com/callback")
    app.check_a11y(page, "sign-in-apps")
    app.doc_shot(page, "sign-in-apps")
    page.reload()
    expect(row).to_be_visible()
    assert secret not in page.content()  # shown once: never again
    [created] = clients(page, org)
    assert created["clientId"] == client_id
    assert secret.startswith(created["secretHint"])
    assert created["public"] is False and created["firstParty"] is False
    assert created["redirectUris"] == [
        "https://desk.example.com/callback",
        "http://localhost:8080/callback",
    ]
    assert created["postLogoutRedirectUris"] == ["https://desk.example.com/"]
    assert created["apiPermissions"] == ["MEMBERS_VIEW"]
    assert created["accessRule"] == {
        "roles": ["ADMIN"],
        "requiresPortalAccess": True,
        "organisations": [{"name": "Acme Ltd"}],
    }

    # Edit: the form holds what is stored; the changes are saved.
    row.get_by_role("button", name="Edit Ticket desk").click()
    edit = page.get_by_role("dialog", name="Edit Ticket desk")
    expect(edit.get_by_role("checkbox", name="Acme Ltd")).to_be_checked()
    expect(edit.get_by_role("checkbox", name="Only people with portal access")).to_be_checked()
    edit.get_by_label("Name", exact=True).fill("Ticket desk EU")
    edit.get_by_label("Redirect URIs", exact=True).fill("https://eu.desk.example.com/callback")
    edit.get_by_role("checkbox", name="First party: our own system, no consent page").check()
    edit.get_by_role("checkbox", name="Only people with portal access").uncheck()
    edit.get_by_role("checkbox", name="Acme Ltd").uncheck()
    edit.get_by_role("button", name="Save changes").click()
    expect(edit).to_be_hidden()
    row = page.get_by_role("row").filter(has_text="Ticket desk EU")
    expect(row).to_contain_text("First party")
    expect(row).to_contain_text("Everyone in the organisation and below · Admin")
    expect(row).to_contain_text("API: Members view")
    expect(row).to_contain_text("https://eu.desk.example.com/callback")
    [edited] = clients(page, org)
    assert edited["name"] == "Ticket desk EU" and edited["firstParty"] is True
    assert edited["redirectUris"] == ["https://eu.desk.example.com/callback"]
    assert edited["accessRule"] == {
        "roles": ["ADMIN"],
        "requiresPortalAccess": False,
        "organisations": [],
    }

    # Rotate, with a sign-in no longer recent: confirm, the step-up prompt, a new secret.
    server.age_session(OWNER, minutes=10)
    row.get_by_role("button", name="Rotate the secret of Ticket desk EU").click()
    page.get_by_role("dialog", name="Rotate the secret of Ticket desk EU?").get_by_role(
        "button", name="Rotate secret"
    ).click()
    prompt = page.get_by_role("dialog", name="Confirm it's you")
    prompt.get_by_label("Password").fill(server.password)
    prompt.get_by_role("button", name="Confirm").click()
    rotated = page.get_by_role("dialog", name="New secret for Ticket desk EU")
    expect(rotated).to_contain_text("you will not see it again")
    new_secret = rotated.get_by_role("textbox", name="Client secret").input_value()
    assert new_secret.startswith("fdcs_") and new_secret != secret
    assert rotated.get_by_role("textbox", name="Client ID").input_value() == client_id
    rotated.get_by_role("button", name="Done").click()
    [after] = clients(page, org)
    assert new_secret.startswith(after["secretHint"]) and after["clientId"] == client_id

    # Delete, after confirming.
    row.get_by_role("button", name="Delete Ticket desk EU").click()
    page.get_by_role("dialog", name="Delete Ticket desk EU?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.get_by_text("No sign-in apps yet.")).to_be_visible()
    assert clients(page, org) == []


def test_an_app_that_signs_with_its_own_key_registers_its_public_keys(app: App) -> None:
    """private_key_jwt: the key set goes in as JSON; something that is not JSON, or
    a private key, is refused on the field and creates nothing; the app has no
    secret to show or rotate."""
    key = ECKey.generate_key("P-256", private=True)
    page = app.page()
    app.sign_in(page, OWNER)
    app.open_section(page, "Sign-in apps")
    org = org_id_of(page)
    page.get_by_role("button", name="Create app").first.click()
    dialog = page.get_by_role("dialog", name="New sign-in app for Frontdesk Cloud")
    keys = dialog.get_by_label("Public keys (JWKS)")
    expect(keys).to_be_hidden()  # only for an app that signs with its own key
    dialog.get_by_label("Name", exact=True).fill("Billing")
    dialog.get_by_label("Redirect URIs", exact=True).fill("https://billing.example.com/cb")
    dialog.get_by_label("Kind").select_option("PRIVATE_KEY_JWT")
    expect(keys).to_be_visible()
    create = dialog.get_by_role("button", name="Create app")

    keys.fill("not json")
    create.click()
    expect(keys).to_have_attribute("aria-invalid", "true")
    keys.fill(json.dumps({"keys": [key.as_dict(private=True)]}))
    create.click()
    expect(keys).to_have_attribute("aria-invalid", "true")
    assert clients(page, org) == []

    keys.fill(json.dumps({"keys": [key.as_dict(private=False)]}))
    create.click()
    shown = page.get_by_role("dialog", name='"Billing" created')
    expect(shown.get_by_role("textbox", name="Client ID")).to_be_visible()
    expect(shown.get_by_role("textbox", name="Client secret")).to_have_count(0)
    shown.get_by_role("button", name="Done").click()
    [billing] = [c for c in clients(page, org) if c["name"] == "Billing"]
    assert billing["tokenEndpointAuthMethod"] == "PRIVATE_KEY_JWT"
    assert billing["secretHint"] is None and "d" not in billing["jwks"]["keys"][0]
    row = page.get_by_role("row").filter(has_text="Billing")
    expect(row).to_contain_text("Signs with its own key (private_key_jwt)")
    expect(row.get_by_role("button", name="Rotate the secret of Billing")).to_have_count(0)
    row.get_by_role("button", name="Delete Billing").click()
    page.get_by_role("dialog", name="Delete Billing?").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No sign-in apps yet.")).to_be_visible()


def test_portal_access_is_granted_on_a_member_who_sees_no_sign_in_apps(app: App) -> None:
    admin = app.page()
    app.sign_in(admin, "admin@northwind.example.com")
    expect(
        admin.get_by_role("navigation", name="Main").get_by_role("link", name="Sign-in apps")
    ).to_be_visible()
    app.open_section(admin, "Users")
    admin.get_by_label("Search").fill("Member")
    admin.get_by_role("link", name="Member Northwind").click()
    expect(admin.get_by_role("heading", name="Member Northwind", level=1)).to_be_visible()
    membership = admin.url.rstrip("/").rsplit("/", 1)[1]
    grant = admin.get_by_role(
        "checkbox", name="Portal access: may sign in to the sign-in apps that ask for it"
    )
    expect(grant).not_to_be_checked()
    grant.check()
    admin.get_by_role("button", name="Save feature access").click()
    expect(admin.get_by_text("Feature access saved.")).to_be_visible()
    expect(grant).to_be_checked()
    assert api(admin, MEMBER, {"id": unquote(membership)})["node"]["portalAccess"] is True

    member = app.page()
    app.sign_in(member, "member@northwind.example.com")
    nav = member.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link").first).to_be_visible()
    expect(nav.get_by_role("link", name="Sign-in apps")).to_have_count(0)

    # A customer's admin holds the permission, but only providers and resellers register apps.
    customer = app.page()
    app.sign_in(customer, "admin@acme.example.com")
    nav = customer.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users")).to_be_visible()
    expect(nav.get_by_role("link", name="Sign-in apps")).to_have_count(0)
