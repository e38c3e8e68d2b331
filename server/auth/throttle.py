"""Brute-force defence: failures per account, per trusted device and per
client address.

- **Account** (a hash of the email, known or not; second-factor codes count
  apart): the first `throttle_account_attempts` failures are free, each one
  after locks the account for 1 s, 2, 4 … up to `throttle_max_lock_seconds`.
  A success starts the count over.
- **Address**: a token bucket of `throttle_address_attempts` that refills one
  token every `throttle_address_refill_seconds`, whatever the address keeps
  doing: it heals by itself. Only failures drain it; a right password never
  does, so people behind one NAT are not locked out by a correct sign-in.
- **Trusted device** (server/auth/devices.py): a browser that signed in to the
  account before tries it under a key of its own, with the account's limits,
  and skips the two above: strangers stay throttled, the owner gets in.

Every check reserves its place first, in a transaction that locks the rows
(PostgreSQL; SQLite runs one transaction at a time anyway), so parallel
requests and aliases packed into one document are counted one by one: no
more checks run at once than failures the key has left. A request that finds
every place taken by checks still under way waits for their outcome instead
of being refused: twenty parallel sign-ins with the right password all get
in, twenty with a wrong one still meet the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.auth.devices import trusted_device
from server.auth.models import LoginThrottle
from server.core import clock
from server.ops import metrics
from server.settings import Settings, get_settings

# An account whose last failure is this old starts from zero again.
_FORGET_AFTER = timedelta(hours=24)
# A check under way is forgotten after this (its process died mid-check).
_PENDING_FOR = timedelta(seconds=60)
# How long a request waits for checks under way before it counts as refused.
_WAIT_SECONDS = 10.0
_POLL_SECONDS = (0.005, 0.05)


def account_hash(email: str) -> str:
    # Hashed: the table and the audit trail hold no email address, known or not.
    return hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class ThrottleKeys:
    account: str  # "a:<hash>", "c:<hash>", "d:<device>" or "t:<hash>" (token lookups)
    address: str | None  # "ip:<address>", or None for a trusted device or a session
    account_hash: str

    @property
    def trusted_device(self) -> bool:
        return self.account.startswith("d:")


def keys_for(
    email: str,
    client_ip: str,
    *,
    codes: bool = False,
    device_cookie: str | None = None,
    signed_in: bool = False,
) -> ThrottleKeys:
    """Keys for password checks, or (`codes`) for second-factor codes. They count
    apart: a right password resets the password counter but never the codes'
    — someone holding the password still gets only a few code guesses — and
    password guessers cannot lock the owner out of the code step.
    `device_cookie`: the browser's device cookie; `signed_in`: the check comes
    with a session (step-up, password change), which only guesses its own account."""
    digest = account_hash(email)
    device = trusted_device(device_cookie, digest)
    address = None if device is not None or signed_in else f"ip:{client_ip[:64]}"
    if codes:
        account = f"c:{digest}"
    elif device is not None:
        account = f"d:{device}"
    else:
        account = f"a:{digest}"
    return ThrottleKeys(account=account, address=address, account_hash=digest)


def keys_for_token_lookup(kind: str, client_ip: str) -> ThrottleKeys:
    """Keys for looking up a mailed token that names no account (an invitation's
    preview). Each unknown token is a new guess, so the "account" is this kind of
    lookup from this address: its failures earn the escalating lock; the address's
    bucket is the one sign-ins draw on, so guessing tokens and passwords spend one budget."""
    address = client_ip[:64]
    digest = hashlib.sha256(f"{kind}:{address}".encode("utf-8", "replace")).hexdigest()
    return ThrottleKeys(account=f"t:{digest}", address=f"ip:{address}", account_hash=digest)


def lock_seconds(failures: int, free: int) -> int:
    """Lock earned by the `failures`-th failure: none while free, then 1, 2, 4 … s."""
    if failures < free:
        return 0
    return min(get_settings().throttle_max_lock_seconds, int(2 ** min(failures - free, 20)))


class _State(Enum):
    OPEN = "open"
    BUSY = "busy"  # every place taken by checks under way: wait for them
    LOCKED = "locked"


def _level(row: LoginThrottle, now: datetime, settings: Settings) -> float:
    """The address bucket's tokens now: refilled since it was last brought up to date."""
    capacity = float(settings.throttle_address_attempts)
    tokens = capacity if row.tokens is None else row.tokens
    refill = max(settings.throttle_address_refill_seconds, 0.001)
    elapsed = max(0.0, (now - row.last_attempt_at).total_seconds())
    return min(capacity, tokens + elapsed / refill)


