"""A person's profile: names, title and phone numbers, checked the same way
wherever they are given (one's own profile, an admin's edit, adding a person)."""

from __future__ import annotations

from collections.abc import Mapping

from server.core.errors import graphql_name
from server.core.validation import clean_phone, clean_text

PROFILE_TEXT_FIELDS = ("first_name", "last_name", "title")
PROFILE_PHONE_FIELDS = ("office_phone", "mobile_phone", "fax")
PROFILE_FIELDS = (*PROFILE_TEXT_FIELDS, *PROFILE_PHONE_FIELDS)


def clean_profile(changes: Mapping[str, str | None]) -> dict[str, str]:
    """The given profile fields, trimmed and checked (None or "" clears one);
    other names are ignored. Raises DomainError naming the GraphQL field."""
    cleaned: dict[str, str] = {}
    for name, value in changes.items():
        field = graphql_name(name)
        if name in PROFILE_TEXT_FIELDS:
            cleaned[name] = clean_text(value, field=field)
        elif name in PROFILE_PHONE_FIELDS:
            cleaned[name] = clean_phone(value, field=field)
    return cleaned


def audit_values(values: Mapping[str, str]) -> dict[str, str]:
    """Profile values keyed by their GraphQL names, as audit details show them."""
    return {graphql_name(name): value for name, value in values.items()}
