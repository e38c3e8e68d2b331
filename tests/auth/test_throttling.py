"""Brute-force defence over HTTP: per account and per client address, attempts
packed into one document counted one by one, the same answer while locked,
locks that end, no email addresses in the throttle table, no enumeration by
content or time, and locks that hold under parallel requests.

Real time is stopped for every test (`clock.advance` still moves it): a
lock of one second cannot run out while a test is still typing."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from server.accounts.models import User, UserStatus
from server.app import create_app
from server.audit.models import AuditEvent
from server.auth.models import LoginThrottle, Session
from server.auth.two_factor import CHALLENGE_CODE_TRIES
from server.core import clock
from server.settings import get_settings
from tests.auth.factors import (
    LOGIN,
    STEP,
    VERIFY,
    challenge_for,
    code_at,
    enrol_totp,
    stop_real_time,
    wrong_code,
)
from tests.helpers.fixtures import ORIGIN, PASSWORD, GraphQLClient

CLIENT_IP = "203.0.113.7"
OTHER_IP = "198.51.100.20"
WRONG = "wrong horse battery staple"
INVALID = {
    "token": None,
    "errors": [
        {"field": None, "code": "INVALID_CREDENTIALS", "message": "Email or password is incorrect."}
    ],
    "challenge": None,
    "viewer": None,
}
LOCK_OVER = timedelta(minutes=15, seconds=1)  # the longest lock, and a second
REQUEST_RESET = """
mutation($email: String!) { requestPasswordReset(input: {email: $email}) { ok errors { code } } }"""


@pytest.fixture(autouse=True)
def still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    stop_real_time(monkeypatch)


@pytest.fixture
async def elsewhere(database: str) -> AsyncIterator[GraphQLClient]:
    """An anonymous client calling from another address."""
    app = create_app(get_settings(), manage_database=False)
    transport = httpx.ASGITransport(app=app, client=(OTHER_IP, 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url=ORIGIN, headers={"origin": ORIGIN}
    ) as client:
        yield GraphQLClient(client)


def aliased_logins(count: int) -> str:
    """One document with `count` log-ins of the same email and password."""
    fields = " ".join(
        f"a{i}: login(input: {{email: $email, password: $password}}) "
        "{ token errors { field code message } challenge { token } viewer { user { email } } }"
        for i in range(count)
    )
    return f"mutation($email: String!, $password: String!) {{ {fields} }}"


async def login(client: GraphQLClient, email: str, password: str = PASSWORD) -> dict:
    return (await client.data(LOGIN, {"email": email, "password": password}))["login"]


async def throttle_state(key_start: str) -> list[tuple[int, float | None]]:
    """(attempts, seconds locked from now) of the rows whose key starts so."""
    rows = await LoginThrottle.filter(key__startswith=key_start).order_by("key")
    now = clock.now()
    return [
        (row.attempts, (row.locked_until - now).total_seconds() if row.locked_until else None)
        for row in rows
    ]


async def address_tokens() -> list[float | None]:
    """The address buckets' levels (the clock is stopped: nothing refills)."""
    return [row.tokens for row in await LoginThrottle.filter(key__startswith="ip:").order_by("key")]


async def outcomes(user_id: int | None = None, ip: str = CLIENT_IP) -> tuple[int, int]:
    """How many log-ins were checked (and failed) and how many refused unchecked."""
    failed = AuditEvent.filter(action="auth.login_failed", client_ip=ip)
    if user_id is not None:
        failed = failed.filter(actor_id=user_id)
    throttled = AuditEvent.filter(action="auth.login_throttled", client_ip=ip)
    return await failed.count(), await throttled.count()


