"""A person's language: chosen in their profile, shown on the viewer, and the
language their mails arrive in (through the real worker and SMTP server)."""

from __future__ import annotations

from server.accounts.models import User
from server.audit.models import AuditEvent
from tests.helpers.audit import own_details
from tests.helpers.fixtures import gid
from tests.helpers.smtp import links_in
from tests.invitations.test_adding_mails import INVITE, text_of

LANGUAGE = """
mutation($language: String) {
  updateProfile(input: {language: $language}) { user { email } errors { field code message } } }"""
VIEWER = "{ viewer { language } }"
REQUEST_RESET = """mutation($e: String!) {
  requestPasswordReset(input: {email: $e}) { ok errors { code } } }"""


async def test_a_person_chooses_a_supported_language(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    assert (await member.data(VIEWER))["viewer"]["language"] is None

    await member.ok(LANGUAGE, {"language": "de-CH"})
    assert (await member.data(VIEWER))["viewer"]["language"] == "de"
    event = await AuditEvent.get(action="user.profile_updated")
    assert own_details(event.details) == {"before": {"language": None}, "after": {"language": "de"}}

    payload = (await member.data(LANGUAGE, {"language": "fr"}))["updateProfile"]
    [error] = payload["errors"]
    assert (error["field"], error["code"]) == ("language", "INVALID")
    assert "en, de" in error["message"]
    assert (await User.get(id=tree["acme.member"].user.id)).language == "de"

    await member.ok(LANGUAGE, {"language": ""})
    assert (await member.data(VIEWER))["viewer"]["language"] is None


async def test_a_german_speaker_gets_german_mail(tree, sign_in, anonymous, smtp_server):
    person = tree["acme.member"]
    await (await sign_in(person.email)).ok(LANGUAGE, {"language": "de"})

    await anonymous.ok(REQUEST_RESET, {"e": person.email})
    [message] = await smtp_server.deliver()
    text = text_of(message)
    assert message["Subject"] == "Passwort für Frontdesk zurücksetzen"
    assert text.startswith("Hallo Member Test,\n")
    assert "innerhalb von 30 Minuten" in text
    assert f"weil {person.email} ein Konto bei Acme in Frontdesk hat" in text
    assert 'lang="de"' in message.get_body(("html",)).get_content()
    assert links_in(message)[0].startswith("https://portal.example.test/admin/reset-password")

    # Invited elsewhere, they are still written to in their language.
    admin = await sign_in(tree["globex.admin"].email)
    await admin.ok(INVITE, {"org": gid("Organisation", tree.globex.id), "email": person.email})
    [invitation] = await smtp_server.deliver()
    assert invitation["Subject"] == "Admin Test hat Sie zu Globex in Frontdesk hinzugefügt"
    assert "mit Ihrem bisherigen Passwort an" in text_of(invitation)


async def test_others_keep_english(tree, sign_in, anonymous, smtp_server):
    await (await sign_in(tree["acme.member"].email)).ok(LANGUAGE, {"language": "de"})
    await anonymous.ok(REQUEST_RESET, {"e": tree["acme.admin"].email})
    [message] = await smtp_server.deliver()
    assert message["Subject"] == "Reset your Frontdesk password"
