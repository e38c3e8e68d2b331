"""Every mail, rendered as its reader gets it: in English and German, with the
server's own brand and with a reseller's. A new kind of mail adds its sample
values to SAMPLES (the first test fails until it does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from server.core.brand import DEFAULT_BRAND, Brand
from server.mail.audience import Audience
from server.mail.templates import kinds, render

LINK = "https://portal.example.test/admin/some-page#token=abc"
EXPIRES = datetime(2026, 12, 24, 18, 30, tzinfo=UTC)
RESELLER = Brand(
    portal_name="Sangoma Portal",
    support_contact="help@sangoma.example",
    colour="#c0392b",
    logo_url="https://sangoma.example/logo.png",
)
NAMED = {"recipient": "nina@example.com", "name": "Nina Neu"}
ADDED = {
    **NAMED,
    "organisation_name": "Acme Ltd",
    "organisation_kind": "CUSTOMER",
    "parent_name": "Sangoma Reseller",
    "role": "ADMIN",
}

# Per kind: the values its sender gives, and what the reader must find in the
# text, by language (besides greeting, reason, portal and support, checked for all).
SAMPLES: dict[str, tuple[dict[str, Any], dict[str, list[str]]]] = {
    "invitation": (
        {
            **ADDED,
            "inviter_name": "Ann Admin",
            "existing_user": False,
            "link": LINK,
            "expires_at": EXPIRES,
        },
        {
            "en": [
                "Ann Admin",
                "Acme Ltd (a customer of Sangoma Reseller)",
                "Administrator",
                "choose your password",
                "24, 2026, 18:30 UTC",
            ],
            "de": [
                "Ann Admin",
                "Acme Ltd (ein Kunde von Sangoma Reseller)",
                "Administrator",
                "Passwort zu wählen",
                "24. Dezember 2026, 18:30 UTC",
            ],
        },
    ),
    "welcome": (
        {**ADDED, "creator_name": "Ann Admin", "link": LINK},
        {
            "en": ["Ann Admin", "Acme Ltd (a customer of Sangoma Reseller)", "initial password"],
            "de": ["Ann Admin", "Acme Ltd (ein Kunde von Sangoma Reseller)", "erstes Passwort"],
        },
    ),
    "welcome_set_password": (
        {**ADDED, "creator_name": "Ann Admin", "link": LINK, "expires_at": EXPIRES},
        {
            "en": ["Choose your password", "works once", "Administrator"],
            "de": ["Passwort wählen", "funktioniert einmal", "Administrator"],
        },
    ),
    "password_reset": (
        {**NAMED, "organisation_name": "Acme Ltd", "link": LINK, "minutes": 30},
        {"en": ["reset the password", "30 minutes"], "de": ["Zurücksetzen", "30 Minuten"]},
    ),
    "password_changed": (
        {**NAMED, "organisation_name": "Acme Ltd"},
        {"en": ["password", "was just changed"], "de": ["Passwort", "soeben geändert"]},
    ),
    "email_code": (
        {**NAMED, "organisation_name": "Acme Ltd", "code": "123456", "minutes": 10},
        {"en": ["sign-in code is: 123456", "10 minutes"], "de": ["lautet: 123456", "10 Minuten"]},
    ),
    "security_notice": (
        {
            **NAMED,
            "organisation_name": "Acme Ltd",
            "change": "two_factor_reset",
            "actor_name": "Ann Admin",
        },
        {
            "en": ["Ann Admin reset your two-factor sign-in"],
            "de": ["Ann Admin hat Ihre Zwei-Faktor-Anmeldung zurückgesetzt"],
        },
    ),
    "impersonation_ended": (
        {
            **NAMED,
            "organisation_name": "Acme Ltd",
            "actor_name": "Ann Admin",
            "actor_organisation": "Sangoma Reseller",
            "started_at": EXPIRES,
            "ended_at": EXPIRES,
            "minutes": 12,
            "reason": "ticket 42",
            "changes": ["Ann Admin as Nina Neu switched do not disturb on for extension 201"],
        },
        {
            "en": [
                "Ann Admin of Sangoma Reseller used your",
                "(12 min)",
                "Reason given: ticket 42",
                "Changes made during that time:",
                "- Ann Admin as Nina Neu switched do not disturb on for extension 201",
            ],
            "de": [
                "Ann Admin von Sangoma Reseller hat Ihr Konto",
                "(12 Min.)",
                "Angegebener Grund: ticket 42",
                "In dieser Zeit vorgenommene Änderungen:",
                "- Ann Admin as Nina Neu switched do not disturb on for extension 201",
            ],
        },
    ),
    "ticket_comment": (
        {
            **NAMED,
            "organisation_name": "Acme Ltd",
            "number": 7,
            "subject": "Phones down",
            "author_name": "Sam Support",
            "comment": "Fixed it.\nTry again.",
            "link": LINK,
        },
        {
            "en": ["Sam Support answered your ticket #7", "> Try again."],
            "de": ["Sam Support hat auf Ihr Ticket #7", "> Try again."],
        },
    ),
    "ticket_status": (
        {
            **NAMED,
            "organisation_name": "Acme Ltd",
            "number": 7,
            "subject": "Phones down",
            "actor_name": "Sam Support",
            "old_status": "NEW",
            "new_status": "WAITING_ON_CUSTOMER",
            "link": LINK,
        },
        {
            "en": ["from new to waiting for your answer"],
            "de": ["von neu auf wartet auf Ihre Antwort"],
        },
    ),
    "email_change": (
        {
            **NAMED,
            "organisation_name": "Acme Ltd",
            "requester_name": "Ann Admin",
            "old_email": "nina@example.com",
            "new_email": "nina@new.example",
            "link": LINK,
            "expires_at": EXPIRES,
        },
        {
            "en": ["Ann Admin asked to make nina@new.example the sign-in address", "works once"],
            "de": ["Ann Admin hat darum gebeten, nina@new.example", "funktioniert einmal"],
        },
    ),
    "email_changed": (
        {
            **NAMED,
            "organisation_name": "Acme Ltd",
            "requester_name": "Ann Admin",
            "old_email": "nina@example.com",
            "new_email": "nina@new.example",
        },
        {
            "en": ["changed from nina@example.com to nina@new.example, as Ann Admin asked"],
            "de": ["von nina@example.com in nina@new.example geändert"],
        },
    ),
    "sender_verification": (
        {
            **NAMED,
            "organisation_name": "Acme Ltd",
            "actor_name": "Ann Admin",
            "link": LINK,
            "expires_at": EXPIRES,
        },
        {
            "en": ["Ann Admin wants the mails of Acme Ltd", "(nina@example.com)", "works once"],
            "de": ["Ann Admin möchte, dass die E-Mails von Acme Ltd", "funktioniert einmal"],
        },
    ),
}

GREETING = {"en": "Hello Nina Neu,", "de": "Hallo Nina Neu,"}
REASON = {"en": "You receive this mail because", "de": "Sie erhalten diese E-Mail, weil"}
SUPPORT = {
    "en": "Questions? Contact help@sangoma.example.",
    "de": "Fragen? Wenden Sie sich an help@sangoma.example.",
}


@dataclass(frozen=True)
class Reader:
    language: str
    brand: Brand

    @property
    def audience(self) -> Audience:
        return Audience(brand=self.brand, language=self.language)


READERS = [
    pytest.param(Reader(language, brand), id=f"{language}-{name}")
    for language in ("en", "de")
    for name, brand in (("own", DEFAULT_BRAND), ("reseller", RESELLER))
]


def test_every_kind_has_a_sample():
    assert kinds() == set(SAMPLES)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_mail_says_what_happened_to_whom_and_why(kind: str, reader: Reader):
    values, expected = SAMPLES[kind]
    mail = render(kind, reader.audience, **values)
    portal = reader.brand.portal_name
    for part in (mail.text, mail.html):
        assert GREETING[reader.language] in part
        assert "Acme Ltd" in part
        assert REASON[reader.language] in part
        assert portal in part
        assert (SUPPORT[reader.language] in part) == (reader.brand is RESELLER)
        if "link" in values:
            assert LINK in part
    assert portal in mail.subject or "#7" in mail.subject
    assert "Frontdesk" not in mail.text + mail.subject or reader.brand is DEFAULT_BRAND
    assert f'<html lang="{reader.language}">' in mail.html
    for text in expected[reader.language]:
        assert text in mail.text, (text, mail.text)
    if reader.language == "de":
        english = render(kind, Audience(reader.brand, "en"), **values)
        assert mail.subject != english.subject
        assert "You receive" not in mail.text and "Hello" not in mail.text


@pytest.mark.parametrize("reader", READERS)
def test_an_existing_user_signs_in_with_their_current_password(reader: Reader):
    values, _ = SAMPLES["invitation"]
    new = render("invitation", reader.audience, **values)
    existing = render("invitation", reader.audience, **{**values, "existing_user": True})
    words = {"en": "sign in with your current password", "de": "bisherigen Passwort an"}
    assert words[reader.language] in existing.text
    assert words[reader.language] not in new.text
    assert new.subject != existing.subject


def test_a_set_password_link_replaces_the_initial_password():
    given, _ = SAMPLES["welcome"]
    linked, _ = SAMPLES["welcome_set_password"]
    assert "initial password" in render("welcome", **given).text
    mail = render("welcome_set_password", **linked)
    assert "initial password" not in mail.text and "administrator will give" not in mail.text
    assert "December 24, 2026, 18:30 UTC" in mail.text


def test_without_a_name_the_greeting_names_no_address():
    values, _ = SAMPLES["password_changed"]
    mail = render("password_changed", **{**values, "name": ""})
    assert mail.text.startswith("Hello,\n")
    german = render("password_changed", Audience(DEFAULT_BRAND, "de"), **{**values, "name": ""})
    assert german.text.startswith("Guten Tag,\n")


def test_a_top_organisation_has_no_place_in_a_tree():
    values, _ = SAMPLES["invitation"]
    mail = render("invitation", **{**values, "organisation_kind": "PROVIDER", "parent_name": ""})
    assert "to join Acme Ltd on Frontdesk." in mail.text


def test_values_are_escaped_in_html_and_kept_in_text():
    values, _ = SAMPLES["ticket_comment"]
    mail = render("ticket_comment", **{**values, "comment": "<script>x</script> & {name}"})
    assert (
        "<script>" not in mail.html and "&lt;script&gt;x&lt;/script&gt; &amp; {name}" in mail.html
    )
    assert "> <script>x</script> & {name}" in mail.text


def test_a_brand_colour_that_is_not_a_colour_is_not_used():
    values, _ = SAMPLES["password_changed"]
    odd = Brand(portal_name="Odd", colour="red; background: url(x)")
    assert "url(x)" not in render("password_changed", Audience(odd, "en"), **values).html


def test_bad_values_are_refused():
    values, _ = SAMPLES["invitation"]
    with pytest.raises(ValueError):
        render("invitation", **{**values, "link": "javascript:alert(1)"})
    with pytest.raises(KeyError):
        render("invitation", **{k: v for k, v in values.items() if k != "inviter_name"})
    with pytest.raises(KeyError):
        render("no_such_kind")
