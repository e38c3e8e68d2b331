"""What mails to a person need from their account: their language, and the
organisation a mail about their own account (a password, a sign-in code) speaks for.

``language_of`` is registered with ``server.mail.audience`` (see ``__init__``):
``queue_mail`` asks it for every mail.
"""

from __future__ import annotations

from typing import Any

from server.accounts.models import Membership, MembershipStatus, User


async def language_of(address: str) -> str | None:
    """The language the person with this address chose; None when unset or unknown."""
    user = await User.get_or_none(email=address).only("id", "language")
    return user.language if user is not None else None


def greeting_name(user: User) -> str:
    """Their name for "Hello …,", or "" (a mail greets no one by their address)."""
    return f"{user.first_name} {user.last_name}".strip()


async def account_mail(user: User, organisation_id: int | None = None) -> dict[str, Any]:
    """``queue_mail`` arguments for a mail about the person's own account: their name
    and the organisation it concerns (``organisation_id`` when an organisation's
    admin acted, else the one they joined first), whose brand and default language
    the mail takes. No organisation when they have no active membership."""
    memberships = Membership.filter(user_id=user.id, status=MembershipStatus.ACTIVE)
    if organisation_id is not None:
        memberships = memberships.filter(organisation_id=organisation_id)
    home = await memberships.order_by("created_at", "id").select_related("organisation").first()
    values: dict[str, Any] = {"name": greeting_name(user)}
    if home is not None:
        values["organisation_id"] = home.organisation_id
        values["organisation_name"] = home.organisation.name
    return values
