"""The sender address of a brand: verified by the link in a mail that goes
through the real worker to a real SMTP server, then worn by every mail of the
organisation and its customers (the From header the SMTP server received)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr

from server.audit.models import AuditEvent
from server.core import clock
from server.settings import get_settings
from tests.branding.queries import (
    CONFIRM_SENDER,
    brand_of,
    set_brand,
    settings_of,
)
from tests.helpers.fixtures import GraphQLClient
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import invite, token_from

DEFAULT_FROM = get_settings().mail_from


async def _verification_link(smtp_server) -> str:
    [message] = await smtp_server.deliver()
    assert message["To"] == "noreply@northwind.example"
    # Until it is verified, nothing goes from the new address, not even this mail.
    assert message["From"] == DEFAULT_FROM
    assert "Reseller" in message["Subject"]
    [link] = links_in(message)
    assert link.startswith("https://portal.example.test/admin/verify-sender#token=")
    return link


async def _invitation_from(admin: GraphQLClient, organisation_id: int, email: str, smtp_server):
    await invite(admin, organisation_id, email)
    [message] = await smtp_server.deliver()
    assert message["To"] == email
    return message


async def test_a_verified_sender_is_the_from_of_every_mail_below(
    tree, sign_in, anonymous, smtp_server
):
    reseller = await sign_in(tree["reseller.owner"].email)
    await set_brand(
        reseller,
        tree.reseller.id,
        senderName="Northwind Cloud",
        senderAddress=" NoReply@Northwind.example ",
    )
    link = await _verification_link(smtp_server)

    settings = await settings_of(reseller, tree.reseller.id)
    assert settings["senderAddress"] == "noreply@northwind.example"
    assert settings["senderVerified"] is False
    assert (await brand_of(reseller, tree.reseller.id))["effective"]["senderAddress"] is None
    acme = await sign_in(tree["acme.admin"].email)
    before = await _invitation_from(acme, tree.acme.id, "early@example.com", smtp_server)
    assert before["From"] == DEFAULT_FROM

    payload = await anonymous.ok(CONFIRM_SENDER, {"token": token_from(link)})
    assert payload["senderAddress"] == "noreply@northwind.example"
    assert payload["organisationName"] == "Reseller"
    # The link works once.
    again = await anonymous.refused(CONFIRM_SENDER, {"token": token_from(link)})
    assert again == ["TOKEN_INVALID"]
    assert (await settings_of(reseller, tree.reseller.id))["senderVerified"] is True
    [event] = await AuditEvent.filter(action="organisation.sender_verified")
    assert event.details == {"senderAddress": "noreply@northwind.example"}

    # A customer's mail wears its reseller's sender, name and verified address.
    message = await _invitation_from(acme, tree.acme.id, "nina@example.com", smtp_server)
    assert parseaddr(message["From"]) == ("Northwind Cloud", "noreply@northwind.example")
    assert message["Message-ID"].endswith("@northwind.example>")
    # Mails of organisations outside the reseller keep the default.
    provider = await sign_in(tree["provider.owner"].email)
    other = await _invitation_from(provider, tree.provider.id, "pat@example.com", smtp_server)
    assert other["From"] == DEFAULT_FROM


async def test_a_new_address_needs_its_own_verification(tree, sign_in, anonymous, smtp_server):
    reseller = await sign_in(tree["reseller.admin"].email)
    await set_brand(reseller, tree.reseller.id, senderAddress="noreply@northwind.example")
    old_link = await _verification_link(smtp_server)
    await anonymous.ok(CONFIRM_SENDER, {"token": token_from(old_link)})

    await set_brand(reseller, tree.reseller.id, senderAddress="hello@northwind.example")
    [message] = await smtp_server.deliver()
    assert message["To"] == "hello@northwind.example"
    [new_link] = links_in(message)
    # Back to the default sender (and no portal name yet: the address alone) until confirmed.
    acme = await sign_in(tree["acme.admin"].email)
    mail = await _invitation_from(acme, tree.acme.id, "a@example.com", smtp_server)
    assert mail["From"] == DEFAULT_FROM
    await anonymous.ok(CONFIRM_SENDER, {"token": token_from(new_link)})
    mail = await _invitation_from(acme, tree.acme.id, "b@example.com", smtp_server)
    assert parseaddr(mail["From"]) == ("Frontdesk", "hello@northwind.example")

    # Clearing the address goes back to the default sender.
    await set_brand(reseller, tree.reseller.id, senderAddress="")
    mail = await _invitation_from(acme, tree.acme.id, "c@example.com", smtp_server)
    assert mail["From"] == DEFAULT_FROM


async def test_links_expire_and_die_when_the_address_changes(tree, sign_in, anonymous, smtp_server):
    reseller = await sign_in(tree["reseller.admin"].email)
    await set_brand(reseller, tree.reseller.id, senderAddress="noreply@northwind.example")
    first = await _verification_link(smtp_server)
    # Giving the same unverified address again sends a new link; the first one dies.
    await set_brand(reseller, tree.reseller.id, senderAddress="noreply@northwind.example")
    second = await _verification_link(smtp_server)
    assert await anonymous.refused(CONFIRM_SENDER, {"token": token_from(first)}) == [
        "TOKEN_INVALID"
    ]
    for token in ("", "fds_nonsense", "x" * 500):
        assert await anonymous.refused(CONFIRM_SENDER, {"token": token}) == ["TOKEN_INVALID"]

    clock.advance(timedelta(hours=48, seconds=1))
    assert await anonymous.refused(CONFIRM_SENDER, {"token": token_from(second)}) == [
        "TOKEN_INVALID"
    ]
    reseller = await sign_in(tree["reseller.admin"].email)  # the old session expired too
    assert (await settings_of(reseller, tree.reseller.id))["senderVerified"] is False


async def test_a_sender_name_outside_ascii_arrives_intact(tree, sign_in, anonymous, smtp_server):
    reseller = await sign_in(tree["reseller.owner"].email)
    await set_brand(
        reseller,
        tree.reseller.id,
        senderName='Nordwind Büro "Süd", GmbH',
        senderAddress="noreply@northwind.example",
    )
    link = await _verification_link(smtp_server)
    await anonymous.ok(CONFIRM_SENDER, {"token": token_from(link)})
    acme = await sign_in(tree["acme.admin"].email)
    message = await _invitation_from(acme, tree.acme.id, "nina@example.com", smtp_server)
    assert message["From"].addresses[0].display_name == 'Nordwind Büro "Süd", GmbH'
    assert message["From"].addresses[0].addr_spec == "noreply@northwind.example"
