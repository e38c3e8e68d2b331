"""Passkeys (WebAuthn, through the `webauthn` library): registered, named,
renamed and removed by their person; a second factor in the two-step log-in,
a way to sign in without a password, and a way to confirm it is you (step-up).

- The relying party is the public URL (`Settings.passkey_rp_id`,
  `Settings.passkey_origin`): answers signed for another origin are refused.
- Challenges are 32 random bytes, single use (claimed by a conditional delete
  in the transaction of what they allow) and live 5 minutes; only their
  SHA-256 is kept. A challenge belongs to a purpose, and to its person (or,
  for a sign-in without a password, to whoever's passkey answers).
- A use must move the authenticator's signature counter forward (unless it
  keeps none: 0 and 0); a counter that goes back is refused (a cloned key).
- A passkey of another person never answers for this one.
- A refused answer changes nothing (but the failure counts, as a wrong code
  or password does).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from server.accounts.mails import account_mail
from server.accounts.models import User, UserStatus, usable_memberships
from server.audit import service as audit
from server.auth import throttle
from server.auth.devices import remember
from server.auth.models import (
    ChallengePurpose,
    LoginChallenge,
    Passkey,
    PasskeyChallenge,
    PasskeyPurpose,
    Session,
)
from server.auth.people import record_sign_in
from server.auth.sessions import create_session, end_sessions
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.errors import DomainError, ErrorCode, not_found
from server.mail.outbox import queue_mail
from server.ops import metrics
from server.settings import get_settings

CHALLENGE_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = 5 * 60 * 1000
MAX_PASSKEYS = 20
NAME_LENGTH = 100
# A browser's answer is a few hundred bytes to a few kB (attestation certificates).
MAX_RESPONSE_LENGTH = 64_000
RP_NAME = "Frontdesk"
FACTOR = "passkey"  # Session.second_factor


# --- errors and input ----------------------------------------------------------------


def _refused() -> DomainError:
    return DomainError(ErrorCode.INVALID, "This passkey was not accepted.", "response")


def _expired() -> DomainError:
    return DomainError(
        ErrorCode.CHALLENGE_INVALID, "This passkey request has expired; start again.", "response"
    )


def clean_name(name: str | None, *, default: str) -> str:
    """A passkey's name: trimmed, printable, 1–100 characters."""
    text = (name or "").strip()
    if not text:
        return default
    if len(text) > NAME_LENGTH:
        raise DomainError(ErrorCode.INVALID, f"Use at most {NAME_LENGTH} characters.", "name")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise DomainError(
            ErrorCode.INVALID, "The name holds characters that cannot be shown.", "name"
        )
    return text


def _b64(data: str) -> bytes:
    padded = data + "=" * (-len(data) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


@dataclass(frozen=True)
class _Answer:
    """A browser's answer, read just enough to find what it answers."""

    credential: dict[str, Any]
    credential_id: str
    challenge: bytes
    user_handle: bytes | None


def _read(response: str) -> _Answer:
    if len(response) > MAX_RESPONSE_LENGTH:
        raise _refused()
    try:
        credential = json.loads(response)
        if not isinstance(credential, dict):
            raise ValueError
        raw_id = credential.get("rawId") or credential.get("id")
        body = credential["response"]
        client_data = json.loads(_b64(body["clientDataJSON"]))
        challenge = _b64(client_data["challenge"])
        handle = body.get("userHandle")
        if not isinstance(raw_id, str) or not raw_id:
            raise ValueError
        credential_id = bytes_to_base64url(_b64(raw_id))
        user_handle = _b64(handle) if isinstance(handle, str) and handle else None
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise _refused() from None
    return _Answer(credential, credential_id, challenge, user_handle)


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def user_handle(user_id: int) -> bytes:
    """The WebAuthn user handle of a person: their id, no personal data."""
    return str(user_id).encode()


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in filter(None, passkey.transports.split(",")):
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


# --- challenges ----------------------------------------------------------------------


async def _new_challenge(
    purpose: PasskeyPurpose, *, user_id: int | None = None, login_challenge_id: int | None = None
) -> bytes:
    now = clock.now()
    await PasskeyChallenge.filter(expires_at__lte=now).delete()
    if user_id is not None:  # one open request per person and purpose
        await PasskeyChallenge.filter(user_id=user_id, purpose=purpose).delete()
    challenge = secrets.token_bytes(32)
    await PasskeyChallenge.create(
        challenge_hash=_hash(challenge),
        purpose=purpose,
        user_id=user_id,
        login_challenge_id=login_challenge_id,
        created_at=now,
        expires_at=now + CHALLENGE_LIFETIME,
    )
    return challenge


async def _open(answer: _Answer, purpose: PasskeyPurpose, user_id: int | None) -> PasskeyChallenge:
    row = await PasskeyChallenge.get_or_none(
        challenge_hash=_hash(answer.challenge), purpose=purpose
    )
    if row is None or row.expires_at <= clock.now() or row.user_id != user_id:
        raise _expired()
    return row


async def _claim(row: PasskeyChallenge) -> None:
    """Use the challenge up (inside the caller's transaction): of parallel answers, one wins."""
    if await PasskeyChallenge.filter(id=row.id).delete() != 1:
        raise _expired()


def _settings() -> tuple[str, str]:
    settings = get_settings()
    return settings.passkey_rp_id, settings.passkey_origin


# --- registration --------------------------------------------------------------------


async def begin_registration(actor: Actor) -> str:
    """The options for `navigator.credentials.create()`, as JSON."""
    user = actor.user
    existing = await Passkey.filter(user_id=user.id).order_by("id")
    if len(existing) >= MAX_PASSKEYS:
        raise DomainError(
            ErrorCode.INVALID_STATE, f"You have {MAX_PASSKEYS} passkeys: remove one first."
        )
    challenge = await _new_challenge(PasskeyPurpose.REGISTER, user_id=user.id)
    rp_id, _ = _settings()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_id=user_handle(user.id),
        user_name=user.email,
        user_display_name=user.display_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(p) for p in existing],
    )
    return options_to_json(options)


