"""Signing in through the app: an invitation from mail to a TOTP sign-in, and
the forgotten-password round trip."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Mailbox
from tests.browser.helpers import App, qr_code_shown, secret_on, totp_code

NEW_PASSWORD = "correct horse battery staple"


def test_invited_person_sets_a_password_enrols_totp_and_signs_in_with_it(
    app: App, mailbox: Mailbox
) -> None:
    admin = app.page()
    app.sign_in(admin, "owner@acme.example.com")
    expect(admin.get_by_role("heading", name="Users")).to_be_visible()

    admin.get_by_role("button", name="Invite user").click()
    dialog = admin.get_by_role("dialog", name="Invite someone to Acme Ltd")
    dialog.get_by_label("Email").fill("nina@acme.example.com")
    dialog.get_by_label("Role").select_option("MEMBER")
    dialog.get_by_label("First name (optional)").fill("Nina")
    app.check_a11y(admin, "invite-dialog")
    dialog.get_by_role("button", name="Send invitation").click()
    expect(dialog).to_be_hidden()
    row = admin.get_by_role("row").filter(has_text="nina@acme.example.com")
    expect(row.get_by_text("Invited")).to_be_visible()

    # The link in the mail opens the accept page in the invited person's browser.
    link = mailbox.link(
        mailbox.wait_for("nina@acme.example.com"), "/admin/accept-invitation#token="
    )
    person = app.page()
    person.goto(link)
    expect(person.get_by_role("heading", name="Accept your invitation")).to_be_visible()
    app.check_a11y(person, "accept-invitation")
    # What the inviter typed is filled in; the page says who invites to what.
    expect(person.get_by_label("First name")).to_have_value("Nina")
    expect(person.get_by_text("Owner Acme invites you to Acme Ltd as Member.")).to_be_visible()
    person.get_by_label("Last name").fill("Newton")
    person.get_by_label("Password", exact=True).fill("short")
    person.get_by_role("button", name="Accept and sign in").click()
    # The API's error shows next to the field it concerns.
    expect(person.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(person.get_by_text(re.compile("at least 8", re.I)).first).to_be_visible()
    person.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    person.get_by_role("button", name="Accept and sign in").click()
    expect(person.get_by_role("button", name="Sign out")).to_be_visible()
    expect(person.get_by_text("Nina Newton")).to_be_visible()

    # Enrol an authenticator app from My account.
    person.get_by_role("link", name="My account").first.click()
    person.get_by_role("button", name="Set up an authenticator app").click()
    qr_code_shown(person)
    secret = secret_on(person)
    app.check_a11y(person, "totp-enrolment")
    person.get_by_label("6-digit code from the app").fill("000000")
    person.get_by_role("button", name="Turn on").click()
    expect(person.get_by_label("6-digit code from the app")).to_have_attribute(
        "aria-invalid", "true"
    )
    person.get_by_label("6-digit code from the app").fill(totp_code(secret))
    person.get_by_role("button", name="Turn on").click()
    expect(person.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = person.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    person.get_by_role("button", name="I have saved them").click()
    expect(person.get_by_role("button", name="New recovery codes")).to_be_visible()

    # Sign out, and in again: password, then the app's next code.
    app.sign_out(person)
    person.get_by_label("Email").fill("nina@acme.example.com")
    person.get_by_label("Password").fill(NEW_PASSWORD)
    person.get_by_role("button", name="Sign in", exact=True).click()
    expect(person.get_by_role("heading", name="Two-step verification")).to_be_visible()
    app.check_a11y(person, "two-step-verification")
    person.get_by_label("Code from your authenticator app").fill(totp_code(secret, ahead=1))
    person.get_by_role("button", name="Verify").click()
    expect(person.get_by_role("button", name="Sign out")).to_be_visible()

    # The administrator's list now shows Nina active, with the 2FA shield.
    admin.reload()
    row = admin.get_by_role("row").filter(has_text="nina@acme.example.com")
    expect(row.get_by_text("Active")).to_be_visible()
    expect(row.get_by_text("2FA", exact=True)).to_be_visible()


def test_forgotten_password_is_reset_from_the_mailed_link(app: App, mailbox: Mailbox) -> None:
    page = app.page()
    page.goto("/admin/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    app.check_a11y(page, "forgot-password")
    page.get_by_label("Email").fill("dave@globex.example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    link = mailbox.link(mailbox.wait_for("dave@globex.example.com"), "/admin/reset-password#token=")
    page.goto(link)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill("something else entirely")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("The passwords do not match.")).to_be_visible()
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    app.sign_in(page, "dave@globex.example.com", NEW_PASSWORD)
    # A support-only user sees tickets and nothing else of the organisation.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Tickets")).to_be_visible()
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
