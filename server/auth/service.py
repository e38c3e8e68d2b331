"""Signing in and out, and passwords: change, forgotten-password reset.

Answers never tell whether an email is registered: unknown, disabled and
wrong-password log-ins get the same error after the same work (a dummy hash
verify), and a reset request always "succeeds".
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from server.accounts.mails import account_mail
from server.accounts.models import User, UserStatus, usable_memberships
from server.audit import service as audit
from server.auth import throttle, two_factor
from server.auth.devices import remember
from server.auth.models import ChallengePurpose, LoginChallenge, PasswordReset, Session
from server.auth.people import password_words, record_sign_in
from server.auth.sessions import create_session, end_impersonation, end_session, end_sessions
from server.auth.two_factor import TwoFactorMethod
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.errors import DomainError, ErrorCode, not_found
from server.core.passwords import check_policy, hash_password, verify_password
from server.core.tokens import hash_token, new_token
from server.core.validation import normalise_email
from server.mail.outbox import queue_mail
from server.ops import metrics
from server.settings import get_settings

RESET_PREFIX = "fdr_"


def _invalid_credentials() -> DomainError:
    return DomainError(ErrorCode.INVALID_CREDENTIALS, "Email or password is incorrect.")


@dataclass
class LoginResult:
    """Either a session (no second factor) or a challenge for `verify_login`;
    with a session, the browser's new device cookie (None: keep the one it has)."""

    token: str | None = None
    session: Session | None = None
    challenge_token: str | None = None
    challenge: LoginChallenge | None = None
    methods: list[TwoFactorMethod] = field(default_factory=list)
    device_cookie: str | None = None


async def login(
    *, email: str, password: str, meta: RequestMeta, device_cookie: str | None = None
) -> LoginResult:
    """Check the credentials (throttled per account and address, or per trusted
    device). Without a second factor, open a session; with one, return a challenge."""
    try:
        address = normalise_email(email)
    except DomainError:
        address = ""
    keys = throttle.keys_for(address or email, meta.client_ip, device_cookie=device_cookie)
    async with throttle.attempt(keys) as attempt:
        if not attempt.allowed:
            metrics.login("throttled")
            # Locked: the same answer as a wrong password, after the same work.
            await verify_password(None, password)
            await record_sign_in(
                "auth.login_throttled",
                user=await User.get_or_none(email=address) if address else None,
                meta=meta,
                actor=False,
                details={
                    "account": keys.account_hash,
                    "address": meta.client_ip,
                    "lockedBy": attempt.locked_by,
                },
            )
            raise _invalid_credentials()
        user = await User.get_or_none(email=address) if address else None
        matches, needs_rehash = await verify_password(
            user.password_hash if user else None, password
        )
        reason = None
        if user is None or not matches:
            reason = "credentials"
        elif user.status is not UserStatus.ACTIVE:
            reason = "status"
        elif not await usable_memberships(user.id):
            reason = "no_active_membership"  # disabled everywhere or suspended: as if unknown
        if reason is not None:
            await attempt.fail()
            metrics.login("failed")
            await record_sign_in(
                "auth.login_failed",
                user=user,
                meta=meta,
                details={"reason": reason, "account": keys.account_hash},
            )
            raise _invalid_credentials()
        await attempt.succeed()
    assert user is not None
    if needs_rehash:
        user.password_hash = await hash_password(password)
        await user.save(update_fields=["password_hash", "updated_at"])
    if user.has_second_factor:
        metrics.login("second_factor_required")
        raw_challenge, challenge = await two_factor.start_challenge(user, ChallengePurpose.LOGIN)
        return LoginResult(
            challenge_token=raw_challenge,
            challenge=challenge,
            methods=two_factor.methods_of(user),
        )
    async with in_transaction():
        user.last_login_at = clock.now()
        await user.save(update_fields=["last_login_at", "updated_at"])
        raw, session = await create_session(user, meta)
        await record_sign_in("auth.login", user=user, meta=meta)
    metrics.login("success")
    return LoginResult(
        token=raw, session=session, device_cookie=remember(device_cookie, keys.account_hash)
    )


async def logout(*, actor: Actor, raw_token: str | None, own_token: str | None = None) -> None:
    """End this session. Inside an impersonation: end it (audited, the member
    mailed) and, given `own_token` (the browser's own session cookie), the
    administrator's session too, so a shared computer is left signed out."""
    if not actor.impersonating:
        if raw_token:
            await end_session(raw_token)
        await audit.record("auth.logout", actor=actor, subject_user_id=actor.user.id)
        return
    impersonator = actor.impersonator
    assert impersonator is not None
    async with in_transaction():
        await end_impersonation(actor, "signedOut")
        if own_token is None:
            return
        # Only the impersonator's own session: never someone else's, never an impersonation.
        own = Session.filter(
            token_hash=hash_token(own_token), user_id=impersonator.id, impersonator_id__isnull=True
        )
        if await own.delete():
            await audit.record(
                "auth.logout",
                meta=actor.meta,
                actor_user_id=impersonator.id,
                actor_label=impersonator.email or "",
                subject_user_id=impersonator.id,
            )