async def finish_registration(actor: Actor, response: str, name: str | None) -> Passkey:
    """Check the browser's answer to `begin_registration` and keep the passkey.
    Like a new authenticator app: the person is mailed, their other sessions end,
    and this session counts as signed in with a passkey."""
    user = actor.user
    count = await Passkey.filter(user_id=user.id).count()
    label = clean_name(name, default=f"Passkey {count + 1}")
    answer = _read(response)
    row = await _open(answer, PasskeyPurpose.REGISTER, user.id)
    rp_id, origin = _settings()
    try:
        verified = verify_registration_response(
            credential=answer.credential,
            expected_challenge=answer.challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except Exception:  # the library raises several kinds for a bad answer
        raise _refused() from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if await Passkey.exists(credential_id=credential_id):
        raise DomainError(ErrorCode.INVALID, "This passkey is registered already.", "response")
    transports = answer.credential.get("response", {}).get("transports") or []
    known = {t.value for t in AuthenticatorTransport}
    transport_text = ",".join(t for t in transports if isinstance(t, str) and t in known)[:255]
    now = clock.now()
    async with in_transaction():
        await _claim(row)
        passkey = await Passkey.create(
            user_id=user.id,
            credential_id=credential_id,
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            transports=transport_text,
            name=label,
            created_at=now,
        )
        await _count(user)
        await _changed(actor, "passkey_added")
        await _mark_session(actor, FACTOR)
        await audit.record(
            "passkey.added", actor=actor, subject_user_id=user.id, details={"name": label}
        )
    return passkey


async def _count(user: User) -> None:
    user.passkey_count = await Passkey.filter(user_id=user.id).count()
    await User.filter(id=user.id).update(passkey_count=user.passkey_count)


async def _changed(actor: Actor, change: str) -> None:
    user = actor.user
    await end_sessions(user.id, except_session_id=actor.session.id if actor.session else None)
    await queue_mail(
        kind="security_notice", recipient=user.email, change=change, **await account_mail(user)
    )


async def _mark_session(actor: Actor, factor: str | None) -> None:
    if actor.session is not None:
        actor.session.second_factor = factor
        await Session.filter(id=actor.session.id).update(second_factor=factor)


# --- the person's list ---------------------------------------------------------------


async def passkeys_of(user_id: int) -> list[Passkey]:
    return await Passkey.filter(user_id=user_id).order_by("created_at", "id")


async def _own(actor: Actor, passkey_id: int) -> Passkey:
    passkey = await Passkey.get_or_none(id=passkey_id, user_id=actor.user.id)
    if passkey is None:
        raise not_found("passkeyId", "Passkey")
    return passkey


async def rename(actor: Actor, passkey_id: int, name: str) -> Passkey:
    passkey = await _own(actor, passkey_id)
    label = clean_name(name, default="")
    if not label:
        raise DomainError(ErrorCode.REQUIRED, "Give the passkey a name.", "name")
    if label == passkey.name:
        return passkey
    async with in_transaction():
        before = passkey.name
        passkey.name = label
        await passkey.save(update_fields=["name"])
        await audit.record(
            "passkey.renamed",
            actor=actor,
            subject_user_id=actor.user.id,
            details={"name": {"before": before, "after": label}},
        )
    return passkey


async def remove(actor: Actor, passkey_id: int) -> None:
    """Remove one of one's passkeys (the field asks for a recent sign-in)."""
    passkey = await _own(actor, passkey_id)
    async with in_transaction():
        if await Passkey.filter(id=passkey.id).delete() != 1:
            raise not_found("passkeyId", "Passkey")
        await _count(actor.user)
        await _changed(actor, "passkey_removed")
        if (
            actor.user.passkey_count == 0
            and actor.session
            and actor.session.second_factor == FACTOR
        ):
            await _mark_session(actor, None)
        await audit.record(
            "passkey.removed",
            actor=actor,
            subject_user_id=actor.user.id,
            details={"name": passkey.name},
        )


async def clear(user: User) -> None:
    """Remove every passkey of the person (turning two-step off, an administrator's reset)."""
    await Passkey.filter(user_id=user.id).delete()
    await PasskeyChallenge.filter(user_id=user.id).delete()
    user.passkey_count = 0
    await User.filter(id=user.id).update(passkey_count=0)


# --- using a passkey -----------------------------------------------------------------


def _request_options(challenge: bytes, passkeys: list[Passkey], *, verify: bool) -> str:
    rp_id, _ = _settings()
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(p) for p in passkeys],
        user_verification=(
            UserVerificationRequirement.REQUIRED
            if verify
            else UserVerificationRequirement.PREFERRED
        ),
    )
    return options_to_json(options)


