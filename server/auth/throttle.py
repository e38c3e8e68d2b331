"""Brute-force defence: attempts per account and per client address.

Every password or code check first reserves an attempt under both keys, in
a transaction that locks the counter row (PostgreSQL; SQLite runs one
transaction at a time anyway), so parallel requests and aliases packed into
one document are counted one by one. Past the free attempts each one locks
the key for a doubling time, up to a maximum: attackers slow down, owners
are never locked out for good. A success refunds: the account's counter
starts over, the address gets its attempt back.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.auth.models import LoginThrottle
from server.core import clock
from server.ops import metrics
from server.settings import get_settings

# A key that saw no attempt for this long starts from zero again.
_FORGET_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class ThrottleKeys:
    account: str
    address: str


def keys_for(email: str, client_ip: str, *, codes: bool = False) -> ThrottleKeys:
    """Keys for password checks, or (`codes`) for second-factor codes. They count
    apart: a right password resets the password counter but never the codes'
    — someone holding the password still gets only a few code guesses — and
    password guessers cannot lock the owner out of the code step."""
    # Hashed: the table holds no email addresses, known or not.
    account = hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()
    kind = "c" if codes else "a"
    return ThrottleKeys(account=f"{kind}:{account}", address=f"ip:{client_ip[:64]}")


def lock_seconds(attempts: int, free: int) -> int:
    """Lock earned by the `attempts`-th attempt: none while free, then 1, 2, 4 … s."""
    if attempts < free:
        return 0
    doubled: int = 2 ** min(attempts - free, 20)
    return min(get_settings().throttle_max_lock_seconds, doubled)


async def _row(key: str) -> None:
    if not await LoginThrottle.exists(key=key):
        with contextlib.suppress(IntegrityError):  # created by a concurrent request
            await LoginThrottle.create(key=key, last_attempt_at=clock.now())


async def _reserve(key: str, free: int) -> bool:
    await _row(key)
    now = clock.now()
    async with in_transaction():
        row = await LoginThrottle.select_for_update().get(key=key)
        if row.locked_until is not None and row.locked_until > now:
            metrics.locked_attempt(key)
            return False
        if now - row.last_attempt_at > _FORGET_AFTER:
            row.attempts = 0
        row.attempts += 1
        seconds = lock_seconds(row.attempts, free)
        metrics.lockout(key, seconds)
        row.locked_until = now + timedelta(seconds=seconds) if seconds else None
        row.last_attempt_at = now
        await row.save(update_fields=["attempts", "locked_until", "last_attempt_at"])
    return True


async def reserve_attempt(keys: ThrottleKeys) -> bool:
    """Count one attempt under both keys; False when either is locked."""
    settings = get_settings()
    if not await _reserve(keys.address, settings.throttle_address_attempts):
        return False
    return await _reserve(keys.account, settings.throttle_account_attempts)


async def succeeded(keys: ThrottleKeys) -> None:
    await LoginThrottle.filter(key=keys.account).update(attempts=0, locked_until=None)
    async with in_transaction():
        row = await LoginThrottle.select_for_update().get_or_none(key=keys.address)
        if row is not None and row.attempts > 0:
            row.attempts -= 1
            if row.attempts < get_settings().throttle_address_attempts:
                row.locked_until = None
            await row.save(update_fields=["attempts", "locked_until"])
