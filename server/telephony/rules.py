"""Input rules of the telephony domain: extension numbers, forwarding
destinations and loops, call data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from server.core import clock
from server.core.errors import DomainError, ErrorCode
from server.core.validation import clean_phone
from server.telephony.models import ForwardingCondition

EXTENSION_NUMBER = re.compile(r"^[0-9]{2,8}$")
RING_SECONDS = (5, 120)
DEFAULT_RING_SECONDS = 20
MAX_CALL_SECONDS = 24 * 3600
MAX_RECORDING_BYTES = 2**31 - 1


@dataclass(frozen=True)
class RuleSpec:
    condition: ForwardingCondition
    destination: str
    ring_seconds: int = DEFAULT_RING_SECONDS


def clean_extension_number(value: str | None, *, field: str = "number") -> str:
    number = (value or "").strip()
    if not number:
        raise DomainError(ErrorCode.REQUIRED, "An extension number is required.", field)
    if not EXTENSION_NUMBER.match(number):
        raise DomainError(
            ErrorCode.INVALID, "An extension number is 2 to 8 digits, e.g. 201.", field
        )
    return number


def is_extension_number(value: str) -> bool:
    return value.isdigit() and value.isascii() and len(value) <= 8


def clean_phone_or_extension(value: str | None, *, field: str) -> str:
    """An extension number (2–8 digits) or a full phone number (6–15 digits)."""
    raw = (value or "").strip()
    if not raw:
        raise DomainError(ErrorCode.REQUIRED, "A number is required.", field)
    if is_extension_number(raw):
        return clean_extension_number(raw, field=field)
    number = clean_phone(raw, field=field)
    digits = sum(char.isdigit() for char in number)
    if not 6 <= digits <= 15:
        raise DomainError(
            ErrorCode.INVALID_PHONE,
            "Use an extension number (2 to 8 digits) or a full phone number, "
            "e.g. +44 20 7946 0000.",
            field,
        )
    return number


def clean_rules(specs: list[RuleSpec]) -> list[RuleSpec]:
    """Each rule checked on its own; extensions and loops are checked against the database."""
    seen: set[ForwardingCondition] = set()
    cleaned = []
    for index, spec in enumerate(specs):
        prefix = f"rules[{index}]"
        if spec.condition in seen:
            raise DomainError(
                ErrorCode.INVALID,
                f"Only one {spec.condition.value} rule per extension.",
                f"{prefix}.condition",
            )
        seen.add(spec.condition)
        low, high = RING_SECONDS
        if not low <= spec.ring_seconds <= high:
            raise DomainError(
                ErrorCode.INVALID,
                f"Ring time is between {low} and {high} seconds.",
                f"{prefix}.ringSeconds",
            )
        destination = clean_phone_or_extension(spec.destination, field=f"{prefix}.destination")
        cleaned.append(RuleSpec(spec.condition, destination, spec.ring_seconds))
    return cleaned


def find_loop(
    own_number: str, rules: list[RuleSpec], always: dict[str, str], numbers: set[str]
) -> int | None:
    """The index of the first rule whose calls would come back to this extension.

    `always` maps every other extension number of the organisation to its
    ALWAYS destination; `numbers` holds every extension number. A call
    forwarded to another extension that unconditionally forwards on (and on)
    back here loops; so does a rule pointing at the extension itself."""
    for index, rule in enumerate(rules):
        if not is_extension_number(rule.destination):
            continue
        current, visited = rule.destination, set()
        while current in numbers and current not in visited:
            if current == own_number:
                return index
            visited.add(current)
            following = always.get(current)
            if following is None or not is_extension_number(following):
                break
            current = following
    return None


def check_unknown_extensions(rules: list[RuleSpec], numbers: set[str]) -> None:
    for index, rule in enumerate(rules):
        if is_extension_number(rule.destination) and rule.destination not in numbers:
            raise DomainError(
                ErrorCode.UNKNOWN_EXTENSION,
                f"There is no extension {rule.destination} here; "
                "give a full phone number for outside lines.",
                f"rules[{index}].destination",
            )


def clean_call_time(value: datetime, *, field: str = "startedAt") -> datetime:
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if moment > clock.now() + timedelta(minutes=1):
        raise DomainError(ErrorCode.INVALID, "A call cannot start in the future.", field)
    if moment.year < 2000:
        raise DomainError(ErrorCode.INVALID, "This date is too far in the past.", field)
    return moment


def check_seconds(value: int, *, field: str, maximum: int = MAX_CALL_SECONDS) -> int:
    if not 0 <= value <= maximum:
        raise DomainError(
            ErrorCode.INVALID, f"Give a number of seconds from 0 to {maximum}.", field
        )
    return value