async def _check(answer: _Answer, passkey: Passkey | None, *, verify: bool) -> int:
    """The answer's new signature counter, or refused."""
    if passkey is None:
        raise _refused()
    if answer.user_handle is not None and answer.user_handle != user_handle(passkey.user_id):
        raise _refused()
    rp_id, origin = _settings()
    try:
        verified = verify_authentication_response(
            credential=answer.credential,
            expected_challenge=answer.challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=verify,
        )
    except Exception:  # a bad signature, origin, counter...: the library raises several kinds
        raise _refused() from None
    return int(verified.new_sign_count)


async def _use(passkey: Passkey, row: PasskeyChallenge, new_count: int) -> None:
    """Inside the caller's transaction: the challenge used up, the counter moved
    (from exactly the value checked: a parallel use of a cloned key loses)."""
    await _claim(row)
    moved = await Passkey.filter(id=passkey.id, sign_count=passkey.sign_count).update(
        sign_count=new_count, last_used_at=clock.now()
    )
    if moved != 1:
        raise _refused()


async def begin_sign_in() -> str:
    """Options for a sign-in without a password: any passkey of this site may answer
    (the browser offers the ones it knows), and it must check who is holding it."""
    challenge = await _new_challenge(PasskeyPurpose.SIGN_IN)
    return _request_options(challenge, [], verify=True)


async def sign_in(
    response: str, meta: RequestMeta, *, device_cookie: str | None = None
) -> tuple[str, Session, str | None]:
    """A sign-in with a passkey alone, throttled as a password sign-in of its
    person (an unknown passkey counts against the client address). Returns the
    session's token, the session and the browser's new device cookie."""
    answer = _read(response)
    passkey = await Passkey.get_or_none(credential_id=answer.credential_id)
    user = await User.get(id=passkey.user_id) if passkey is not None else None
    keys = (
        throttle.keys_for(user.email, meta.client_ip, device_cookie=device_cookie)
        if user is not None
        else throttle.keys_for_token_lookup("passkey", meta.client_ip)
    )
    async with throttle.attempt(keys) as attempt:
        if not attempt.allowed:
            metrics.login("throttled")
            await record_sign_in(
                "auth.login_throttled",
                user=user,
                meta=meta,
                actor=False,
                details={"address": meta.client_ip, "lockedBy": attempt.locked_by, "passkey": True},
            )
            raise _refused()
        reason = None
        try:
            row = await _open(answer, PasskeyPurpose.SIGN_IN, None)
            new_count = await _check(answer, passkey, verify=True)
        except DomainError:
            reason = "passkey"
        if reason is None and user is not None:
            if user.status is not UserStatus.ACTIVE:
                reason = "status"
            elif not await usable_memberships(user.id):
                reason = "no_active_membership"
        if reason is not None:
            await attempt.fail()
            metrics.login("failed")
            await record_sign_in(
                "auth.login_failed",
                user=user,
                meta=meta,
                details={"reason": reason, "passkey": True},
            )
            raise _refused()
        assert user is not None and passkey is not None
        async with in_transaction():
            await _use(passkey, row, new_count)
            user.last_login_at = clock.now()
            await user.save(update_fields=["last_login_at", "updated_at"])
            raw, session = await create_session(user, meta, second_factor=FACTOR)
            details = {"secondFactor": FACTOR, "passkey": passkey.name, "withoutPassword": True}
            await record_sign_in("auth.login", user=user, meta=meta, details=details)
        await attempt.succeed()
    metrics.login("success")
    return raw, session, remember(device_cookie, keys.account_hash)


# --- the second step of a log-in -----------------------------------------------------