async def test_fifty_aliased_attempts_lock_like_fifty_requests(tree, anonymous, elsewhere):
    settings = get_settings()
    member, admin = tree["acme.member"], tree["acme.admin"]

    # More aliases than the schema allows: refused whole, nothing is tried.
    too_many = await anonymous(aliased_logins(50), {"email": member.email, "password": WRONG})
    assert "data" not in too_many or too_many["data"] is None
    assert "50 aliases found" in too_many["errors"][0]["message"]
    assert not await LoginThrottle.exists() and not await AuditEvent.exists()

    # The member: 50 attempts in two documents; the admin: 50 requests from elsewhere.
    answers = []
    for _ in range(2):
        data = await anonymous.data(aliased_logins(25), {"email": member.email, "password": WRONG})
        answers.extend(data.values())
    for _ in range(50):
        answers.append(await login(elsewhere, admin.email, WRONG))
    assert answers == [INVALID] * 100

    # Counted one by one: each key took its free attempts, then locked.
    assert await outcomes(member.user.id) == (settings.throttle_account_attempts, 45)
    assert await outcomes(admin.user.id, OTHER_IP) == (settings.throttle_account_attempts, 45)
    assert await throttle_state("a:") == [(settings.throttle_account_attempts, 1.0)] * 2
    # Each address lost one token per failure checked; refused attempts cost nothing.
    left = settings.throttle_address_attempts - settings.throttle_account_attempts
    assert await address_tokens() == [left, left]

    # Locked: the right password gets the same answer, and no session.
    assert await login(anonymous, member.email) == INVALID
    assert await login(elsewhere, admin.email) == INVALID
    assert not await Session.exists()

    clock.advance(LOCK_OVER)
    assert (await login(anonymous, member.email))["token"]
    assert (await login(elsewhere, admin.email))["token"]


async def test_one_document_counts_its_attempts_one_by_one(tree, anonymous):
    member = tree["acme.member"]
    variables = {"email": member.email, "password": WRONG}
    data = await anonymous.data(aliased_logins(30), variables)
    assert list(data.values()) == [INVALID] * 30
    attempts = get_settings().throttle_account_attempts
    assert await outcomes(member.user.id) == (attempts, 30 - attempts)
    assert await login(anonymous, member.email) == INVALID


async def test_the_throttle_table_holds_no_email_address(tree, anonymous):
    known = tree["acme.member"].email
    unknown = "nobody@acme.example.com"
    for email in (known, known.upper(), f"  {known} ", unknown, "not an email"):
        await login(anonymous, email, WRONG)
    rows = await LoginThrottle.all()
    keys = [row.key for row in rows]
    for key in keys:
        assert "@" not in key and "acme" not in key and "nobody" not in key, key
    # The spellings of one address share one counter.
    account_rows = sorted((row.attempts for row in rows if row.key.startswith("a:")), reverse=True)
    assert account_rows == [3, 1, 1]
    assert [row.key for row in rows if row.key.startswith("ip:")] == [f"ip:{CLIENT_IP}"]


async def test_unknown_emails_are_throttled_like_known_ones(tree, anonymous, elsewhere):
    known = tree["acme.member"].email
    unknown = "nobody@acme.example.com"
    attempts = get_settings().throttle_account_attempts
    known_answers = [
        (await anonymous.post(LOGIN, {"email": known, "password": WRONG})).content
        for _ in range(attempts + 2)
    ]
    unknown_answers = [
        (await elsewhere.post(LOGIN, {"email": unknown, "password": WRONG})).content
        for _ in range(attempts + 2)
    ]
    assert known_answers == unknown_answers
    assert len(set(known_answers)) == 1
    assert await outcomes(ip=CLIENT_IP) == (attempts, 2)
    assert await outcomes(ip=OTHER_IP) == (attempts, 2)
    assert await throttle_state("a:") == [(attempts, 1.0)] * 2


async def test_an_address_is_locked_after_its_free_attempts(tree, anonymous, elsewhere):
    settings = get_settings()
    person = tree["acme.member"]
    for i in range(settings.throttle_address_attempts + 1):
        assert await login(anonymous, f"nobody{i}@example.com", WRONG) == INVALID
    assert await outcomes(ip=CLIENT_IP) == (settings.throttle_address_attempts, 1)

    # Even the right password of a real account is refused from this address…
    assert await login(anonymous, person.email) == INVALID
    assert await outcomes(ip=CLIENT_IP) == (settings.throttle_address_attempts, 2)
    # …without counting against the account, which signs in from elsewhere.
    assert (await login(elsewhere, person.email))["token"]

    clock.advance(LOCK_OVER)
    assert (await login(anonymous, person.email))["token"]


