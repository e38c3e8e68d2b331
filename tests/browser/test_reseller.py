"""A reseller in the app: the customers console and its search, creating a customer
that requires two-step verification, and inviting its owner, who must enrol
(with the QR code) before using the account."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Mailbox
from tests.browser.helpers import App, qr_code_shown, secret_on, totp_code


def test_reseller_creates_a_customer_and_invites_its_owner(app: App, mailbox: Mailbox) -> None:
    page = app.page()
    app.sign_in(page, "owner@northwind.example.com")
    app.open_section(page, "Customers")
    expect(page.get_by_role("heading", name="Customers of Northwind Hosting")).to_be_visible()
    customers = page.get_by_role("table")
    expect(customers.get_by_role("link", name="Acme Ltd")).to_be_visible()
    expect(customers.get_by_role("link", name="Globex GmbH")).to_be_visible()
    app.check_a11y(page, "customers")

    page.get_by_label("Search customers").fill("glob")
    expect(customers.get_by_role("link", name="Acme Ltd")).to_be_hidden()
    expect(customers.get_by_role("link", name="Globex GmbH")).to_be_visible()
    page.get_by_label("Search customers").fill("")
    expect(customers.get_by_role("link", name="Acme Ltd")).to_be_visible()

    page.get_by_role("button", name="Create customer").click()
    dialog = page.get_by_role("dialog", name="New customer of Northwind Hosting")
    dialog.get_by_label("Name").fill("Initech")
    dialog.get_by_label("Members must use two-step verification").check()
    dialog.get_by_role("button", name="Create customer").click()
    created = page.get_by_role("dialog", name="Initech was created")
    created.get_by_role("button", name="Invite its owner").click()

    invite = page.get_by_role("dialog", name="Invite someone to Initech")
    expect(invite.get_by_label("Role")).to_have_value("OWNER")
    invite.get_by_label("Email").fill("not an email")
    invite.get_by_role("button", name="Send invitation").click()
    expect(invite.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    invite.get_by_label("Email").fill("peter@initech.example.com")
    invite.get_by_label("First name (optional)").fill("Peter")
    invite.get_by_role("button", name="Send invitation").click()
    expect(invite).to_be_hidden()
    expect(page.get_by_role("combobox", name="Organisation")).to_have_value(re.compile(".+"))
    expect(page.get_by_role("row").filter(has_text="peter@initech.example.com")).to_be_visible()

    # The reseller's own list, with its customers' users and their organisation.
    page.get_by_role("combobox", name="Organisation").select_option(label="Northwind Hosting")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_label("Include users of customers").check()
    row = page.get_by_role("row").filter(has_text="peter@initech.example.com")
    expect(row.get_by_role("cell", name="Initech", exact=True)).to_be_visible()
    expect(row.get_by_text("Invited")).to_be_visible()

    # Peter accepts; Initech requires two-step verification, so he enrols first.
    link = mailbox.link(mailbox.wait_for("peter@initech.example.com"), "/admin/accept-invitation")
    owner = app.page(phone=True)
    owner.goto(link)
    owner.get_by_label("Password", exact=True).fill("initech owner passphrase")
    owner.get_by_role("button", name="Accept and sign in").click()
    expect(owner.get_by_role("heading", name="Set up two-step verification")).to_be_visible()
    expect(owner.get_by_text("Initech requires two-step verification")).to_be_visible()
    qr_code_shown(owner)
    app.check_a11y(owner, "forced-enrolment-phone")
    app.doc_shot(owner, "two-step-setup-phone")
    owner.get_by_label("6-digit code from the app").fill(totp_code(secret_on(owner)))
    owner.get_by_role("button", name="Turn on").click()
    owner.get_by_role("button", name="I have saved them").click()
    expect(owner.get_by_role("heading", name="Users")).to_be_visible()
    expect(owner.get_by_role("combobox", name="Organisation")).to_have_value(re.compile(".+"))
    expect(owner.get_by_role("row").filter(has_text="peter@initech.example.com")).to_be_visible()
    app.shot(owner, "customer-owner-phone")
