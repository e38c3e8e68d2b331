"""Second factors over HTTP: TOTP enrolment and log-in (replay, ±1 step, 20
parallel uses of one code) and recovery codes.

The real clock is stopped at the start of a TOTP step for every test
(`clock.advance` still moves it), so steps and throttle locks cannot shift
while a test runs."""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.auth.models import RecoveryCode, Session
from server.core import clock
from server.core.encryption import decrypt
from tests.auth.factors import (
    CONFIRM,
    ENROL,
    REAUTH,
    RECOVERY_FORMAT,
    REGENERATE,
    STEP,
    TWO_FACTOR,
    challenge_for,
    code_at,
    enrol_totp,
    login,
    relax_throttle,
    security_notices,
    sign_in_with_code,
    still_clock,  # noqa: F401 - autouse: stops the clock here
    verify,
    viewer_email,
    wrong_code,
)
from tests.helpers.fixtures import PASSWORD, GraphQLClient

# --- TOTP enrolment ----------------------------------------------------------------------


async def test_enrolment_gives_a_160_bit_secret_an_otpauth_uri_and_a_qr_code(tree, sign_in):
    email = tree["acme.member"].email
    client = await sign_in(email)
    payload = await client.ok(ENROL)
    secret = payload["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert len(base64.b32decode(secret)) * 8 == 160
    uri = urlsplit(payload["uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == f"/Frontdesk:{email}"
    query = parse_qs(uri.query)
    assert query["secret"] == [secret] and query["issuer"] == ["Frontdesk"]
    assert "<svg" in payload["qrSvg"] and 'xmlns="http://www.w3.org/2000/svg"' in payload["qrSvg"]
    # Pending until confirmed: nothing changes for signing in yet.
    user = await User.get(id=tree["acme.member"].user.id)
    assert user.totp_secret is None and user.totp_pending_secret
    assert secret not in user.totp_pending_secret
    assert (await client.data(TWO_FACTOR))["viewer"]["twoFactor"]["totpEnabled"] is False
    assert (await login(GraphQLClient(client.http), email))["token"]
    # Asking again while it is pending (a reloaded page) shows the same seed.
    again = await client.ok(ENROL)
    assert again["secret"] == secret and again["uri"] == payload["uri"]


CANCEL = "mutation { cancelTotpEnrolment { ok errors { code field } } }"


async def test_the_pending_seed_lasts_until_confirmed_or_cancelled(tree, sign_in, smtp_server):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    scanned = (await client.ok(ENROL))["secret"]
    # Wrong codes and a reload leave the scanned seed pending; its code then turns it on.
    assert await client.refused(CONFIRM, {"code": wrong_code(scanned)}) == ["INVALID_CODE"]
    assert await client.refused(CONFIRM, {"code": "not a code"}) == ["INVALID_CODE"]
    assert (await client.ok(ENROL))["secret"] == scanned
    await client.ok(CONFIRM, {"code": code_at(scanned)})
    user = await User.get(id=person.user.id)
    assert decrypt(user.totp_secret) == scanned and user.totp_pending_secret is None

    # Setting up a new app: cancelled, its seed is gone, the app in use stays on.
    replacing = (await client.ok(ENROL))["secret"]
    assert replacing != scanned
    assert (await client.ok(CANCEL))["ok"] is True
    user = await User.get(id=person.user.id)
    assert user.totp_pending_secret is None and decrypt(user.totp_secret) == scanned
    assert await client.refused(CONFIRM, {"code": code_at(replacing)}) == ["INVALID_STATE"]
    # The next set-up starts with a new seed; the cancelled one's codes do not confirm it.
    fresh = (await client.ok(ENROL))["secret"]
    assert fresh not in (scanned, replacing)
    assert await client.refused(CONFIRM, {"code": code_at(replacing)}) == ["INVALID_CODE"]
    assert (await client.data(TWO_FACTOR))["viewer"]["twoFactor"]["totpEnabled"] is True


async def test_cancelling_with_nothing_pending_changes_nothing(tree, sign_in, smtp_server):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    before = await User.get(id=person.user.id)
    assert (await client.ok(CANCEL))["ok"] is True
    after = await User.get(id=person.user.id)
    assert (after.totp_secret, after.totp_pending_secret, after.updated_at) == (
        None,
        None,
        before.updated_at,
    )
    assert await smtp_server.deliver() == []
    # Signed out, nothing to cancel for anyone.
    assert await GraphQLClient(client.http).error_code(CANCEL) == "UNAUTHENTICATED"


async def test_a_wrong_first_code_enables_nothing(tree, sign_in, smtp_server):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    other_device = await sign_in(person.email)
    secret = (await client.ok(ENROL))["secret"]
    other_secret = pyotp.random_base32(32)
    for code in (wrong_code(secret), code_at(other_secret), "12345", "abcdef", ""):
        assert await client.refused(CONFIRM, {"code": code}) == ["INVALID_CODE"]
    user = await User.get(id=person.user.id)
    assert user.totp_secret is None and user.totp_confirmed_at is None
    assert not await RecoveryCode.filter(user_id=person.user.id).exists()
    assert (await client.data(TWO_FACTOR))["viewer"]["twoFactor"] == {
        "totpEnabled": False,
        "emailEnabled": False,
        "methods": [],
        "recoveryCodesLeft": 0,
    }
    assert await viewer_email(other_device) == person.email
    assert await smtp_server.deliver() == []
    assert (await login(GraphQLClient(client.http), person.email))["token"]
    # Confirming without an enrolment is refused too.
    fresh = await sign_in(tree["acme.admin"].email)
    assert await fresh.refused(CONFIRM, {"code": "123456"}) == ["INVALID_STATE"]


async def test_confirming_enables_totp_mails_ends_other_sessions_and_encrypts(
    tree, sign_in, smtp_server
):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    other_device = await sign_in(person.email)
    secret = (await client.ok(ENROL))["secret"]
    payload = await client.ok(CONFIRM, {"code": code_at(secret)})

    codes = payload["recoveryCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(RECOVERY_FORMAT.match(code) for code in codes), codes
    assert payload["viewer"]["twoFactor"] == {
        "totpEnabled": True,
        "emailEnabled": False,
        "methods": ["TOTP", "RECOVERY_CODE"],
        "recoveryCodesLeft": 10,
    }
    # Other sessions end; this one goes on.
    assert await viewer_email(other_device) is None
    assert await viewer_email(client) == person.email
    assert await Session.filter(user_id=person.user.id).count() == 1
    [notice] = await security_notices(smtp_server, person.email)
    assert "authenticator app" in notice
    # Encrypted at rest; the recovery codes are stored hashed.
    user = await User.get(id=person.user.id)
    assert user.totp_pending_secret is None and user.totp_confirmed_at is not None
    assert secret not in user.totp_secret and decrypt(user.totp_secret) == secret
    stored = [row.code_hash for row in await RecoveryCode.filter(user_id=person.user.id)]
    assert len(stored) == 10 and not any(code in h for h in stored for code in codes)
    event = await AuditEvent.get(action="two_factor.totp_enabled")
    assert event.actor_id == person.user.id and secret not in str(event.details)


# --- TOTP at log-in ----------------------------------------------------------------------


async def test_login_with_totp_asks_for_a_code_and_each_code_works_once(tree, sign_in, http):
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    anonymous = GraphQLClient(http)

    first = await login(anonymous, person.email)
    assert first["errors"] == [] and first["token"] is None and first["viewer"] is None
    assert first["challenge"]["methods"] == ["TOTP", "RECOVERY_CODE"]
    assert first["challenge"]["token"].startswith("fdc_")
    sessions_before = await Session.filter(user_id=person.user.id).count()

    code = code_at(secret)
    payload = await verify(anonymous, first["challenge"]["token"], code)
    assert payload["errors"] == [] and payload["token"]
    assert payload["viewer"] == {"user": {"email": person.email}}
    assert await viewer_email(GraphQLClient(http, payload["token"])) == person.email
    assert await Session.filter(user_id=person.user.id).count() == sessions_before + 1
    # A completed challenge cannot open a second session.
    again = await verify(anonymous, first["challenge"]["token"], code_at(secret, 1))
    assert [e["code"] for e in again["errors"]] == ["CHALLENGE_INVALID"]

    # The same code at a second log-in: a replay.
    second = await challenge_for(anonymous, person.email)
    replay = await verify(anonymous, second, code)
    assert replay["token"] is None
    assert replay["errors"] == [
        {"field": "code", "code": "INVALID_CODE", "message": "The code is not valid."}
    ]
    assert await Session.filter(user_id=person.user.id).count() == sessions_before + 1
    # The challenge survives a wrong code: the next step's code completes it.
    assert (await verify(anonymous, second, code_at(secret, 1)))["token"]
    assert await AuditEvent.filter(action="auth.two_factor_failed").count() == 1
    # The enrolling session, then the two completed challenges.
    assert await AuditEvent.filter(action="auth.login", actor_id=person.user.id).count() == 3


async def test_codes_of_the_previous_step_work_once_two_steps_back_never(tree, sign_in, http):
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=3 * STEP))  # three steps later, one second into the step
    anonymous = GraphQLClient(http)

    challenge = await challenge_for(anonymous, person.email)
    too_old = code_at(secret, -2)
    previous = code_at(secret, -1)
    assert (await verify(anonymous, challenge, too_old))["errors"][0]["code"] == "INVALID_CODE"
    assert (await verify(anonymous, challenge, code_at(secret, 2)))["token"] is None
    assert (await verify(anonymous, challenge, previous))["token"]

    challenge = await challenge_for(anonymous, person.email)
    assert (await verify(anonymous, challenge, previous))["errors"][0]["code"] == "INVALID_CODE"
    assert (await verify(anonymous, challenge, code_at(secret)))["token"]
    # The next step is accepted (clock drift), and then the current one is spent too.
    challenge = await challenge_for(anonymous, person.email)
    assert (await verify(anonymous, challenge, code_at(secret, 1)))["token"]
    challenge = await challenge_for(anonymous, person.email)
    assert (await verify(anonymous, challenge, code_at(secret)))["token"] is None


async def test_twenty_parallel_logins_with_one_code_open_one_session(
    tree, sign_in, http, monkeypatch
):
    relax_throttle(monkeypatch)  # 20 password steps in a row are not what is tested here
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    anonymous = GraphQLClient(http)
    # 20 log-ins, then 20 verifications at once.
    challenges = [await challenge_for(anonymous, person.email) for _ in range(20)]
    code = code_at(secret)
    sessions_before = await Session.filter(user_id=person.user.id).count()
    results = await asyncio.gather(*(verify(anonymous, c, code) for c in challenges))
    tokens = [r["token"] for r in results if r["token"]]
    assert len(tokens) == 1, results
    refused = {e["code"] for r in results if not r["token"] for e in r["errors"]}
    assert refused <= {"INVALID_CODE", "CHALLENGE_INVALID"}, results
    assert await Session.filter(user_id=person.user.id).count() == sessions_before + 1
    # A new log-in supersedes the open challenge: only the latest one was usable.
    assert results[-1]["token"] == tokens[0]


async def test_twenty_parallel_uses_of_one_code_on_one_challenge_let_one_in(
    tree, sign_in, http, monkeypatch
):
    relax_throttle(monkeypatch)
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    anonymous = GraphQLClient(http)
    challenge = await challenge_for(anonymous, person.email)
    sessions_before = await Session.filter(user_id=person.user.id).count()
    code = code_at(secret)
    results = await asyncio.gather(*(verify(anonymous, challenge, code) for _ in range(20)))
    assert sum(1 for r in results if r["token"]) == 1, results
    assert await Session.filter(user_id=person.user.id).count() == sessions_before + 1


async def test_twenty_parallel_reauthentications_with_one_code_let_one_through(
    tree, sign_in, http, monkeypatch
):
    """No challenge is involved in a TOTP re-authentication: only the atomic
    step update stands between 20 sessions and one code."""
    relax_throttle(monkeypatch)
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    sessions = []
    for _ in range(20):
        clock.advance(timedelta(seconds=STEP))
        sessions.append(await sign_in_with_code(http, person.email, code_at(secret)))
    clock.advance(timedelta(seconds=STEP))
    code = code_at(secret)
    results = await asyncio.gather(
        *(s.data(REAUTH, {"password": PASSWORD, "code": code}) for s in sessions)
    )
    payloads = [r["reauthenticate"] for r in results]
    assert sum(1 for p in payloads if p["token"]) == 1, payloads
    assert {e["code"] for p in payloads if not p["token"] for e in p["errors"]} == {"INVALID_CODE"}
    assert await AuditEvent.filter(action="auth.reauthenticated").count() == 1


# --- recovery codes ----------------------------------------------------------------------


async def test_a_recovery_code_works_once(tree, sign_in, http):
    person = tree["acme.member"]
    _, codes = await enrol_totp(await sign_in(person.email))
    anonymous = GraphQLClient(http)

    client = await sign_in_with_code(http, person.email, codes[0])
    assert (await client.data(TWO_FACTOR))["viewer"]["twoFactor"]["recoveryCodesLeft"] == 9
    assert await Session.filter(user_id=person.user.id, second_factor="recovery").count() == 1
    challenge = await challenge_for(anonymous, person.email)
    assert (await verify(anonymous, challenge, codes[0]))["errors"][0]["code"] == "INVALID_CODE"
    # Typed in capitals with spaces around, another one still works.
    assert (await verify(anonymous, challenge, f" {codes[1].upper()} "))["token"]
    assert await RecoveryCode.filter(user_id=person.user.id, used_at=None).count() == 8
    # A recovery code of someone else is nobody's.
    _, others = await enrol_totp(await sign_in(tree["acme.admin"].email))
    challenge = await challenge_for(anonymous, person.email)
    assert (await verify(anonymous, challenge, others[0]))["token"] is None


async def test_new_recovery_codes_replace_the_old_ones(tree, sign_in, http, smtp_server):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    _, old = await enrol_totp(client)
    await smtp_server.deliver()
    other_device = await sign_in_with_code(http, person.email, old[0])

    new = (await client.ok(REGENERATE))["recoveryCodes"]
    assert len(set(new)) == 10 and not set(new) & set(old)
    assert all(RECOVERY_FORMAT.match(code) for code in new)
    assert (await client.data(TWO_FACTOR))["viewer"]["twoFactor"]["recoveryCodesLeft"] == 10
    [notice] = await security_notices(smtp_server, person.email)
    assert "recovery codes" in notice
    assert await viewer_email(other_device) is None
    anonymous = GraphQLClient(http)
    challenge = await challenge_for(anonymous, person.email)
    assert (await verify(anonymous, challenge, old[1]))["errors"][0]["code"] == "INVALID_CODE"
    assert (await verify(anonymous, challenge, new[0]))["token"]


async def test_recovery_codes_need_an_authenticator_app(tree, sign_in):
    client = await sign_in(tree["acme.member"].email)
    assert await client.refused(REGENERATE) == ["INVALID_STATE"]
    assert not await RecoveryCode.exists()