async def test_a_successful_login_starts_the_account_count_over(tree, anonymous):
    person = tree["acme.member"]
    free = get_settings().throttle_account_attempts
    for _ in range(2):
        for _ in range(free - 1):
            assert await login(anonymous, person.email, WRONG) == INVALID
        assert (await login(anonymous, person.email))["token"]
    [(attempts, locked)] = await throttle_state("a:")
    assert (attempts, locked) == (0, None)
    # Without a success in between, the same number of failures locks.
    for _ in range(free):
        assert await login(anonymous, person.email, WRONG) == INVALID
    assert await login(anonymous, person.email) == INVALID


async def test_locks_grow_but_never_past_the_maximum(tree, anonymous):
    settings = get_settings()
    person = tree["acme.member"]
    for _ in range(settings.throttle_account_attempts):
        await login(anonymous, person.email, WRONG)
    locks = []
    for _ in range(4):
        [(_, seconds)] = await throttle_state("a:")
        locks.append(seconds)
        clock.advance(timedelta(seconds=seconds or 0, milliseconds=1))
        await login(anonymous, person.email, WRONG)
    assert locks == [1.0, 2.0, 4.0, 8.0]
    # However many failures came before, the lock is at most the maximum.
    await LoginThrottle.filter(key__startswith="a:").update(attempts=10_000)
    clock.advance(timedelta(hours=1))
    await login(anonymous, person.email, WRONG)
    [(_, seconds)] = await throttle_state("a:")
    assert seconds == settings.throttle_max_lock_seconds == 900
    clock.advance(LOCK_OVER)
    assert (await login(anonymous, person.email))["token"]


# --- no enumeration ----------------------------------------------------------------------------


async def timed(client: GraphQLClient, query: str, variables: dict) -> tuple[bytes, float]:
    started = time.perf_counter()
    response = await client.post(query, variables)
    return response.content, time.perf_counter() - started


async def test_reset_requests_answer_alike_in_content_and_time(tree, anonymous, smtp_server):
    known = tree["acme.member"].email
    disabled = tree["globex.member"]
    await User.filter(id=disabled.user.id).update(status=UserStatus.DISABLED)
    emails = {"known": known, "unknown": "nobody@acme.example.com", "disabled": disabled.email}
    answers: dict[str, set[bytes]] = {name: set() for name in emails}
    times: dict[str, list[float]] = {name: [] for name in emails}
    for _ in range(3):
        for name, email in emails.items():
            content, seconds = await timed(anonymous, REQUEST_RESET, {"email": email})
            answers[name].add(content)
            times[name].append(seconds)
    assert len(set().union(*answers.values())) == 1
    medians = {name: statistics.median(t) for name, t in times.items()}
    assert max(medians.values()) - min(medians.values()) < 0.1, medians
    assert len(await smtp_server.deliver()) == 3  # mails only to the known address


async def test_log_ins_answer_alike_for_unknown_wrong_locked_and_disabled(tree, anonymous):
    known = tree["acme.member"].email
    disabled = tree["globex.member"]
    await User.filter(id=disabled.user.id).update(status=UserStatus.DISABLED)
    cases = {
        "wrong password": (known, WRONG),
        "unknown": ("nobody@acme.example.com", PASSWORD),
        "disabled": (disabled.email, PASSWORD),
    }
    contents: dict[str, set[bytes]] = {name: set() for name in cases}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(3):
        for name, (email, password) in cases.items():
            content, seconds = await timed(anonymous, LOGIN, {"email": email, "password": password})
            contents[name].add(content)
            times[name].append(seconds)
    assert len(set().union(*contents.values())) == 1
    medians = {name: statistics.median(t) for name, t in times.items()}
    assert max(medians.values()) - min(medians.values()) < 0.1, medians
    # Locked after its free attempts: the right password gets the same answer.
    for _ in range(get_settings().throttle_account_attempts - 3):
        await login(anonymous, known, WRONG)
    locked, _ = await timed(anonymous, LOGIN, {"email": known, "password": PASSWORD})
    assert {locked} == contents["wrong password"]


# --- under concurrency -------------------------------------------------------------------------


