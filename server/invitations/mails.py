"""The mails of adding a person: the invitation, and the welcome of a created user
(with a set-password link, or telling them their administrator has their password).

Both name the organisation and its place in the tree, the role, and who acted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from server.accounts.mails import greeting_name
from server.accounts.models import User, UserStatus
from server.auth.service import new_password_link
from server.core.actor import Actor
from server.core.permissions import Role
from server.invitations.models import Invitation
from server.mail.outbox import queue_mail
from server.settings import get_settings
from server.tenancy.models import Organisation


async def _about(
    organisation: Organisation, user: User, role: Role, actor: Actor
) -> dict[str, Any]:
    parent = (
        await Organisation.get_or_none(id=organisation.parent_id)
        if organisation.parent_id is not None
        else None
    )
    return {
        "organisation_id": organisation.id,
        "organisation_name": organisation.name,
        "organisation_kind": organisation.kind.value,
        "parent_name": parent.name if parent is not None else "",
        "role": role.value,
        "name": greeting_name(user),
        # Their name as the admin app shows it: never a bare address where a name exists.
        "actor_name": actor.user.display_name,
    }


async def send_invitation(
    invitation: Invitation,
    organisation: Organisation,
    user: User,
    role: Role,
    actor: Actor,
    raw: str,
) -> None:
    """The invitation: a new person chooses a password, an existing one signs in to join."""
    about = await _about(organisation, user, role, actor)
    await queue_mail(
        kind="invitation",
        recipient=invitation.email,
        inviter_name=about.pop("actor_name"),
        existing_user=user.status is not UserStatus.INVITED,
        link=f"{get_settings().public_url}/admin/accept-invitation#token={raw}",
        expires_at=invitation.expires_at,
        **about,
    )


async def send_welcome(
    organisation: Organisation, user: User, role: Role, actor: Actor, *, set_password_link: bool
) -> None:
    """A created user's welcome: a link to choose their password (one use, valid as
    long as an invitation), or the sign-in page when the admin chose a password."""
    about = await _about(organisation, user, role, actor)
    creator = about.pop("actor_name")
    if set_password_link:
        days = timedelta(days=get_settings().invitation_days)
        link, expires_at = await new_password_link(user, valid_for=days)
        await queue_mail(
            kind="welcome_set_password",
            recipient=user.email,
            creator_name=creator,
            link=link,
            expires_at=expires_at,
            **about,
        )
    else:
        await queue_mail(
            kind="welcome",
            recipient=user.email,
            creator_name=creator,
            link=f"{get_settings().public_url}/admin/",
            **about,
        )
