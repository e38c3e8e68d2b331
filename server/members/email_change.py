"""Changing a person's sign-in address, by themselves or by an administrator.

The change waits until the link mailed to the new address is used (one use,
expiring, only the token's hash stored): nobody can move an account to an
address they do not read. The address must not belong to another person.
The old address is told once the change is done, and pending password-reset
links (sent to the old address) die with it. The link carries the token in
the URL fragment, which browsers never send: a mail scanner consumes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.accounts.models import EmailChange, User, UserStatus
from server.audit import service as audit
from server.auth.models import PasswordReset
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.errors import DomainError, ErrorCode
from server.core.tokens import hash_token, new_token
from server.core.validation import normalise_email
from server.members.mails import send_confirmation, send_notice
from server.members.service import check_may_edit_person, check_rank, lock_members
from server.settings import get_settings

EMAIL_CHANGE_PREFIX = "fde_"


def _taken() -> DomainError:
    return DomainError(
        ErrorCode.EMAIL_TAKEN, "This address belongs to another account.", "newEmail"
    )


async def _request(
    actor: Actor, user: User, new_email: str, organisation_id: int | None
) -> EmailChange:
    """Inside the caller's transaction: cancel an older request, store this one,
    mail the link to the new address, audit."""
    address = normalise_email(new_email, field="newEmail")
    if address == user.email:
        raise DomainError(ErrorCode.INVALID, "This is already the sign-in address.", "newEmail")
    if await User.exists(email=address):
        raise _taken()
    now = clock.now()
    await EmailChange.filter(user_id=user.id, used_at=None, cancelled_at=None).update(
        cancelled_at=now
    )
    settings = get_settings()
    raw, digest = new_token(EMAIL_CHANGE_PREFIX)
    change = await EmailChange.create(
        user_id=user.id,
        new_email=address,
        token_hash=digest,
        requested_by_id=actor.user.id,
        organisation_id=organisation_id,
        expires_at=now + timedelta(hours=settings.email_change_hours),
    )
    await send_confirmation(
        user,
        new_email=address,
        requester=actor.user,
        link=f"{settings.public_url}/admin/confirm-email#token={raw}",
        expires_at=change.expires_at,
        organisation_id=organisation_id,
    )
    await audit.record(
        "user.email_change_requested",
        actor=actor,
        organisation_id=organisation_id,
        target=user,
        subject_user_id=user.id,
        details={"newEmail": address},
    )
    return change


async def change_own_email(*, actor: Actor, new_email: str) -> EmailChange:
    async with in_transaction():
        user = await User.get(id=actor.user.id)
        return await _request(actor, user, new_email, None)


async def change_member_email(*, actor: Actor, membership_id: int, new_email: str) -> EmailChange:
    """An administrator asks for it, within the rank rules and the shared profile's
    rule (core/actor.py `may_edit_person`); the person confirms from the new address."""
    async with in_transaction():
        membership, organisation = await lock_members(membership_id)
        check_rank(actor, membership, organisation)
        user = await User.get(id=membership.user_id)
        await check_may_edit_person(actor, membership, user)
        if user.status is UserStatus.INVITED:
            raise DomainError(
                ErrorCode.INVALID_STATE,
                "The invitation went to this address: revoke it and invite the right one.",
                "newEmail",
            )
        return await _request(actor, user, new_email, organisation.id)


async def pending_change(user_id: int) -> EmailChange | None:
    return (
        await EmailChange.filter(
            user_id=user_id, used_at=None, cancelled_at=None, expires_at__gt=clock.now()
        )
        .order_by("-id")
        .first()
    )


async def confirm_email_change(*, token: str, meta: RequestMeta) -> User:
    """Use the link from the mail: the address changes, the old one is told."""
    invalid = DomainError(
        ErrorCode.TOKEN_INVALID, "This confirmation link is invalid or has expired.", "token"
    )
    change = await EmailChange.get_or_none(token_hash=hash_token(token))
    now = clock.now()
    if change is None or change.used_at or change.cancelled_at or change.expires_at <= now:
        raise invalid
    try:
        async with in_transaction():
            # The conditional update is the single-use check: of concurrent uses, one wins.
            claimed = await EmailChange.filter(
                id=change.id, used_at=None, cancelled_at=None
            ).update(used_at=now)
            if claimed != 1:
                raise invalid
            user = await User.get(id=change.user_id)
            if await User.filter(email=change.new_email).exclude(id=user.id).exists():
                raise _taken()
            old = user.email
            user.email = change.new_email
            await user.save(update_fields=["email", "updated_at"])
            # A reset link in the old mailbox must not open the account any more.
            await PasswordReset.filter(user_id=user.id, used_at=None).update(used_at=now)
            requester = await User.get_or_none(id=change.requested_by_id or 0)
            await send_notice(
                user, old_email=old, requester=requester, organisation_id=change.organisation_id
            )
            await audit.record(
                "user.email_changed",
                meta=meta,
                actor_user_id=user.id,
                actor_label=user.email,
                organisation_id=change.organisation_id,
                target=user,
                subject_user_id=user.id,
                details={"before": {"email": old}, "after": {"email": user.email}},
            )
    except IntegrityError:
        raise _taken() from None  # another account took the address meanwhile
    return user
