"""What signing in needs to know about a person's organisations: the words
their password must not be built on, and where their sign-in events belong
in the audit trail."""

from __future__ import annotations

from typing import Any

from server.accounts.models import MembershipStatus, User
from server.audit import service as audit
from server.core.actor import RequestMeta
from server.core.passwords import personal_words
from server.tenancy.models import Organisation

# The events `record_sign_in` writes (once per organisation of the person).
SIGN_IN_EVENTS = (
    "auth.login",
    "auth.login_failed",
    "auth.login_throttled",
    "auth.two_factor_failed",
)


async def organisations_of(user_id: int) -> list[Organisation]:
    """The organisations the person belongs to (joined: active or disabled there)."""
    return (
        await Organisation.filter(
            memberships__user_id=user_id,
            memberships__status__in=[MembershipStatus.ACTIVE, MembershipStatus.DISABLED],
        )
        .distinct()
        .order_by("id")
    )


async def password_words(user: User, *more_organisations: str) -> list[str]:
    """zxcvbn's user inputs for `user`'s new password: their email and the
    names of their organisations (and of `more_organisations`, e.g. the one
    an invitation joins)."""
    names = [o.name for o in await organisations_of(user.id)]
    return personal_words(email=user.email, organisation_names=[*names, *more_organisations])


async def record_sign_in(
    action: str,
    *,
    user: User | None,
    meta: RequestMeta,
    details: dict[str, Any] | None = None,
    actor: bool = True,
) -> None:
    """A sign-in event, once in the trail of every organisation the person
    belongs to (one event without an organisation for unknown people), so
    each organisation's administrators see attempts on their members.
    `actor`: the person did it (a sign-in); False when someone tried it on them."""
    organisations = await organisations_of(user.id) if user is not None else []
    places: list[int | None] = [o.id for o in organisations] or [None]
    for organisation_id in places:
        await audit.record(
            action,
            meta=meta,
            organisation_id=organisation_id,
            actor_user_id=user.id if user is not None and actor else None,
            actor_label=user.email if user is not None and actor else "",
            subject_user_id=user.id if user is not None else None,
            target=user,
            details=details,
        )
