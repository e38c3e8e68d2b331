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

from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.accounts.mails import greeting_name
from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.audit import service as audit
from server.audit.models import AuditEvent
from server.audit.summaries import summarise
from server.auth.models import Session
from server.auth.sessions import create_session
from server.core import clock
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode
from server.core.validation import clean_text
from server.mail.audience import audience_for
from server.mail.outbox import queue_mail
from server.settings import get_settings
from server.tenancy.models import Organisation


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
            details={
                "reason": reason,
                "expiresAt": session.expires_at.isoformat(),
                "grantedBy": audit.ref(grant.organisation),
            },
        )
    return raw, session, target


async def end(*, actor: Actor) -> None:
    """End the impersonation this request runs in; the administrator's own session is untouched."""
    if actor.session is None or not actor.impersonating:
        raise DomainError(ErrorCode.INVALID_STATE, "This session is not an impersonation.")
    await end_by(actor, "stopped")


async def end_by(actor: Actor, how: str) -> None:
    """Stopped by the administrator or signed out (auth/ calls this on logout)."""
    assert actor.session is not None
    async with in_transaction():
        await close(actor.session, how=how, actor=actor)


async def close(session: Session, *, how: str, actor: Actor | None = None) -> bool:
    """End an impersonation session once, whoever gets there first: the audit
    event and the member's mail (what was done, in the same transaction) come
    with the delete that wins. Call inside a transaction; False if already ended."""
    if await Session.filter(id=session.id).delete() != 1:
        return False
    member = await User.get(id=session.user_id)
    impersonator = await User.get_or_none(id=session.impersonator_id)
    ended_at = clock.now()
    started_at = session.created_at
    changes = await changes_during(session, until=ended_at)
    await audit.record(
        "impersonation.ended",
        actor=actor,
        organisation_id=session.impersonation_organisation_id,
        target=member,
        subject_user_id=member.id,
        details={
            "endedBy": how,
            "reason": session.impersonation_reason,
            "startedAt": started_at.isoformat(),
            "changes": len(changes),
            "impersonator": audit.person_ref(impersonator),
        },
    )
    if get_settings().impersonation_notice and impersonator is not None and member.email:
        await _tell_member(session, member, impersonator, changes, ended_at)
    return True


async def changes_during(session: Session, *, until: datetime) -> list[AuditEvent]:
    """What the administrator did as the member during this session, in order."""
    return (
        await AuditEvent.filter(
            actor_id=session.user_id,
            impersonator_id=session.impersonator_id,
            created_at__gte=session.created_at,
            created_at__lte=until,
        )
        .exclude(action__in=NOT_CHANGES)
        .order_by("id")
    )


# What an impersonation records about itself, not changes made in it.
NOT_CHANGES = ("impersonation.started", "impersonation.ended", "auth.logout")


async def _tell_member(
    session: Session,
    member: User,
    impersonator: User,
    changes: list[AuditEvent],
    ended_at: datetime,
) -> None:
    language = (await audience_for(member.email, session.impersonation_organisation_id)).language
    granting = await Organisation.get_or_none(path=session.impersonation_scope)
    where = await Organisation.get_or_none(id=session.impersonation_organisation_id)
    minutes = max(1, round((ended_at - session.created_at).total_seconds() / 60))
    await queue_mail(
        kind="impersonation_ended",
        recipient=member.email,
        organisation_id=session.impersonation_organisation_id,
        organisation_name=where.name if where is not None else "",
        name=greeting_name(member),
        actor_name=impersonator.display_name,
        actor_organisation=granting.name if granting is not None else "",
        started_at=session.created_at,
        ended_at=ended_at,
        minutes=minutes,
        reason=session.impersonation_reason,
        changes=[summarise(event, language) for event in changes],
    )


async def close_expired(limit: int = 100) -> int:
    """End the impersonations that ran out (or whose people can no longer use them):
    the periodic job of the workers (server/workers.py). Returns how many it ended."""
    now = clock.now()
    idle_since = now - timedelta(minutes=get_settings().session_idle_minutes)
    due = (
        await Session.filter(impersonator_id__isnull=False)
        .filter(Q(expires_at__lte=now) | Q(last_seen_at__lte=idle_since))
        .order_by("expires_at")
        .limit(limit)
    )
    ended = 0
    for session in due:
        async with in_transaction():
            ended += await close(session, how="expired")
    return ended
