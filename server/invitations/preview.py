"""What an invitation link shows before anyone accepts it: who invites whom, to
which organisation, in which role.

Public, so it is built to give nothing away: an unknown, expired, revoked or
used token gets one answer, the same as a caller locked out by the throttle
(guesses count per client address, like sign-ins); the address is shown
partly masked; the inviter by name only, never by address.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.accounts.models import Membership, User, UserStatus
from server.auth import throttle
from server.core.actor import RequestMeta
from server.core.errors import DomainError, ErrorCode
from server.core.permissions import Role
from server.core.tokens import hash_token
from server.invitations.models import Invitation, InvitationStatus
from server.tenancy.models import Organisation

_MASK = "•••"


@dataclass(frozen=True)
class InvitationPreview:
    organisation_name: str
    inviter_name: str | None
    role: Role
    masked_email: str
    has_account: bool
    # What the inviter typed about a new person (the mail greets them by it); an
    # existing account's names are its owner's and stay out.
    first_name: str | None
    last_name: str | None


def mask_email(address: str) -> str:
    """ "nina.new@example.com" -> "n•••@example.com": enough to recognise one's own."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}{_MASK}@{domain}"


def _name(user: User | None) -> str | None:
    if user is None:
        return None
    return f"{user.first_name} {user.last_name}".strip() or None


async def _open(token: str) -> tuple[Invitation, Membership, User] | None:
    invitation = await Invitation.get_or_none(token_hash=hash_token(token))
    if invitation is None or invitation.status is not InvitationStatus.PENDING:
        return None
    membership = await Membership.get_or_none(id=invitation.membership_id)
    if membership is None:
        return None
    return invitation, membership, await User.get(id=membership.user_id)


async def preview_invitation(*, token: str, meta: RequestMeta) -> InvitationPreview:
    """The preview of a pending invitation, or INVITE_INVALID for anything else."""
    invalid = DomainError(
        ErrorCode.INVITE_INVALID,
        "This invitation link is not valid: it may have expired, been withdrawn or been "
        "used already. Ask the person who invited you for a new one.",
        "token",
    )
    keys = throttle.keys_for_token_lookup("invitation", meta.client_ip)
    async with throttle.attempt(keys) as attempt:
        found = await _open(token) if attempt.allowed else None
        if found is None:
            await attempt.fail()
            raise invalid
        await attempt.succeed()
    invitation, membership, user = found
    organisation = await Organisation.get(id=invitation.organisation_id)
    inviter = (
        await User.get_or_none(id=invitation.invited_by_id)
        if invitation.invited_by_id is not None
        else None
    )
    new_person = user.status is UserStatus.INVITED
    return InvitationPreview(
        organisation_name=organisation.name,
        inviter_name=_name(inviter),
        role=membership.role,
        masked_email=mask_email(invitation.email),
        has_account=not new_person,
        first_name=(user.first_name or None) if new_person else None,
        last_name=(user.last_name or None) if new_person else None,
    )
