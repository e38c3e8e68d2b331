"""Mail templates: plain Python string templates, one subject/text/HTML triple per kind.

Every value interpolated into HTML passes through ``html.escape``; text and
subject get the raw value (the outbox rejects CR/LF in subjects). Links must be
absolute http(s) URLs built from the configured public URL.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from string import Template
from typing import Any

PRODUCT = "Frontdesk"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class _Template:
    subject: Template
    text: Template
    html: Template


def _t(subject: str, text: str, html_body: str) -> _Template:
    return _Template(Template(subject), Template(text), Template(html_body))


_SIGNATURE_TEXT = f"\n-- \n{PRODUCT}\n"

_TEMPLATES: dict[str, _Template] = {
    "invitation": _t(
        "You are invited to join $organisation_name on " + PRODUCT,
        "Hello,\n\n"
        "$inviter_name has invited you to join $organisation_name on " + PRODUCT + ".\n\n"
        "Accept the invitation here:\n$link\n\n"
        "This invitation expires on $expires_at. If you were not expecting it, "
        "you can ignore this mail.\n" + _SIGNATURE_TEXT,
        "<p>Hello,</p>"
        "<p>$inviter_name has invited you to join <strong>$organisation_name</strong> on "
        + PRODUCT
        + ".</p>"
        '<p><a href="$link">Accept the invitation</a></p>'
        "<p>This invitation expires on $expires_at. If you were not expecting it, "
        "you can ignore this mail.</p>",
    ),
    "welcome": _t(
        "Welcome to " + PRODUCT,
        "Hello $name,\n\n"
        "An account has been created for you on " + PRODUCT + ". "
        "Your administrator will give you your initial password; "
        "you will be asked to change it when you first sign in.\n\n"
        "Sign in here:\n$link\n" + _SIGNATURE_TEXT,
        "<p>Hello $name,</p>"
        "<p>An account has been created for you on " + PRODUCT + ". "
        "Your administrator will give you your initial password; "
        "you will be asked to change it when you first sign in.</p>"
        '<p><a href="$link">Sign in</a></p>',
    ),
    "password_reset": _t(
        "Reset your " + PRODUCT + " password",
        "Hello,\n\n"
        "Someone asked to reset the password of your " + PRODUCT + " account. "
        "To choose a new password, open this link within $minutes minutes:\n$link\n\n"
        "If this was not you, ignore this mail: your password stays unchanged.\n" + _SIGNATURE_TEXT,
        "<p>Hello,</p>"
        "<p>Someone asked to reset the password of your " + PRODUCT + " account. "
        "To choose a new password, open this link within $minutes minutes:</p>"
        '<p><a href="$link">Choose a new password</a></p>'
        "<p>If this was not you, ignore this mail: your password stays unchanged.</p>",
    ),
    "password_changed": _t(
        "Your " + PRODUCT + " password was changed",
        "Hello $name,\n\n"
        "The password of your " + PRODUCT + " account was just changed.\n\n"
        "If this was not you, reset your password at once and contact your "
        "administrator.\n" + _SIGNATURE_TEXT,
        "<p>Hello $name,</p>"
        "<p>The password of your " + PRODUCT + " account was just changed.</p>"
        "<p>If this was not you, reset your password at once and contact your "
        "administrator.</p>",
    ),
    "email_code": _t(
        "Your " + PRODUCT + " verification code",
        "Hello,\n\n"
        "Your verification code is: $code\n\n"
        "It is valid for $minutes minutes. Never share it with anyone.\n" + _SIGNATURE_TEXT,
        "<p>Hello,</p>"
        "<p>Your verification code is: <strong>$code</strong></p>"
        "<p>It is valid for $minutes minutes. Never share it with anyone.</p>",
    ),
    "security_notice": _t(
        "Security settings of your " + PRODUCT + " account changed",
        "Hello $name,\n\n$change\n\n"
        "If this was not you, reset your password at once and contact your "
        "administrator.\n" + _SIGNATURE_TEXT,
        "<p>Hello $name,</p><p>$change</p>"
        "<p>If this was not you, reset your password at once and contact your "
        "administrator.</p>",
    ),
    "impersonation_notice": _t(
        "Support accessed your " + PRODUCT + " account",
        "Hello,\n\n"
        "$actor_name signed in to your " + PRODUCT + " account on your behalf.\n"
        "Reason given: $reason\n\n"
        "If you did not expect this, contact your administrator.\n" + _SIGNATURE_TEXT,
        "<p>Hello,</p>"
        "<p>$actor_name signed in to your " + PRODUCT + " account on your behalf.</p>"
        "<p>Reason given: $reason</p>"
        "<p>If you did not expect this, contact your administrator.</p>",
    ),
    "ticket_comment": _t(
        "Ticket #$number: new reply - $subject",
        "Hello,\n\n$author_name answered your ticket #$number ($subject):\n\n$comment\n\n"
        "Read and answer it here:\n$link\n" + _SIGNATURE_TEXT,
        "<p>Hello,</p><p>$author_name answered your ticket #$number "
        "(<strong>$subject</strong>):</p>"
        '<blockquote style="white-space: pre-wrap">$comment</blockquote>'
        '<p><a href="$link">Read and answer it</a></p>',
    ),
    "ticket_status": _t(
        "Ticket #$number is now $new_status - $subject",
        "Hello,\n\n$actor_name moved your ticket #$number ($subject) "
        "from $old_status to $new_status.\n\nSee it here:\n$link\n" + _SIGNATURE_TEXT,
        "<p>Hello,</p><p>$actor_name moved your ticket #$number (<strong>$subject</strong>) "
        "from $old_status to <strong>$new_status</strong>.</p>"
        '<p><a href="$link">See the ticket</a></p>',
    ),
    "sender_verification": _t(
        "Confirm $organisation_name's sender address",
        "Hello,\n\n"
        "$actor_name wants the mails of $organisation_name's portal to come from this "
        "address. To confirm that this mailbox belongs to you, open this link before "
        "$expires_at:\n$link\n\n"
        "Until it is confirmed, mails keep going from the portal's default address. "
        "If you did not expect this, ignore this mail: nothing will be sent in your name.\n"
        + _SIGNATURE_TEXT,
        "<p>Hello,</p>"
        "<p>$actor_name wants the mails of <strong>$organisation_name</strong>'s portal to "
        "come from this address. To confirm that this mailbox belongs to you, open this "
        "link before $expires_at:</p>"
        '<p><a href="$link">Confirm this sender address</a></p>'
        "<p>Until it is confirmed, mails keep going from the portal's default address. "
        "If you did not expect this, ignore this mail: nothing will be sent in your name.</p>",
    ),
}

_HTML_SHELL = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    "<title>{title}</title></head>"
    '<body style="font-family: sans-serif; line-height: 1.5">{body}'
    '<p style="color: #666">&mdash; ' + PRODUCT + "</p></body></html>\n"
)

KINDS = frozenset(_TEMPLATES)


def _format(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%d %B %Y, %H:%M UTC")
    return str(value)


# Stands for a secret value put in at send time (server/mail/sealed.py); passes
# HTML escaping unchanged.
SEALED_MARKER = re.compile(r"\[sealed:[0-9a-f]{16}:[a-z_]+\]")


def check_link(link: str) -> None:
    if not link.startswith(("https://", "http://")):
        raise ValueError("Mail links must be absolute http(s) URLs.")


def render(kind: str, **context: Any) -> RenderedMail:
    """Render one mail. Unknown kind or a missing context value: KeyError."""
    template = _TEMPLATES[kind]
    if "link" in context and not SEALED_MARKER.fullmatch(str(context["link"])):
        check_link(str(context["link"]))
    raw = {key: _format(value) for key, value in context.items()}
    escaped = {key: html.escape(value, quote=True) for key, value in raw.items()}
    subject = template.subject.substitute(raw)
    body = template.html.substitute(escaped)
    return RenderedMail(
        subject=subject,
        text=template.text.substitute(raw),
        html=_HTML_SHELL.format(title=html.escape(subject, quote=True), body=body),
    )