async def _login_challenge(raw: str) -> tuple[LoginChallenge, User]:
    from server.auth.two_factor import open_challenge  # noqa: PLC0415 - two_factor imports this module

    challenge = await open_challenge(raw, ChallengePurpose.LOGIN)
    user = await User.get(id=challenge.user_id)
    if user.status is not UserStatus.ACTIVE or not await usable_memberships(user.id):
        await LoginChallenge.filter(id=challenge.id).delete()
        raise DomainError(
            ErrorCode.CHALLENGE_INVALID, "This sign-in has expired; sign in again.", "challenge"
        )
    return challenge, user


async def begin_second_factor(raw: str) -> str:
    """Options for proving the second step of a log-in with one of the person's passkeys."""
    challenge, user = await _login_challenge(raw)
    passkeys = await passkeys_of(user.id)
    if not passkeys:
        raise DomainError(ErrorCode.INVALID_STATE, "You have no passkey.", "challenge")
    options = await _new_challenge(
        PasskeyPurpose.SECOND_FACTOR, user_id=user.id, login_challenge_id=challenge.id
    )
    return _request_options(options, passkeys, verify=False)


async def verify_second_factor(
    raw: str, response: str, meta: RequestMeta, *, device_cookie: str | None = None
) -> tuple[str, Session, str | None]:
    """Complete a log-in challenge with a passkey (counted as codes are)."""
    from server.auth.two_factor import too_many_wrong_codes, wrong_code  # noqa: PLC0415

    challenge, user = await _login_challenge(raw)
    keys = throttle.keys_for(user.email, meta.client_ip, codes=True, device_cookie=device_cookie)
    async with throttle.attempt(keys) as attempt:
        try:
            if not attempt.allowed:
                raise _refused()
            answer = _read(response)
            row = await _open(answer, PasskeyPurpose.SECOND_FACTOR, user.id)
            if row.login_challenge_id != challenge.id:
                raise _expired()
            passkey = await Passkey.get_or_none(credential_id=answer.credential_id, user_id=user.id)
            new_count = await _check(answer, passkey, verify=False)
        except DomainError as error:
            await attempt.fail()
            metrics.login("failed")
            dead = await wrong_code(challenge)
            await record_sign_in(
                "auth.two_factor_failed",
                user=user,
                meta=meta,
                details={"challengeEnded": dead, "passkey": True},
            )
            raise too_many_wrong_codes() if dead else error from None
        assert passkey is not None
        async with in_transaction():
            await _use(passkey, row, new_count)
            completed = await LoginChallenge.filter(id=challenge.id, completed_at=None).update(
                completed_at=clock.now()
            )
            if completed != 1:
                raise _expired()
            session_raw, session = await create_session(user, meta, second_factor=FACTOR)
            user.last_login_at = clock.now()
            await user.save(update_fields=["last_login_at"])
            details = {"secondFactor": FACTOR, "passkey": passkey.name}
            await record_sign_in("auth.login", user=user, meta=meta, details=details)
        await attempt.succeed()
    metrics.login("success")
    return session_raw, session, remember(device_cookie, keys.account_hash)


# --- step-up -------------------------------------------------------------------------


async def begin_reauthentication(actor: Actor) -> str:
    passkeys = await passkeys_of(actor.user.id)
    if not passkeys:
        raise DomainError(ErrorCode.INVALID_STATE, "You have no passkey.")
    challenge = await _new_challenge(PasskeyPurpose.REAUTH, user_id=actor.user.id)
    return _request_options(challenge, passkeys, verify=True)


async def reauthenticate(actor: Actor, response: str) -> tuple[str, Session]:
    """Confirm it is you with a passkey (that checks who holds it): a fresh
    session in place of this one, signed in with a passkey."""
    user = actor.user
    keys = throttle.keys_for(user.email, actor.meta.client_ip, signed_in=True)
    async with throttle.attempt(keys) as attempt:
        try:
            if not attempt.allowed:
                raise _refused()
            answer = _read(response)
            row = await _open(answer, PasskeyPurpose.REAUTH, user.id)
            passkey = await Passkey.get_or_none(credential_id=answer.credential_id, user_id=user.id)
            new_count = await _check(answer, passkey, verify=True)
        except DomainError:
            await attempt.fail()
            await audit.record("auth.reauth_failed", actor=actor, subject_user_id=user.id)
            raise
        assert passkey is not None
        async with in_transaction():
            await _use(passkey, row, new_count)
            if actor.session is not None:
                await Session.filter(id=actor.session.id).delete()
            fresh = await create_session(user, actor.meta, second_factor=FACTOR)
            await audit.record(
                "auth.reauthenticated",
                actor=actor,
                subject_user_id=user.id,
                details={"passkey": passkey.name},
            )
        await attempt.succeed()
    return fresh
