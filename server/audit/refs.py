"""How audit details name things: global ids and the names they had at the time.

A reference is ``{"id": <global id>, "name": <name then>}`` (a target adds its
``type``); the id is the one ``node(id:)`` accepts, so a reader can follow it
while the row exists, and the name lets a summary be written after it is gone.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from tortoise.models import Model

from server.accounts.models import Membership, User

Ref = dict[str, str]


def global_id(type_name: str, pk: object) -> str:
    """The relay global id of a row (what `node(id:)` takes): base64 of "Type:pk"."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def ref(row: Model | None, name: str | None = None) -> Ref | None:
    if row is None:
        return None
    return {"id": global_id(type(row).__name__, row.pk), "name": name or _name_of(row)}


def person_ref(user: User | None) -> Ref | None:
    return ref(user, user.display_name) if user is not None else None


async def member_ref(membership_id: int | None) -> Ref | None:
    """A membership, named after its person."""
    if membership_id is None:
        return None
    membership = await Membership.get_or_none(id=membership_id).select_related("user")
    if membership is None:
        return None
    return _with_person(ref(membership, membership.user.display_name), membership.user_id)


def _with_person(found: Ref | None, user_id: int) -> Ref | None:
    # A membership's person, so deleting them can pseudonymise the reference too.
    if found is not None:
        found["personId"] = global_id("User", user_id)
    return found


async def target_ref(target: Model, label: str = "") -> Ref | None:
    name = label
    if isinstance(target, Membership):  # a membership reads as its person
        user = await User.get_or_none(id=target.user_id)
        name = user.display_name if user is not None else label
        return _typed(_with_person(ref(target, name), target.user_id), target)
    elif isinstance(target, User):
        name = target.display_name
    return _typed(ref(target, name), target)


def _typed(found: Ref | None, target: Model) -> Ref | None:
    if found is not None:
        found["type"] = type(target).__name__
    return found


def _name_of(row: Model) -> str:
    for attribute in ("display_name", "name", "label", "number", "url", "email"):
        value = getattr(row, attribute, None)
        if isinstance(value, str) and value:
            return value
    return ""


_UPPER = re.compile(r"_([a-z0-9])")


def camel(key: str) -> str:
    """``can_impersonate`` → ``canImpersonate``; camelCase keys stay as they are."""
    return _UPPER.sub(lambda match: match.group(1).upper(), key)


def camel_keys(value: Any) -> Any:
    """The same JSON value with every object key in camelCase (one key style everywhere)."""
    if isinstance(value, dict):
        return {camel(str(key)): camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    return value


def renamed(value: Any, old: str, new: str) -> Any:
    """`value` with every reference named `old` renamed `new` (pseudonymisation)."""
    if isinstance(value, dict):
        if old in (value.get("id"), value.get("personId")):
            return {**value, "name": new}
        return {key: renamed(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed(item, old, new) for item in value]
    return value
