"""Secrets in mails stay out of the stored bodies.

An invitation or reset link, or an emailed sign-in code, grants access: a
copy of the database must not yield it. The outbox row's bodies hold a
marker in its place (`[sealed:<nonce>:link]`, the nonce random per mail, so
no other text of the mail can forge one), and `OutboxMail.sealed` the
values, encrypted with the server key (server/core/encryption.py). The
worker puts them back in just before sending and clears `sealed` once the
mail is sent or dead. Rows written before sealing existed have no markers
and send as they are.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping
from typing import Any

import orjson

from server.core.encryption import decrypt, encrypt
from server.mail.models import OutboxMail
from server.mail.templates import SEALED_MARKER, check_link

# Which context values of a mail kind grant access.
SEALED_FIELDS: dict[str, tuple[str, ...]] = {
    "invitation": ("link",),
    "password_reset": ("link",),
    "email_change": ("link",),
    "welcome_set_password": ("link",),
    "email_code": ("code",),
    "sender_verification": ("link",),
}
_MARKER_START = "[sealed:"


class SealedMailError(ValueError):
    """The mail's secret is gone (cleared when it died): it cannot be sent again.
    A ValueError, so the worker dead-letters it rather than retrying."""


def marker(nonce: str, name: str) -> str:
    return f"{_MARKER_START}{nonce}:{name}]"


def seal(kind: str, context: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The context with the kind's secret values replaced by markers, and those
    values encrypted (None when the kind has none)."""
    names = [name for name in SEALED_FIELDS.get(kind, ()) if name in context]
    if not names:
        return dict(context), None
    if "link" in names:
        check_link(str(context["link"]))
    nonce = secrets.token_hex(8)
    values = {marker(nonce, name): str(context[name]) for name in names}
    rendered = {**context, **{name: marker(nonce, name) for name in names}}
    return rendered, encrypt(orjson.dumps(values).decode())


def bodies(mail: OutboxMail) -> tuple[str, str]:
    """The mail's text and HTML bodies as they are to be sent, secrets back in."""
    text, html_body = mail.text_body, mail.html_body
    if mail.sealed is None:
        if _MARKER_START in text and SEALED_MARKER.search(text):
            raise SealedMailError(
                "the link or code of this mail was cleared when it died; send a new one"
            )
        return text, html_body
    values: dict[str, str] = orjson.loads(decrypt(mail.sealed))
    for mark, value in values.items():
        text = text.replace(mark, value)
        html_body = html_body.replace(mark, html.escape(value, quote=True))
    return text, html_body
