"""The checks a brand value passes before it is stored: each raises a
`DomainError` naming the input field, so a bad value changes nothing."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from server.core.errors import DomainError, ErrorCode
from server.core.i18n import LANGUAGES
from server.core.validation import clean_text, normalise_email

PORTAL_NAME_MAX = 60
SENDER_NAME_MAX = 60
SUPPORT_CONTACT_MAX = 200
LOGO_URL_MAX = 500
HOST_NAME_MAX = 253

_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def portal_name(value: str) -> str:
    return clean_text(value, field="portalName", max_length=PORTAL_NAME_MAX)


def sender_name(value: str) -> str:
    # Becomes a display name in the From header: control characters (CR/LF) are refused.
    return clean_text(value, field="senderName", max_length=SENDER_NAME_MAX)


def support_contact(value: str) -> str:
    return clean_text(value, field="supportContact", max_length=SUPPORT_CONTACT_MAX)


def sender_address(value: str) -> str:
    if not value.strip():
        return ""
    address = normalise_email(value, field="senderAddress")
    if not address.isascii():
        # The From header is written as ASCII (mail/transport.py `wire_message`).
        raise DomainError(
            ErrorCode.INVALID_EMAIL, "Use an address in plain ASCII letters.", "senderAddress"
        )
    return address


def colour(value: str) -> str:
    value = value.strip().lower()
    if value and not _COLOUR.match(value):
        raise DomainError(
            ErrorCode.INVALID, "Give the colour as #rrggbb, for example #0a5fb4.", "colour"
        )
    return value


def logo_url(value: str) -> str:
    value = clean_text(value, field="logoUrl", max_length=LOGO_URL_MAX)
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or " " in value:
        raise DomainError(
            ErrorCode.INVALID, "The logo must be an https:// address of an image.", "logoUrl"
        )
    if parts.username is not None or parts.password is not None:
        raise DomainError(
            ErrorCode.INVALID, "The logo address may not hold a user name or password.", "logoUrl"
        )
    return value


def language(value: str) -> str:
    value = value.strip().lower()
    if value and value not in LANGUAGES:
        raise DomainError(
            ErrorCode.INVALID,
            f"Choose one of the languages {', '.join(LANGUAGES)}.",
            "language",
        )
    return value


def host_name(value: str) -> str:
    """A DNS name, lower-cased, IDNA-encoded, without port or trailing dot."""
    value = value.strip().rstrip(".").lower()
    if not value:
        return ""
    invalid = DomainError(
        ErrorCode.INVALID,
        "Give a host name such as portal.example.com (no scheme, port or path).",
        "hostName",
    )
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid from None
    labels = value.split(".")
    if (
        len(value) > HOST_NAME_MAX
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()  # an IP address, not a name
    ):
        raise invalid
    return value


def request_host(header: str | None) -> str | None:
    """The host name of a Host header ("Portal.Example.com:443" → "portal.example.com")."""
    host = (header or "").strip().lower()
    if host.startswith("["):
        return None  # an IPv6 literal: never a custom host name
    host = host.rsplit(":", 1)[0].rstrip(".")
    try:
        return host_name(host) or None
    except DomainError:
        return None
