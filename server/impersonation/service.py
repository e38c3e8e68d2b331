"""Impersonation: an administrator opens a member's own portal view.

Rules (SECURITY.md): only an OWNER or ADMIN whose membership carries
`canImpersonate`, only for active members of that organisation or below it,
only of a lower role, never oneself, never from inside an impersonation,
with a reason and a recent sign-in. The result is a separate session of at
most `impersonation_minutes`, not renewable, reaching only the member's
memberships within the granting organisation's subtree; neither person's own
sessions change. Every audit event inside names both people.
"""

from __future__ import annotations

from datetime import timedelta

from tortoise.transactions import in_transaction

from server.accounts.mails import greeting_name
from server.accounts.models import Membership, MembershipStatus, UserStatus
from server.audit import service as audit
from server.auth.models import Session
from server.auth.sessions import create_session
from server.core import clock
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode
from server.core.validation import clean_text
from server.mail.outbox import queue_mail
from server.settings import get_settings


def _refuse(message: str) -> DomainError:
    return DomainError(ErrorCode.CANNOT_IMPERSONATE, message)


async def impersonate(
    *, actor: Actor, membership_id: int, reason: str
) -> tuple[str, Session, Membership]:
    reason = clean_text(reason, field="reason", max_length=500, required=True)
    target = await Membership.get(id=membership_id).select_related("organisation", "user")
    organisation, user = target.organisation, target.user
    grant = actor.impersonation_grant(organisation)
    if grant is None:
        raise _refuse("Opening members' portals needs the impersonation permission here.")
    if user.id == actor.user.id:
        raise _refuse("You cannot impersonate yourself.")
    if target.status is not MembershipStatus.ACTIVE or user.status is not UserStatus.ACTIVE:
        raise _refuse("Only active members can be impersonated.")
    if not user.email or user.password_hash is None:
        raise _refuse("Only members who can sign in (email and password) can be impersonated.")
    if not actor.ranks_above(target, organisation):
        raise _refuse("You can only impersonate members of a lower role than yours.")
    settings = get_settings()
    async with in_transaction():
        raw, session = await create_session(user, actor.meta)
        session.impersonator_id = actor.user.id
        session.impersonation_reason = reason
        session.impersonation_scope = grant.organisation.path
        session.impersonation_organisation_id = organisation.id
        # Short and not renewable: the absolute timeout is the whole lifetime.
        session.expires_at = clock.now() + timedelta(minutes=settings.impersonation_minutes)
        await session.save(
            update_fields=[
                "impersonator_id",
                "impersonation_reason",
                "impersonation_scope",
                "impersonation_organisation_id",
                "expires_at",
            ]
        )
        await audit.record(
            "impersonation.started",
            actor=actor,
            organisation_id=organisation.id,
            target=target,
            target_label=user.email,
            subject_user_id=user.id,
            details={"reason": reason, "expiresAt": session.expires_at.isoformat()},
        )
        if settings.impersonation_notice:
            await queue_mail(
                kind="impersonation_notice",
                recipient=user.email,
                organisation_id=organisation.id,
                organisation_name=organisation.name,
                name=greeting_name(user),
                actor_name=actor.user.display_name,
                reason=reason,
            )
    return raw, session, target


async def end(*, actor: Actor) -> None:
    """End the impersonation this request runs in; the administrator's own session is untouched."""
    session = actor.session
    if session is None or not actor.impersonating:
        raise DomainError(ErrorCode.INVALID_STATE, "This session is not an impersonation.")
    async with in_transaction():
        await Session.filter(id=session.id).delete()
        await audit.record(
            "impersonation.ended",
            actor=actor,
            organisation_id=session.impersonation_organisation_id,
            target=actor.user,
            subject_user_id=actor.user.id,
        )