async def test_the_lock_holds_under_fifty_parallel_attempts(tree, anonymous):
    person = tree["acme.member"]
    results = await asyncio.gather(
        *(login(anonymous, person.email, f"{WRONG} {i}") for i in range(50))
    )
    assert results == [INVALID] * 50
    failed, throttled = await outcomes(person.user.id)
    assert failed + throttled == 50
    # Checked passwords: the free attempts, no more.
    assert 1 <= failed <= get_settings().throttle_account_attempts, (failed, throttled)
    assert await login(anonymous, person.email) == INVALID
    clock.advance(LOCK_OVER)
    assert (await login(anonymous, person.email))["token"]


async def test_parallel_attempts_against_many_accounts_respect_the_address_limit(tree, anonymous):
    limit = get_settings().throttle_address_attempts
    results = await asyncio.gather(
        *(login(anonymous, f"nobody{i}@example.com", WRONG) for i in range(2 * limit))
    )
    assert results == [INVALID] * (2 * limit)
    failed, throttled = await outcomes()
    assert (failed, throttled) == (limit, limit)
    assert await login(anonymous, tree["acme.member"].email) == INVALID


# --- second factors ----------------------------------------------------------------------------


async def test_wrong_second_factor_codes_are_throttled(tree, sign_in, anonymous):
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    challenge = await challenge_for(anonymous, person.email)
    free = get_settings().throttle_account_attempts
    for i in range(free):
        variables = {"challenge": challenge, "code": wrong_code(secret)}
        # The fifth wrong code also ends the challenge (tests/auth/test_two_factor_limits.py).
        expected = "CHALLENGE_INVALID" if i == CHALLENGE_CODE_TRIES - 1 else "INVALID_CODE"
        assert (await anonymous.refused(VERIFY, variables)) == [expected]
    # Locked: on a new challenge, the right code is not even checked.
    challenge = await challenge_for(anonymous, person.email)
    variables = {"challenge": challenge, "code": code_at(secret)}
    assert await anonymous.refused(VERIFY, variables) == ["INVALID_CODE"]
    assert await AuditEvent.filter(action="auth.two_factor_failed").count() == free + 1
    # Once the lock is over the owner signs in, typing the code in a few seconds.
    clock.advance(LOCK_OVER)
    challenge = await challenge_for(anonymous, person.email)
    clock.advance(timedelta(seconds=5))
    assert (await anonymous.ok(VERIFY, {"challenge": challenge, "code": code_at(secret)}))["token"]


async def test_a_two_factor_user_gets_in_after_a_long_attack(tree, sign_in, anonymous):
    """Never a lock for good: however many wrong passwords came before, once the
    lock is over the owner's password and code (typed within the challenge's
    five minutes) open a session."""
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    for _ in range(get_settings().throttle_account_attempts + 10):
        assert await login(anonymous, person.email, WRONG) == INVALID
        clock.advance(LOCK_OVER)  # each wrong password after the last lock ended
    challenge = await challenge_for(anonymous, person.email)
    clock.advance(timedelta(seconds=30))
    payload = (await anonymous.data(VERIFY, {"challenge": challenge, "code": code_at(secret)}))[
        "verifyTwoFactor"
    ]
    assert payload["errors"] == [] and payload["token"], payload


async def test_a_correct_password_does_not_wipe_out_failed_codes(tree, sign_in, anonymous):
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    free = get_settings().throttle_account_attempts
    sessions_before = await Session.filter(user_id=person.user.id).count()
    challenge = None
    for _ in range(3):  # 3 × (free - 1) wrong codes, a password log-in before each batch
        payload = await login(anonymous, person.email)
        if payload["challenge"]:
            challenge = payload["challenge"]["token"]
        for _ in range(free - 1):
            variables = {"challenge": challenge, "code": wrong_code(secret)}
            assert (await anonymous.data(VERIFY, variables))["verifyTwoFactor"]["token"] is None
    # After this many failed codes the account is locked: no log-in, or no session.
    payload = await login(anonymous, person.email)
    if payload["challenge"]:
        variables = {"challenge": payload["challenge"]["token"], "code": code_at(secret)}
        assert (await anonymous.data(VERIFY, variables))["verifyTwoFactor"]["token"] is None
    assert await Session.filter(user_id=person.user.id).count() == sessions_before
