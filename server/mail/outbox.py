"""Enqueue mails in the caller's transaction (transactional outbox).

``queue_mail`` does exactly one INSERT (the audience lookups only read): call it inside the service's
``in_transaction()`` block so the business change and the mail commit or roll
back together. The worker (``server.mail.worker``) sends it later.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from email.utils import formataddr, parseaddr
from typing import Any

from server.core import clock
from server.core.brand import Brand
from server.mail.audience import audience_for
from server.mail.models import MailStatus, OutboxMail
from server.mail.sealed import seal
from server.mail.templates import render
from server.settings import get_settings

# One bare address: no spaces, no display name, no list separators, no quoting.
_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+$")
_DEFAULT_DOMAIN = "frontdesk.local"


def has_control_characters(value: str) -> bool:
    """CR, LF, NUL and every other control character (header injection)."""
    return any(unicodedata.category(char) == "Cc" for char in value)


def check_recipient(recipient: str) -> str:
    if has_control_characters(recipient):
        raise ValueError("Mail recipient contains control characters.")
    if len(recipient) > 254 or not _ADDRESS.match(recipient):
        raise ValueError("Mail recipient is not a single bare address.")
    return recipient


def check_subject(subject: str) -> str:
    if has_control_characters(subject):
        raise ValueError("Mail subject contains control characters.")
    if len(subject) > 255:
        raise ValueError("Mail subject is too long.")
    return subject


def sender_of(brand: Brand) -> str:
    """The From of a mail wearing `brand`: its sender name and verified address
    (`Brand.sender_address` is set only once verified). Empty when the brand has
    none: the worker that sends the mail then stamps its own FRONTDESK_MAIL_FROM."""
    if not brand.sender_address:
        return ""
    # formataddr quotes the name and encodes a non-ASCII one (RFC 2047): the header stays ASCII.
    sender = formataddr((brand.sender_name or brand.portal_name, brand.sender_address))
    if has_control_characters(sender):
        raise ValueError("Mail sender contains control characters.")
    return sender


def message_id_domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    domain = address.rpartition("@")[2].strip().lower()
    if not domain or not re.fullmatch(r"[a-z0-9.-]+", domain):
        return _DEFAULT_DOMAIN
    return domain


def new_message_id(mail_from: str) -> str:
    return f"<{uuid.uuid4().hex}@{message_id_domain(mail_from)}>"


async def queue_mail(
    *,
    kind: str,
    recipient: str,
    organisation_id: int | None = None,
    **context: Any,
) -> OutboxMail:
    """Render ``kind`` for its reader and insert one pending outbox row (one INSERT,
    no commit). ``organisation_id`` is the organisation the mail is about: its
    brand dresses the mail, and its default language is used when the reader chose none."""
    check_recipient(recipient)
    context, sealed = seal(kind, context)
    audience = await audience_for(recipient, organisation_id)
    rendered = render(kind, audience, recipient=recipient, **context)
    check_subject(rendered.subject)
    if "\x00" in rendered.text or "\x00" in rendered.html:
        raise ValueError("Mail body contains a NUL byte.")
    mail_from = sender_of(audience.brand)
    now = clock.now()
    return await OutboxMail.create(
        organisation_id=organisation_id,
        kind=kind,
        message_id=new_message_id(mail_from or get_settings().mail_from),
        recipient=recipient,
        mail_from=mail_from,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        sealed=sealed,
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        claimed_until=None,
        last_error="",
        created_at=now,
    )
