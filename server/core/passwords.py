"""argon2id password hashing off the event loop, and the password policy.

Hashing takes tens of milliseconds of CPU and releases the GIL, so it runs in
a small dedicated thread pool: a burst of log-ins queues there instead of
blocking the loop or exhausting memory (each hash takes 19 MiB).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar, TypeVarTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import matching, zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from server.core.errors import DomainError, ErrorCode
from server.settings import get_settings

MIN_LENGTH = 8
MAX_LENGTH = 128
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
PRODUCT_NAME = "frontdesk"
# A word of the person's or organisation's own counts from this length on
# ("acme" yes, "ab" no: short pieces occur in any password by chance).
_PERSONAL_MIN = 4
# What is left once those words are taken out must be a password on its own:
# MIN_LENGTH characters and about 10^8 guesses (zxcvbn's score 3).
_REST_MIN_GUESSES_LOG10 = 8.0
# zxcvbn refuses longer inputs; a rest this long is strong anyway.
_ZXCVBN_MAX = 72
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")

R = TypeVar("R")
Args = TypeVarTuple("Args")


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("frontdesk-dummy-password")


# Hashing threads run at a lower CPU priority than the event loop's thread: when
# the cores are busy, the loop (every other request) gets them first and a burst
# of log-ins waits instead (BENCHMARKS.md, latency under a log-in storm).
HASH_THREAD_NICENESS = 10


def _lower_priority() -> None:
    # Linux schedules threads one by one: this renices only the calling thread.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICENESS)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        get_settings().hash_concurrency, thread_name_prefix="argon2", initializer=_lower_priority
    )


async def _in_pool(func: Callable[[*Args], R], *args: *Args) -> R:
    return await asyncio.get_running_loop().run_in_executor(_pool(), func, *args)


def personal_words(*, email: str = "", organisation_names: Iterable[str] = ()) -> list[str]:
    """zxcvbn's user inputs for a person: the email, its local part and domain
    and their words, the organisations' names and their words."""
    words: set[str] = set()
    local, _, domain = email.lower().partition("@")
    labels = domain.split(".")[:-1]  # the top-level domain says nothing
    pieces = [email.lower(), local, domain, ".".join(labels), *labels]
    for name in organisation_names:
        lowered = name.lower()
        pieces += [lowered, _WORD_SPLIT.sub("", lowered)]
    for piece in pieces:
        words.add(piece)
        words.update(_WORD_SPLIT.split(piece))
    return sorted(w for w in words if len(w) >= _PERSONAL_MIN)


def _built_on(password: str, user_inputs: Iterable[str]) -> bool:
    """Whether the password is one of the words, or built on them: taken out
    (also reversed or in l33t spelling), they leave no password of its own."""
    words = [PRODUCT_NAME, *(w.lower() for w in user_inputs if len(w) >= _PERSONAL_MIN)]
    ranked = {"user_inputs": matching.build_ranked_dict(words)}
    matches = (
        matching.dictionary_match(password, ranked)
        + matching.reverse_dictionary_match(password, ranked)
        + matching.l33t_match(password, ranked)
    )
    covered = {
        index
        for match in matches
        if match["j"] - match["i"] + 1 >= _PERSONAL_MIN
        for index in range(match["i"], match["j"] + 1)
    }
    if not covered:
        return False
    rest = "".join(char for index, char in enumerate(password) if index not in covered)
    if len(rest.strip()) < MIN_LENGTH:
        return True
    if len(rest) > _ZXCVBN_MAX:
        return False
    return float(zxcvbn(rest)["guesses_log10"]) < _REST_MIN_GUESSES_LOG10


def check_policy(
    password: str, *, field: str = "password", user_inputs: Iterable[str] = ()
) -> None:
    """NIST 800-63B: length and a blocklist, no composition rules; and nothing
    built on the product's name or the `user_inputs` (see `personal_words`)."""
    if len(password) < MIN_LENGTH:
        raise DomainError(
            ErrorCode.PASSWORD_TOO_SHORT, f"Use at least {MIN_LENGTH} characters.", field
        )
    if len(password) > MAX_LENGTH:
        raise DomainError(
            ErrorCode.PASSWORD_TOO_LONG, f"Use at most {MAX_LENGTH} characters.", field
        )
    if "\x00" in password or not _encodable(password):
        raise DomainError(ErrorCode.INVALID, "Control characters are not allowed.", field)
    if password.lower() in _COMMON:
        raise DomainError(
            ErrorCode.PASSWORD_TOO_COMMON, "This password is too common; choose another.", field
        )
    if _built_on(password, user_inputs):
        raise DomainError(
            ErrorCode.PASSWORD_TOO_PERSONAL,
            "Do not build the password on Frontdesk, your organisation's name or your "
            "email address; choose another.",
            field,
        )


async def hash_password(password: str) -> str:
    return await _in_pool(_hasher().hash, password)


def _encodable(password: str) -> bool:
    # JSON may carry lone surrogates ("\ud800"), which have no UTF-8 form.
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _verify(password_hash: str, password: str) -> tuple[bool, bool]:
    hasher = _hasher()
    if not _encodable(password):
        password, password_hash = "", _dummy_hash()  # same work, never a match
    try:
        hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    return True, hasher.check_needs_rehash(password_hash)


async def verify_password(password_hash: str | None, password: str) -> tuple[bool, bool]:
    """Return (matches, needs_rehash). A missing hash still costs one verify,
    so unknown accounts take as long as known ones."""
    if password_hash is None:
        await _in_pool(_verify, _dummy_hash(), password)
        return False, False
    return await _in_pool(_verify, password_hash, password)