async def revoke_session(*, actor: Actor, session_id: int) -> None:
    mine = Session.filter(id=session_id, user_id=actor.user.id)
    # An administrator's session in the member's portal expires instead: the sweep
    # ends it and mails the member what was done (impersonation/service.py).
    now = clock.now()
    deleted = await mine.filter(impersonator_id__isnull=False, expires_at__gt=now).update(
        expires_at=now
    )
    deleted += await mine.filter(impersonator_id__isnull=True).delete()
    if not deleted:
        raise not_found("sessionId", "Session")
    await audit.record("auth.session_revoked", actor=actor, subject_user_id=actor.user.id)


async def revoke_other_sessions(*, actor: Actor) -> None:
    await end_sessions(actor.user.id, except_session_id=actor.session.id if actor.session else None)
    await audit.record("auth.other_sessions_revoked", actor=actor, subject_user_id=actor.user.id)


async def change_password(
    *, actor: Actor, current_password: str, new_password: str
) -> tuple[str, Session]:
    """Change one's own password. Every session of the user ends, this one
    included: it goes on under a new token (returned), as after a sign-in."""
    user = actor.user
    keys = throttle.keys_for(user.email, actor.meta.client_ip, signed_in=True)
    async with throttle.attempt(keys) as attempt:
        if not (
            attempt.allowed and (await verify_password(user.password_hash, current_password))[0]
        ):
            await attempt.fail()
            raise DomainError(
                ErrorCode.WRONG_PASSWORD, "The current password is incorrect.", "currentPassword"
            )
        await attempt.succeed()
    check_policy(new_password, field="newPassword", user_inputs=await password_words(user))
    if new_password == current_password:
        raise DomainError(
            ErrorCode.INVALID, "Choose a password different from the current one.", "newPassword"
        )
    new_hash = await hash_password(new_password)
    async with in_transaction():
        user.password_hash = new_hash
        user.must_change_password = False
        await user.save(update_fields=["password_hash", "must_change_password", "updated_at"])
        await end_sessions(user.id)
        # The new session keeps the old one's second factor: nothing about it changed.
        factor = actor.session.second_factor if actor.session else None
        fresh = await create_session(user, actor.meta, second_factor=factor)
        # A reset link in a mailbox must not undo the change.
        await PasswordReset.filter(user_id=user.id, used_at=None).update(used_at=clock.now())
        await queue_mail(kind="password_changed", recipient=user.email, **await account_mail(user))
        await audit.record("auth.password_changed", actor=actor, subject_user_id=user.id)
    return fresh


# Known and unknown addresses answer after the same time, not just the same words.
RESET_ANSWER_SECONDS = 0.25


async def new_password_link(user: User, *, valid_for: timedelta) -> tuple[str, datetime]:
    """A one-use link to choose a password, and when it expires (inside the caller's
    transaction). Only the latest link works: earlier ones are spent."""
    raw, digest = new_token(RESET_PREFIX)
    now = clock.now()
    await PasswordReset.filter(user_id=user.id, used_at=None).update(used_at=now)
    reset = await PasswordReset.create(user=user, token_hash=digest, expires_at=now + valid_for)
    return f"{get_settings().public_url}/admin/reset-password#token={raw}", reset.expires_at


async def request_password_reset(*, email: str, meta: RequestMeta) -> None:
    """Mail a reset link if the address belongs to an active user; say nothing either way."""
    address = normalise_email(email)
    started = time.monotonic()
    try:
        await _request_password_reset(address, meta)
    finally:
        await asyncio.sleep(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - started)))


async def _request_password_reset(address: str, meta: RequestMeta) -> None:
    user = await User.get_or_none(email=address, status=UserStatus.ACTIVE)
    if user is None:
        return
    settings = get_settings()
    async with in_transaction():
        link, _ = await new_password_link(
            user, valid_for=timedelta(minutes=settings.password_reset_minutes)
        )
        await queue_mail(
            kind="password_reset",
            recipient=user.email,
            link=link,
            minutes=settings.password_reset_minutes,
            **await account_mail(user),
        )
        await audit.record(
            "auth.password_reset_requested",
            meta=meta,
            subject_user_id=user.id,
            target=user,
        )


async def reset_password(*, token: str, new_password: str, meta: RequestMeta) -> User:
    """Set a new password with an emailed token: single use, expiring; ends every session."""
    check_policy(new_password, field="newPassword")
    invalid = DomainError(
        ErrorCode.TOKEN_INVALID, "This reset link is invalid or has expired.", "token"
    )
    reset = await PasswordReset.get_or_none(token_hash=hash_token(token))
    if reset is None or reset.used_at is not None or reset.expires_at <= clock.now():
        raise invalid
    owner = await User.get(id=reset.user_id)
    check_policy(new_password, field="newPassword", user_inputs=await password_words(owner))
    new_hash = await hash_password(new_password)
    async with in_transaction():
        # The conditional update is the single-use check: of concurrent uses, one wins.
        claimed = await PasswordReset.filter(id=reset.id, used_at=None).update(used_at=clock.now())
        if claimed != 1:
            raise invalid
        user = await User.get(id=reset.user_id)
        if user.status is not UserStatus.ACTIVE:
            raise invalid
        user.password_hash = new_hash
        user.must_change_password = False
        await user.save(update_fields=["password_hash", "must_change_password", "updated_at"])
        await end_sessions(user.id)
        await queue_mail(kind="password_changed", recipient=user.email, **await account_mail(user))
        await audit.record(
            "auth.password_reset",
            meta=meta,
            actor_user_id=user.id,
            actor_label=user.email,
            subject_user_id=user.id,
            target=user,
        )
    return user
