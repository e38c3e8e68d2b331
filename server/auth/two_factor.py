"""Second factors: TOTP apps, emailed one-time codes, recovery codes; log-in
challenges and re-authentication (step-up).

- TOTP: a 160-bit seed, encrypted at rest, ±1 time step; the last accepted
  step is stored and moved forward atomically, so each code works once even
  under parallel requests.
- Email codes: 6 digits, 5 minutes, 3 tries, only the latest one valid,
  bound to the challenge they were sent for.
- Recovery codes: 10 single-use codes of 119 bits (ASVS 6.5.2 asks for 112;
  at that size one SHA-256 is as good as a slow hash), shown once, stored
  hashed. Codes made before (10 characters, 50 bits) keep working until used
  or replaced.
- A challenge dies after 5 wrong codes of any kind: sign in again.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

import pyotp
import segno
import strawberry
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.accounts.mails import account_mail
from server.accounts.models import User, UserStatus, usable_memberships
from server.audit import service as audit
from server.auth import passkeys, throttle
from server.auth.devices import remember
from server.auth.models import ChallengePurpose, LoginChallenge, RecoveryCode, Session
from server.auth.people import record_sign_in
from server.auth.sessions import create_session, end_sessions
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.encryption import decrypt, encrypt
from server.core.errors import DomainError, ErrorCode
from server.core.passwords import verify_password
from server.core.tokens import hash_token, new_token
from server.mail.outbox import queue_mail
from server.ops import metrics

CHALLENGE_PREFIX = "fdc_"
CHALLENGE_LIFETIME = timedelta(minutes=5)
EMAIL_CODE_LIFETIME = timedelta(minutes=5)
EMAIL_CODE_TRIES = 3
# Wrong codes a challenge survives: then the person starts again with the password.
CHALLENGE_CODE_TRIES = 5
RECOVERY_CODES = 10
# 4 groups of 6 characters from 31: 24 × log2(31) = 118.9 bits.
RECOVERY_GROUPS, RECOVERY_GROUP_LENGTH = 4, 6
TOTP_STEP = 30
ISSUER = "Frontdesk"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@strawberry.enum(description="A way to prove the second factor.")
class TwoFactorMethod(Enum):
    TOTP = "TOTP"
    EMAIL = "EMAIL"
    RECOVERY_CODE = "RECOVERY_CODE"
    PASSKEY = strawberry.enum_value(
        "PASSKEY", description="A passkey: `beginPasskeyTwoFactor`, then `verifyTwoFactorPasskey`."
    )


def methods_of(user: User) -> list[TwoFactorMethod]:
    methods = []
    if user.has_totp:
        methods.append(TwoFactorMethod.TOTP)
    if user.email_two_factor:
        methods.append(TwoFactorMethod.EMAIL)
    if user.has_totp:  # recovery codes come with the app
        methods.append(TwoFactorMethod.RECOVERY_CODE)
    if user.passkey_count > 0:
        methods.append(TwoFactorMethod.PASSKEY)
    return methods


def _invalid_code(field: str = "code") -> DomainError:
    return DomainError(ErrorCode.INVALID_CODE, "The code is not valid.", field)


def _digest(secret_key: str, code: str) -> str:
    return hmac.new(secret_key.encode(), code.encode(), hashlib.sha256).hexdigest()


# --- TOTP ------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str
    qr_svg: str


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (now ±1) whose code this is, or None."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(clock.now().timestamp()) // TOTP_STEP
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            return step
    return None


async def _use_totp(user: User, code: str) -> bool:
    if user.totp_secret is None:
        return False
    step = _matching_step(decrypt(user.totp_secret), code)
    if step is None:
        return False
    # Replay protection: only a later step than the last accepted one moves it.
    moved = await User.filter(id=user.id, totp_last_step__lt=step).update(totp_last_step=step)
    return moved == 1


async def start_totp_enrolment(actor: Actor) -> TotpEnrolment:
    """The pending seed, or a new one: pending until `confirm_totp` sees a first
    valid code from it or `cancel_totp_enrolment` drops it. Asking again (a
    reloaded set-up page) shows the same seed, so a code already scanned keeps working."""
    user = actor.user
    if user.totp_pending_secret is not None:
        secret = decrypt(user.totp_pending_secret)
    else:
        secret = pyotp.random_base32(32)  # 32 base32 characters = 160 bits
        user.totp_pending_secret = encrypt(secret)
        await user.save(update_fields=["totp_pending_secret", "updated_at"])
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    buffer = io.BytesIO()
    # A standalone SVG (with its namespace), so it also works as an <img> source.
    segno.make(uri, error="m").save(
        buffer, kind="svg", xmldecl=False, nl=False, scale=4, title="Two-factor QR code"
    )
    svg = buffer.getvalue().decode()
    return TotpEnrolment(secret=secret, uri=uri, qr_svg=svg)


async def confirm_totp(actor: Actor, code: str) -> list[str]:
    """Activate the pending seed; returns fresh recovery codes (shown once)."""
    user = actor.user
    if user.totp_pending_secret is None:
        raise DomainError(ErrorCode.INVALID_STATE, "Start the enrolment first.")
    step = _matching_step(decrypt(user.totp_pending_secret), code.strip())
    if step is None:
        raise _invalid_code()
    async with in_transaction():
        user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None  # type: ignore[assignment]  # Tortoise types TextField(null=True) as str
        user.totp_confirmed_at = clock.now()
        user.totp_last_step = step
        await user.save(
            update_fields=[
                "totp_secret",
                "totp_pending_secret",
                "totp_confirmed_at",
                "totp_last_step",
                "updated_at",
            ]
        )
        codes = await _replace_recovery_codes(user)
        await _factor_changed(actor, "totp_enabled")
        await _mark_session(actor, "totp")
        await audit.record("two_factor.totp_enabled", actor=actor, subject_user_id=user.id)
    return codes


async def cancel_totp_enrolment(actor: Actor) -> bool:
    """Drop the pending seed (the next enrolment starts with a new one).
    False when none was pending; a confirmed app stays as it is."""
    user = actor.user
    if user.totp_pending_secret is None:
        return False
    user.totp_pending_secret = None  # type: ignore[assignment]  # Tortoise types TextField(null=True) as str
    await user.save(update_fields=["totp_pending_secret", "updated_at"])
    return True


# --- recovery codes ----------------------------------------------------------------


def _new_recovery_code() -> str:
    return "-".join(
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
        for _ in range(RECOVERY_GROUPS)
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _recovery_hash(code: str) -> str:
    """How a new code is stored: the hash of its characters without separators."""
    return _sha256(_compact(code))


def _compact(code: str) -> str:
    return re.sub(r"[\s-]+", "", code.lower())


def _recovery_hashes(code: str) -> list[str]:
    """The stored hashes a typed code may match: a new code, with or without
    its dashes; a code made before (stored as "xxxxx-xxxxx"), with or without."""
    compact = _compact(code)
    hashes = [_recovery_hash(code)]
    if len(compact) == 10:
        hashes.append(_sha256(f"{compact[:5]}-{compact[5:]}"))
    return hashes


async def _replace_recovery_codes(user: User) -> list[str]:
    await RecoveryCode.filter(user_id=user.id).delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    now = clock.now()
    await RecoveryCode.bulk_create(
        [RecoveryCode(user=user, code_hash=_recovery_hash(c), created_at=now) for c in codes]
    )
    return codes


async def regenerate_recovery_codes(actor: Actor) -> list[str]:
    if not actor.user.has_totp:
        raise DomainError(ErrorCode.INVALID_STATE, "Set up an authenticator app first.")
    async with in_transaction():
        codes = await _replace_recovery_codes(actor.user)
        await _factor_changed(actor, "recovery_codes")
        await audit.record(
            "two_factor.recovery_codes_regenerated", actor=actor, subject_user_id=actor.user.id
        )
    return codes


async def _use_recovery_code(user: User, code: str) -> bool:
    used = await RecoveryCode.filter(
        user_id=user.id, code_hash__in=_recovery_hashes(code), used_at=None
    ).update(used_at=clock.now())
    return used == 1


# --- email codes -----------------------------------------------------------------


async def _send_email_code(challenge: LoginChallenge, user: User) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    # A new code replaces the previous one: only the latest is valid.
    challenge.email_code_hash = _digest(challenge.token_hash, code)
    challenge.email_code_expires_at = clock.now() + EMAIL_CODE_LIFETIME
    challenge.email_code_attempts = 0
    async with in_transaction():
        await challenge.save(
            update_fields=["email_code_hash", "email_code_expires_at", "email_code_attempts"]
        )
        await queue_mail(
            kind="email_code",
            recipient=user.email,
            code=code,
            minutes=int(EMAIL_CODE_LIFETIME.total_seconds() // 60),
            **await account_mail(user),
        )


async def _use_email_code(challenge: LoginChallenge, code: str) -> bool:
    if challenge.email_code_hash is None or challenge.email_code_expires_at is None:
        return False
    if challenge.email_code_expires_at <= clock.now():
        return False
    # Count the try first, atomically: three tries, even in parallel.
    counted = await LoginChallenge.filter(
        id=challenge.id,
        email_code_hash=challenge.email_code_hash,
        email_code_attempts__lt=EMAIL_CODE_TRIES,
    ).update(email_code_attempts=challenge.email_code_attempts + 1)
    if counted != 1:
        return False
    if not hmac.compare_digest(challenge.email_code_hash, _digest(challenge.token_hash, code)):
        return False
    # Used: the code cannot serve twice.
    cleared = await LoginChallenge.filter(
        id=challenge.id, email_code_hash=challenge.email_code_hash
    ).update(email_code_hash=None)
    return cleared == 1


async def set_email_two_factor(actor: Actor, enabled: bool) -> User:
    user = actor.user
    if user.email_two_factor == enabled:
        return user
    async with in_transaction():
        user.email_two_factor = enabled
        await user.save(update_fields=["email_two_factor", "updated_at"])
        # The session does not count as signed in with a code: none was entered.
        await _factor_changed(actor, "email_codes_on" if enabled else "email_codes_off")
        await audit.record(
            "two_factor.email_enabled" if enabled else "two_factor.email_disabled",
            actor=actor,
            subject_user_id=user.id,
        )
    return user


# --- challenges --------------------------------------------------------------------


async def start_challenge(user: User, purpose: ChallengePurpose) -> tuple[str, LoginChallenge]:
    raw, digest = new_token(CHALLENGE_PREFIX)
    now = clock.now()
    # One open challenge per purpose: a new log-in supersedes the last.
    await LoginChallenge.filter(user_id=user.id, purpose=purpose, completed_at=None).delete()
    challenge = await LoginChallenge.create(
        token_hash=digest,
        user=user,
        purpose=purpose,
        created_at=now,
        expires_at=now + CHALLENGE_LIFETIME,
    )
    if purpose is ChallengePurpose.LOGIN and user.email_two_factor and not user.has_totp:
        await _send_email_code(challenge, user)  # the only code that gets in: send it at once
    return raw, challenge


async def open_challenge(raw: str, purpose: ChallengePurpose) -> LoginChallenge:
    challenge = await LoginChallenge.get_or_none(token_hash=hash_token(raw), purpose=purpose)
    if (
        challenge is None
        or challenge.completed_at is not None
        or challenge.expires_at <= clock.now()
        or challenge.failed_codes >= CHALLENGE_CODE_TRIES
    ):
        raise DomainError(
            ErrorCode.CHALLENGE_INVALID,
            "This sign-in has expired; sign in again.",
            "challenge",
        )
    return challenge


def too_many_wrong_codes() -> DomainError:
    return DomainError(
        ErrorCode.CHALLENGE_INVALID,
        "Too many wrong codes: sign in again with your password.",
        "challenge",
    )


async def wrong_code(challenge: LoginChallenge) -> bool:
    """Count a wrong code against the challenge; True when that killed it.
    Counted atomically: parallel guesses get five between them, not five each."""
    counted = await LoginChallenge.filter(
        id=challenge.id, failed_codes__lt=CHALLENGE_CODE_TRIES
    ).update(failed_codes=F("failed_codes") + 1)
    dead = await LoginChallenge.filter(
        id=challenge.id, failed_codes__gte=CHALLENGE_CODE_TRIES
    ).update(expires_at=clock.now())
    return counted == 0 or dead == 1


async def resend_email_code(raw: str) -> None:
    challenge = await open_challenge(raw, ChallengePurpose.LOGIN)
    user = await User.get(id=challenge.user_id)
    if not user.email_two_factor:
        raise DomainError(ErrorCode.INVALID_STATE, "Codes by email are not turned on.")
    await _send_email_code(challenge, user)


async def _check_code(user: User, code: str, challenge: LoginChallenge | None) -> str | None:
    """Which factor the code proves ("totp", "email", "recovery"), or None."""
    code = code.strip().replace(" ", "")
    if "-" in code or len(code) > 6:  # app and email codes have 6 digits
        return "recovery" if user.has_totp and await _use_recovery_code(user, code) else None
    if user.has_totp and await _use_totp(user, code):
        return "totp"
    if user.email_two_factor and challenge is not None and await _use_email_code(challenge, code):
        return "email"
    return None


async def verify_login(
    raw: str, code: str, meta: RequestMeta, *, device_cookie: str | None = None
) -> tuple[str, Session, str | None]:
    """Complete a log-in challenge with a second factor; opens the session.
    Returns its token, the session and the browser's new device cookie (None:
    keep the one it has)."""
    challenge = await open_challenge(raw, ChallengePurpose.LOGIN)
    user = await User.get(id=challenge.user_id)
    if user.status is not UserStatus.ACTIVE or not await usable_memberships(user.id):
        # Disabled or suspended since the password step: the sign-in is over.
        await LoginChallenge.filter(id=challenge.id).delete()
        raise DomainError(
            ErrorCode.CHALLENGE_INVALID, "This sign-in has expired; sign in again.", "challenge"
        )
    keys = throttle.keys_for(user.email, meta.client_ip, codes=True, device_cookie=device_cookie)
    async with throttle.attempt(keys) as attempt:
        factor = await _check_code(user, code, challenge) if attempt.allowed else None
        if factor is None:
            await attempt.fail()
            metrics.login("failed")
            dead = await wrong_code(challenge)
            await record_sign_in(
                "auth.two_factor_failed", user=user, meta=meta, details={"challengeEnded": dead}
            )
            raise too_many_wrong_codes() if dead else _invalid_code()
        async with in_transaction():
            completed = await LoginChallenge.filter(id=challenge.id, completed_at=None).update(
                completed_at=clock.now()
            )
            if completed != 1:
                raise _invalid_code()
            raw_session, session = await create_session(user, meta, second_factor=factor)
            user.last_login_at = clock.now()
            await user.save(update_fields=["last_login_at"])
            details = {"secondFactor": factor}
            await record_sign_in("auth.login", user=user, meta=meta, details=details)
        await attempt.succeed()
    metrics.login("success")
    return raw_session, session, remember(device_cookie, keys.account_hash)


# --- step-up -----------------------------------------------------------------------


async def reauthenticate(
    actor: Actor, *, password: str, code: str | None
) -> tuple[str, Session] | None:
    """Check the password (and second factor) again and open a fresh session in
    place of the current one. Returns None when an email code was just sent."""
    user = actor.user
    # Until it succeeds, every way out counts as a failure (a code asked for too).
    keys = throttle.keys_for(user.email, actor.meta.client_ip, signed_in=True)
    async with throttle.attempt(keys) as attempt:
        factor = await _reauthenticate_check(actor, attempt, password=password, code=code)
        if isinstance(factor, bool):  # False: an email code was sent, call again with it
            return None
        await attempt.succeed()
    async with in_transaction():
        if actor.session is not None:
            await Session.filter(id=actor.session.id).delete()
        fresh = await create_session(user, actor.meta, second_factor=factor)
        await audit.record("auth.reauthenticated", actor=actor, subject_user_id=user.id)
    return fresh


async def _reauthenticate_check(
    actor: Actor, attempt: throttle.Attempt, *, password: str, code: str | None
) -> str | None | bool:
    """The factor the re-authentication proves (None: the password alone), or
    False when an email code was just sent."""
    user = actor.user
    if not attempt.allowed or not (await verify_password(user.password_hash, password))[0]:
        await audit.record("auth.reauth_failed", actor=actor, subject_user_id=user.id)
        raise DomainError(ErrorCode.WRONG_PASSWORD, "The password is incorrect.", "password")
    factor = actor.session.second_factor if actor.session else None
    if user.has_second_factor:
        challenge = (
            await LoginChallenge.filter(
                user_id=user.id,
                purpose=ChallengePurpose.REAUTH,
                completed_at=None,
                expires_at__gt=clock.now(),
            )
            .order_by("-id")
            .first()
        )
        if not code:
            if user.has_totp:
                raise DomainError(ErrorCode.REQUIRED, "Enter the code of your app.", "code")
            if not user.email_two_factor:  # passkeys only: `reauthenticateWithPasskey`
                raise DomainError(
                    ErrorCode.REQUIRED, "Confirm it is you with your passkey.", "code"
                )
            if challenge is None:
                _, challenge = await start_challenge(user, ChallengePurpose.REAUTH)
            await _send_email_code(challenge, user)
            return False
        factor = await _check_code(user, code, challenge)
        if factor is None:
            dead = challenge is not None and await wrong_code(challenge)
            await audit.record("auth.reauth_failed", actor=actor, subject_user_id=user.id)
            if dead:
                raise DomainError(
                    ErrorCode.INVALID_CODE,
                    "Too many wrong codes: ask for a new one.",
                    "code",
                )
            raise _invalid_code()
        if challenge is not None:
            await LoginChallenge.filter(id=challenge.id).update(completed_at=clock.now())
    return factor


# --- turning factors off ---------------------------------------------------------


async def _clear_factors(user: User) -> None:
    user.totp_secret = user.totp_pending_secret = user.totp_confirmed_at = None  # type: ignore[assignment]  # Tortoise types TextField(null=True) as str
    user.totp_last_step = 0
    user.email_two_factor = False
    await user.save(
        update_fields=[
            "totp_secret",
            "totp_pending_secret",
            "totp_confirmed_at",
            "totp_last_step",
            "email_two_factor",
            "updated_at",
        ]
    )
    await RecoveryCode.filter(user_id=user.id).delete()
    await passkeys.clear(user)


async def disable_two_factor(actor: Actor) -> User:
    user = actor.user
    async with in_transaction():
        await _clear_factors(user)
        await _factor_changed(actor, "two_factor_off")
        await _mark_session(actor, None)
        await audit.record("two_factor.disabled", actor=actor, subject_user_id=user.id)
    return user


async def reset_two_factor(actor: Actor, user: User, organisation_id: int) -> User:
    """An administrator resets a member who lost their device; they re-enrol."""
    async with in_transaction():
        await _clear_factors(user)
        await end_sessions(user.id)
        await queue_mail(
            kind="security_notice",
            recipient=user.email,
            change="two_factor_reset",
            actor_name=actor.user.display_name,
            **await account_mail(user, organisation_id),
        )
        await audit.record(
            "two_factor.reset",
            actor=actor,
            organisation_id=organisation_id,
            target=user,
            subject_user_id=user.id,
        )
    return user


async def _factor_changed(actor: Actor, change: str) -> None:
    """Tell the person, and sign out every other session (inside the caller's transaction).
    ``change`` names the text of the mail (SECURITY_CHANGES in server/mail/templates.py)."""
    user = actor.user
    await end_sessions(user.id, except_session_id=actor.session.id if actor.session else None)
    await queue_mail(
        kind="security_notice", recipient=user.email, change=change, **await account_mail(user)
    )


async def _mark_session(actor: Actor, factor: str | None) -> None:
    if actor.session is not None:
        actor.session.second_factor = factor
        await Session.filter(id=actor.session.id).update(second_factor=factor)