def _state(row: LoginThrottle, now: datetime, settings: Settings) -> _State:
    if row.pending_until is not None and row.pending_until <= now:
        row.pending = 0
    if row.key.startswith("ip:"):
        level = _level(row, now, settings)
        if level < 1:
            return _State.LOCKED
        return _State.BUSY if row.pending >= int(level) else _State.OPEN
    if row.locked_until is not None and row.locked_until > now:
        return _State.LOCKED
    failures = 0 if now - row.last_attempt_at > _FORGET_AFTER else row.attempts
    places = max(1, settings.throttle_account_attempts - failures)
    return _State.BUSY if row.pending >= places else _State.OPEN


async def _ensure_row(key: str) -> None:
    if not await LoginThrottle.exists(key=key):
        with contextlib.suppress(IntegrityError):  # created by a concurrent request
            await LoginThrottle.create(key=key, last_attempt_at=clock.now())


async def _locked_rows(keys: list[str]) -> list[LoginThrottle]:
    # Always in key order, so two requests never wait on each other's rows.
    return [await LoginThrottle.select_for_update().get(key=key) for key in sorted(keys)]


@dataclass
class Attempt:
    """One reserved check; report its outcome with `fail()` or `succeed()`."""

    keys: ThrottleKeys
    allowed: bool
    # Which key refused ("account", "device", "address"), when not allowed.
    locked_by: str | None = None
    finished: bool = False

    def _names(self) -> list[str]:
        return [k for k in (self.keys.account, self.keys.address) if k is not None]

    async def fail(self) -> None:
        await self._finish(failed=True)

    async def succeed(self) -> None:
        await self._finish(failed=False)

    async def _finish(self, *, failed: bool) -> None:
        if not self.allowed or self.finished:
            return
        self.finished = True
        settings = get_settings()
        now = clock.now()
        async with in_transaction():
            for row in await _locked_rows(self._names()):
                row.pending = max(0, row.pending - 1)
                if row.key.startswith("ip:"):
                    if failed:
                        row.tokens = _level(row, now, settings) - 1
                        row.last_attempt_at = now
                        if row.tokens < 1:
                            metrics.lockout(row.key, 1)
                elif failed:
                    if now - row.last_attempt_at > _FORGET_AFTER:
                        row.attempts = 0
                    row.attempts += 1
                    row.last_attempt_at = now
                    seconds = lock_seconds(row.attempts, settings.throttle_account_attempts)
                    metrics.lockout(row.key, seconds)
                    row.locked_until = now + timedelta(seconds=seconds) if seconds else None
                else:
                    row.attempts, row.locked_until = 0, None
                await row.save(
                    update_fields=[
                        "pending",
                        "tokens",
                        "attempts",
                        "locked_until",
                        "last_attempt_at",
                    ]
                )


async def _try_reserve(attempt: Attempt) -> _State:
    settings = get_settings()
    now = clock.now()
    async with in_transaction():
        rows = await _locked_rows(attempt._names())
        states = {row.key: _state(row, now, settings) for row in rows}
        for row in rows:
            if states[row.key] is _State.LOCKED:
                metrics.locked_attempt(row.key)
                attempt.locked_by = _kind(row.key)
                return _State.LOCKED
        if _State.BUSY in states.values():
            return _State.BUSY
        for row in rows:
            row.pending += 1
            row.pending_until = now + _PENDING_FOR
            await row.save(update_fields=["pending", "pending_until"])
    return _State.OPEN


def _kind(key: str) -> str:
    return {"ip": "address", "d": "device"}.get(key.partition(":")[0], "account")


async def begin(keys: ThrottleKeys) -> Attempt:
    """Reserve one check under the keys. Not `allowed` when a key is locked (or
    the checks under way did not finish in time)."""
    attempt = Attempt(keys=keys, allowed=False)
    for key in attempt._names():
        await _ensure_row(key)
    deadline = time.monotonic() + _WAIT_SECONDS
    pause = _POLL_SECONDS[0]
    while True:
        state = await _try_reserve(attempt)
        if state is _State.OPEN:
            attempt.allowed = True
            return attempt
        if state is _State.LOCKED or time.monotonic() >= deadline:
            attempt.locked_by = attempt.locked_by or _kind(keys.account)
            return attempt
        await asyncio.sleep(pause)
        pause = min(pause * 2, _POLL_SECONDS[1])


@contextlib.asynccontextmanager
async def attempt(keys: ThrottleKeys) -> AsyncIterator[Attempt]:
    """`async with attempt(keys) as a:` check only when `a.allowed`, then
    `await a.fail()` or `await a.succeed()`. Leaving without either (an
    exception mid-check) counts as a failure: errors never buy free guesses."""
    reserved = await begin(keys)
    try:
        yield reserved
    finally:
        if reserved.allowed and not reserved.finished:
            await reserved.fail()
