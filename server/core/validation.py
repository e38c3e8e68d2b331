"""Input checks at the edge: every text that reaches the database passes here.

Rejected: NUL bytes and other control characters (PostgreSQL refuses NUL,
and they have no business in names), over-long values, malformed emails and
phone numbers. Emails are trimmed, IDNA-encoded and lower-cased.
"""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from server.core.errors import DomainError, ErrorCode

EMAIL_MAX = 254
NAME_MAX = 100
# Phones: an optional leading +, then digits with spaces, dots, dashes or brackets.
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ().-]{2,30}$")


def _has_control_characters(value: str, allow_newlines: bool) -> bool:
    for char in value:
        if allow_newlines and char in "\n\r\t":
            continue
        if unicodedata.category(char) in {"Cc", "Cs"}:
            return True
    return False


def clean_text(
    value: str | None,
    *,
    field: str,
    max_length: int = NAME_MAX,
    required: bool = False,
    multiline: bool = False,
) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            raise DomainError(ErrorCode.REQUIRED, "This field is required.", field)
        return ""
    if _has_control_characters(value, allow_newlines=multiline):
        raise DomainError(ErrorCode.INVALID, "Control characters are not allowed.", field)
    if len(value) > max_length:
        raise DomainError(
            ErrorCode.TOO_LONG, f"At most {max_length} characters are allowed.", field
        )
    return value


def normalise_email(value: str | None, *, field: str = "email") -> str:
    raw = (value or "").strip()
    if not raw:
        raise DomainError(ErrorCode.REQUIRED, "An email address is required.", field)
    if len(raw) > EMAIL_MAX or _has_control_characters(raw, allow_newlines=False):
        raise DomainError(ErrorCode.INVALID_EMAIL, "This is not a valid email address.", field)
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(
            ErrorCode.INVALID_EMAIL, "This is not a valid email address.", field
        ) from None
    # ascii_email holds the IDNA-encoded domain; None when the local part is Unicode.
    email = (result.ascii_email or result.normalized).lower()
    if len(email) > EMAIL_MAX:
        raise DomainError(ErrorCode.INVALID_EMAIL, "This is not a valid email address.", field)
    return email


def clean_phone(value: str | None, *, field: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if not PHONE_PATTERN.match(value):
        raise DomainError(
            ErrorCode.INVALID_PHONE,
            "Use digits with an optional leading +, e.g. +44 20 7946 0000.",
            field,
        )
    return value
