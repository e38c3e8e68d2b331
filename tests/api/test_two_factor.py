"""Second factors over HTTP: TOTP enrolment and log-in (replay, ±1 step, 20
parallel uses of one code), recovery codes, emailed codes (expiry, tries,
only the latest, bound to the challenge), organisations' two-factor
policies, and turning factors off or resetting them.

The real clock is stopped at the start of a TOTP step for every test
(`clock.advance` still moves it), so steps and throttle locks cannot shift
while a test runs."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.audit.models import AuditEvent
from server.auth import throttle
from server.auth.models import LoginChallenge, RecoveryCode, Session
from server.core import clock
from server.core.encryption import decrypt
from server.settings import get_settings
from tests.helpers.fixtures import PASSWORD, GraphQLClient, gid

STEP = 30

ENROL = "mutation { enrolTotp { secret uri qrSvg errors { code field } } }"
CONFIRM = """
mutation($code: String!) {
  confirmTotp(input: {code: $code}) {
    recoveryCodes errors { code field }
    viewer { twoFactor { totpEnabled emailEnabled methods recoveryCodesLeft } }
  }
}"""
SET_EMAIL = """
mutation($enabled: Boolean!) {
  setEmailTwoFactor(input: {enabled: $enabled}) {
    errors { code field } viewer { twoFactor { totpEnabled emailEnabled methods } }
  }
}"""
REGENERATE = "mutation { regenerateRecoveryCodes { recoveryCodes errors { code } } }"
DISABLE = """
mutation { disableTwoFactor { errors { code } viewer { twoFactor { totpEnabled emailEnabled methods } } } }"""
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    token errors { field code message }
    challenge { token expiresAt methods }
    viewer { user { email } }
  }
}"""
VERIFY = """
mutation($challenge: String!, $code: String!) {
  verifyTwoFactor(input: {challenge: $challenge, code: $code}) {
    token errors { field code message } viewer { user { email } }
  }
}"""
SEND_EMAIL = """
mutation($challenge: String!) { sendTwoFactorEmail(input: {challenge: $challenge}) { ok errors { code } } }"""
REAUTH = """
mutation($password: String!, $code: String) {
  reauthenticate(input: {password: $password, code: $code}) {
    token codeSent errors { field code message }
  }
}"""
TWO_FACTOR = "{ viewer { twoFactor { totpEnabled emailEnabled methods recoveryCodesLeft } } }"
VIEWER = "{ viewer { user { email } } }"
MEMBERSHIPS = """
{ viewer { memberships { organisation { name } } awaitingTwoFactor { organisation { name } } } }"""
UPDATE_ORG = """
mutation($id: ID!, $require: Boolean, $email: Boolean, $admins: Boolean) {
  updateOrganisation(input: {organisationId: $id, requireTwoFactor: $require,
                             allowEmailCodes: $email, requireTotpForAdmins: $admins}) {
    organisation { requireTwoFactor allowEmailCodes requireTotpForAdmins } errors { code }
  }
}"""
RESET_TWO_FACTOR = """
mutation($id: ID!) {
  resetTwoFactor(input: {membershipId: $id}) { membership { id } errors { code } }
}"""

RECOVERY_FORMAT = re.compile(r"^[a-z0-9]{6}(-[a-z0-9]{6}){3}$")
EMAIL_CODE = re.compile(r"verification code is: (\d{6})\b")


@pytest.fixture(autouse=True)
def still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    stop_real_time(monkeypatch)


def stop_real_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop real time one second into the next TOTP step; `clock.advance` still works."""
    real_now = clock.now
    now = real_now()
    start = now + timedelta(seconds=STEP - now.timestamp() % STEP + 1)
    millisecond = timedelta(milliseconds=1)

    def still() -> datetime:
        # What clock.advance added, without the microseconds between the two readings.
        return start + round((real_now() - datetime.now(UTC)) / millisecond) * millisecond

    monkeypatch.setattr(clock, "now", still)


def relax_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for many parallel attempts: what is raced is the code, not the throttle."""
    relaxed = dataclasses.replace(
        get_settings(), throttle_account_attempts=1000, throttle_address_attempts=1000
    )
    monkeypatch.setattr(throttle, "get_settings", lambda: relaxed)


def code_at(secret: str, steps: int = 0) -> str:
    """The TOTP code `steps` time steps away from now."""
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=STEP * steps))


def wrong_code(secret: str) -> str:
    """Six digits that are no code of the steps now-2 … now+2."""
    used = {code_at(secret, s) for s in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(0, 10**6, 111111)) if c not in used)


async def login(client: GraphQLClient, email: str, password: str = PASSWORD) -> dict:
    return (await client.data(LOGIN, {"email": email, "password": password}))["login"]


async def challenge_for(client: GraphQLClient, email: str) -> str:
    payload = await login(client, email)
    assert payload["errors"] == [] and payload["token"] is None, payload
    return payload["challenge"]["token"]


async def verify(client: GraphQLClient, challenge: str, code: str) -> dict:
    return (await client.data(VERIFY, {"challenge": challenge, "code": code}))["verifyTwoFactor"]


async def sign_in_with_code(http, email: str, code: str) -> GraphQLClient:  # type: ignore[no-untyped-def]
    anonymous = GraphQLClient(http)
    payload = await verify(anonymous, await challenge_for(anonymous, email), code)
    assert payload["errors"] == [] and payload["token"], payload
    return GraphQLClient(http, payload["token"])


async def enrol_totp(client: GraphQLClient) -> tuple[str, list[str]]:
    """Set up the app on `client`'s account: (secret, recovery codes). The
    current step is used up; `clock.advance` a step before the next code."""
    secret = (await client.ok(ENROL))["secret"]
    codes = (await client.ok(CONFIRM, {"code": code_at(secret)}))["recoveryCodes"]
    return secret, codes


async def email_codes(smtp_server, email: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The codes of the verification mails just queued, all for `email`."""
    found = []
    for message in await smtp_server.deliver():
        assert message["To"] == email
        assert "verification code" in message["Subject"]
        text = message.get_body(preferencelist=("plain",)).get_content()
        [code] = EMAIL_CODE.findall(text)
        found.append(code)
    return found


async def viewer_email(client: GraphQLClient) -> str | None:
    viewer = (await client.data(VIEWER))["viewer"]
    return viewer["user"]["email"] if viewer else None


async def organisations_of(client: GraphQLClient) -> tuple[list[str], list[str]]:
    viewer = (await client.data(MEMBERSHIPS))["viewer"]
    return (
        [m["organisation"]["name"] for m in viewer["memberships"]],
        [m["organisation"]["name"] for m in viewer["awaitingTwoFactor"]],
    )


async def security_notices(smtp_server, email: str) -> list[str]:  # type: ignore[no-untyped-def]
    messages = await smtp_server.deliver()
    assert all(m["To"] == email for m in messages), [m["To"] for m in messages]
    return [m.get_body(preferencelist=("plain",)).get_content() for m in messages]


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
    # A second enrolment replaces the seed.
    assert (await client.ok(ENROL))["secret"] != secret


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


# --- codes by email ----------------------------------------------------------------------


async def enable_email_codes(sign_in, smtp_server, email: str) -> GraphQLClient:  # type: ignore[no-untyped-def]
    client = await sign_in(email)
    await client.ok(SET_EMAIL, {"enabled": True})
    await smtp_server.deliver()  # the security notice
    return client


async def test_turning_email_codes_on_needs_no_step_up_without_a_factor(tree, sign_in, smtp_server):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    other_device = await sign_in(person.email)
    clock.advance(timedelta(minutes=6))  # no recent sign-in needed for a first factor
    payload = await client.ok(SET_EMAIL, {"enabled": True})
    assert payload["viewer"]["twoFactor"] == {
        "totpEnabled": False,
        "emailEnabled": True,
        "methods": ["EMAIL"],
    }
    [notice] = await security_notices(smtp_server, person.email)
    assert "Codes by email were turned on" in notice
    assert await viewer_email(other_device) is None
    assert await viewer_email(client) == person.email
    assert (await User.get(id=person.user.id)).email_two_factor is True


async def test_login_with_email_codes_mails_a_code_that_completes_it(
    tree, sign_in, http, smtp_server
):
    person = tree["acme.member"]
    await enable_email_codes(sign_in, smtp_server, person.email)
    anonymous = GraphQLClient(http)
    payload = await login(anonymous, person.email)
    assert payload["token"] is None and payload["challenge"]["methods"] == ["EMAIL"]
    [code] = await email_codes(smtp_server, person.email)
    result = await verify(anonymous, payload["challenge"]["token"], code)
    assert result["errors"] == [] and result["token"]
    assert await viewer_email(GraphQLClient(http, result["token"])) == person.email
    newest = await Session.filter(user_id=person.user.id).order_by("-id").first()
    assert newest is not None and newest.second_factor == "email"
    # The code is spent with its challenge; the code is not in the database.
    challenge = await challenge_for(anonymous, person.email)
    assert (await verify(anonymous, challenge, code))["token"] is None
    for row in await LoginChallenge.all():
        assert code not in (row.email_code_hash or "")
    for event in await AuditEvent.all():
        assert code not in str(event.details), event.action


async def test_an_email_code_expires_after_five_minutes(tree, sign_in, http, smtp_server):
    person = tree["acme.member"]
    await enable_email_codes(sign_in, smtp_server, person.email)
    anonymous = GraphQLClient(http)
    challenge = await challenge_for(anonymous, person.email)
    [code] = await email_codes(smtp_server, person.email)
    clock.advance(timedelta(minutes=5, seconds=1))
    late = await verify(anonymous, challenge, code)
    assert late["token"] is None
    assert [e["code"] for e in late["errors"]] == ["CHALLENGE_INVALID"]

    # Just within the five minutes it works.
    challenge = await challenge_for(anonymous, person.email)
    [code] = await email_codes(smtp_server, person.email)
    clock.advance(timedelta(minutes=4, seconds=58))
    assert (await verify(anonymous, challenge, code))["token"]


async def test_a_resent_code_still_dies_with_its_challenge(tree, sign_in, http, smtp_server):
    """A code sent later in a challenge's life still dies with its challenge."""
    person = tree["acme.member"]
    await enable_email_codes(sign_in, smtp_server, person.email)
    anonymous = GraphQLClient(http)
    challenge = await challenge_for(anonymous, person.email)
    await email_codes(smtp_server, person.email)
    clock.advance(timedelta(minutes=3))
    await anonymous.ok(SEND_EMAIL, {"challenge": challenge})
    [code] = await email_codes(smtp_server, person.email)
    clock.advance(timedelta(minutes=2, seconds=1))
    assert (await verify(anonymous, challenge, code))["token"] is None


async def test_three_wrong_email_codes_kill_the_code(tree, sign_in, http, smtp_server, monkeypatch):
    relax_throttle(monkeypatch)  # the code's own three tries are tested, not the account's
    person = tree["acme.member"]
    await enable_email_codes(sign_in, smtp_server, person.email)
    anonymous = GraphQLClient(http)
    challenge = await challenge_for(anonymous, person.email)
    [code] = await email_codes(smtp_server, person.email)
    wrong = [c for c in ("000000", "111111", "222222", "333333") if c != code][:3]
    for attempt in wrong:
        assert (await verify(anonymous, challenge, attempt))["errors"][0]["code"] == "INVALID_CODE"
    refused = await verify(anonymous, challenge, code)
    assert refused["token"] is None and refused["errors"][0]["code"] == "INVALID_CODE"
    # A new code (asked for on the same challenge) gets three fresh tries.
    await anonymous.ok(SEND_EMAIL, {"challenge": challenge})
    [fresh] = await email_codes(smtp_server, person.email)
    assert (await verify(anonymous, challenge, fresh))["token"]


async def test_only_the_latest_email_code_is_valid(tree, sign_in, http, smtp_server):
    person = tree["acme.member"]
    await enable_email_codes(sign_in, smtp_server, person.email)
    anonymous = GraphQLClient(http)
    challenge = await challenge_for(anonymous, person.email)
    [first] = await email_codes(smtp_server, person.email)
    latest = first
    while latest == first:  # a one-in-a-million coincidence would prove nothing
        assert (await anonymous.ok(SEND_EMAIL, {"challenge": challenge}))["ok"] is True
        [latest] = await email_codes(smtp_server, person.email)
    assert (await verify(anonymous, challenge, first))["errors"][0]["code"] == "INVALID_CODE"
    assert (await verify(anonymous, challenge, latest))["token"]
    # A completed (or unknown) challenge sends nothing more.
    assert await anonymous.refused(SEND_EMAIL, {"challenge": challenge}) == ["CHALLENGE_INVALID"]
    assert await anonymous.refused(SEND_EMAIL, {"challenge": "fdc_nothing"}) == [
        "CHALLENGE_INVALID"
    ]
    assert await smtp_server.deliver() == []


async def test_an_email_code_is_bound_to_its_challenge(tree, sign_in, http, smtp_server):
    person = tree["acme.member"]
    await enable_email_codes(sign_in, smtp_server, person.email)
    anonymous = GraphQLClient(http)
    challenge_a = await challenge_for(anonymous, person.email)
    [code_a] = await email_codes(smtp_server, person.email)
    challenge_b = await challenge_for(anonymous, person.email)
    [code_b] = await email_codes(smtp_server, person.email)
    if code_a != code_b:
        assert (await verify(anonymous, challenge_b, code_a))["token"] is None
    # The newer log-in superseded the older challenge.
    assert (await verify(anonymous, challenge_a, code_a))["errors"][0]["code"] == (
        "CHALLENGE_INVALID"
    )
    assert (await verify(anonymous, challenge_b, code_b))["token"]


async def test_an_email_code_of_another_person_does_not_work(tree, sign_in, http, smtp_server):
    member, admin = tree["acme.member"], tree["acme.admin"]
    await enable_email_codes(sign_in, smtp_server, member.email)
    await enable_email_codes(sign_in, smtp_server, admin.email)
    anonymous = GraphQLClient(http)
    mine = await challenge_for(anonymous, member.email)
    [my_code] = await email_codes(smtp_server, member.email)
    theirs = await challenge_for(anonymous, admin.email)
    [their_code] = await email_codes(smtp_server, admin.email)
    if my_code != their_code:
        assert (await verify(anonymous, mine, their_code))["token"] is None
    assert (await verify(anonymous, theirs, their_code))["token"]
    assert (await verify(anonymous, mine, my_code))["token"]


async def test_with_both_factors_the_email_code_comes_on_request(tree, sign_in, http, smtp_server):
    person = tree["acme.member"]
    client = await enable_email_codes(sign_in, smtp_server, person.email)
    secret, _ = await enrol_totp(client)
    await smtp_server.deliver()
    anonymous = GraphQLClient(http)
    payload = await login(anonymous, person.email)
    assert payload["challenge"]["methods"] == ["TOTP", "EMAIL", "RECOVERY_CODE"]
    assert await smtp_server.deliver() == []  # the app is there: no mail unasked
    challenge = payload["challenge"]["token"]
    await anonymous.ok(SEND_EMAIL, {"challenge": challenge})
    [code] = await email_codes(smtp_server, person.email)
    assert (await verify(anonymous, challenge, code))["token"]


async def test_no_email_code_for_an_app_only_challenge(tree, sign_in, http, smtp_server):
    person = tree["acme.member"]
    await enrol_totp(await sign_in(person.email))
    await smtp_server.deliver()
    anonymous = GraphQLClient(http)
    challenge = await challenge_for(anonymous, person.email)
    assert await anonymous.refused(SEND_EMAIL, {"challenge": challenge}) == ["INVALID_STATE"]
    assert await smtp_server.deliver() == []


@pytest.mark.parametrize("what", ["user", "memberships"])
async def test_no_session_for_someone_disabled_during_the_challenge(tree, sign_in, http, what):
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    anonymous = GraphQLClient(http)
    challenge = await challenge_for(anonymous, person.email)
    if what == "user":
        await User.filter(id=person.user.id).update(status=UserStatus.DISABLED)
    else:
        await Membership.filter(user_id=person.user.id).update(status=MembershipStatus.DISABLED)
    sessions_before = await Session.filter(user_id=person.user.id).count()
    payload = await verify(anonymous, challenge, code_at(secret))
    assert payload["token"] is None and payload["viewer"] is None, payload
    assert [e["code"] for e in payload["errors"]] == ["CHALLENGE_INVALID"]
    assert await Session.filter(user_id=person.user.id).count() == sessions_before


# --- organisations' policies -------------------------------------------------------------


async def set_policy(owner: GraphQLClient, tree, **settings: bool) -> None:  # type: ignore[no-untyped-def]
    variables = {
        "id": gid("Organisation", tree.acme.id),
        "require": settings.get("require"),
        "email": settings.get("email"),
        "admins": settings.get("admins"),
    }
    await owner.ok(UPDATE_ORG, variables)


async def test_a_required_second_factor_holds_memberships_until_enrolment(tree, sign_in):
    owner = await sign_in(tree["acme.owner"].email)
    await set_policy(owner, tree, require=True)
    # The owner's own password-only session is held back too.
    assert await organisations_of(owner) == ([], ["Acme"])
    person = tree["acme.member"]
    client = await sign_in(person.email)  # a password-only log-in still works
    assert await organisations_of(client) == ([], ["Acme"])
    acme = gid("Organisation", tree.acme.id)
    query = "query($id: ID!) { organisation(id: $id) { name } }"
    assert (await client.data(query, {"id": acme}))["organisation"] is None

    secret = (await client.ok(ENROL))["secret"]
    await client.ok(CONFIRM, {"code": code_at(secret)})
    assert await organisations_of(client) == (["Acme"], [])
    assert (await client.data(query, {"id": acme}))["organisation"] == {"name": "Acme"}
    # A password-only session of another member is still held back.
    other = await sign_in(tree["acme.admin"].email)
    assert await organisations_of(other) == ([], ["Acme"])


async def test_email_codes_can_be_refused_as_a_second_factor(tree, sign_in, http, smtp_server):
    owner = await sign_in(tree["acme.owner"].email)
    await enrol_totp(owner)
    await set_policy(owner, tree, require=True)
    assert await organisations_of(owner) == (["Acme"], [])
    person = tree["acme.member"]
    await enable_email_codes(sign_in, smtp_server, person.email)
    anonymous = GraphQLClient(http)

    challenge = await challenge_for(anonymous, person.email)
    [code] = await email_codes(smtp_server, person.email)
    allowed = await sign_in_with_challenge(http, challenge, code)
    assert await organisations_of(allowed) == (["Acme"], [])

    await set_policy(owner, tree, email=False)
    assert await organisations_of(allowed) == ([], ["Acme"])  # on its very next request
    challenge = await challenge_for(anonymous, person.email)
    [code] = await email_codes(smtp_server, person.email)
    refused = await sign_in_with_challenge(http, challenge, code)
    assert await organisations_of(refused) == ([], ["Acme"])


async def sign_in_with_challenge(http, challenge: str, code: str) -> GraphQLClient:  # type: ignore[no-untyped-def]
    payload = await verify(GraphQLClient(http), challenge, code)
    assert payload["token"], payload
    return GraphQLClient(http, payload["token"])


async def test_admins_can_be_required_to_use_an_authenticator_app(tree, sign_in, http, smtp_server):
    await set_policy(await sign_in(tree["acme.owner"].email), tree, admins=True)
    admin, member = tree["acme.admin"], tree["acme.member"]
    # Members need nothing.
    assert await organisations_of(await sign_in(member.email)) == (["Acme"], [])
    # An admin signed in with a password or an emailed code waits.
    assert await organisations_of(await sign_in(admin.email)) == ([], ["Acme"])
    await enable_email_codes(sign_in, smtp_server, admin.email)
    challenge = await challenge_for(GraphQLClient(http), admin.email)
    [code] = await email_codes(smtp_server, admin.email)
    by_email = await sign_in_with_challenge(http, challenge, code)
    assert await organisations_of(by_email) == ([], ["Acme"])

    # With the app (or one of its recovery codes) the admin may work.
    secret, recovery = await enrol_totp(by_email)
    assert await organisations_of(by_email) == (["Acme"], [])
    clock.advance(timedelta(seconds=STEP))
    with_app = await sign_in_with_code(http, admin.email, code_at(secret))
    assert await organisations_of(with_app) == (["Acme"], [])
    with_recovery = await sign_in_with_code(http, admin.email, recovery[0])
    assert await organisations_of(with_recovery) == (["Acme"], [])


# --- turning factors off, resetting them --------------------------------------------------


async def test_disabling_two_factor_lets_the_password_alone_sign_in(
    tree, sign_in, http, smtp_server
):
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    await smtp_server.deliver()
    clock.advance(timedelta(seconds=STEP))
    client = await sign_in_with_code(http, person.email, code_at(secret))
    clock.advance(timedelta(seconds=STEP))
    other_device = await sign_in_with_code(http, person.email, code_at(secret))

    payload = await client.ok(DISABLE)
    assert payload["viewer"]["twoFactor"] == {
        "totpEnabled": False,
        "emailEnabled": False,
        "methods": [],
    }
    [notice] = await security_notices(smtp_server, person.email)
    assert "turned off" in notice
    assert await viewer_email(other_device) is None
    assert await viewer_email(client) == person.email
    user = await User.get(id=person.user.id)
    assert user.totp_secret is None and user.email_two_factor is False
    assert not await RecoveryCode.filter(user_id=person.user.id).exists()
    direct = await login(GraphQLClient(http), person.email)
    assert direct["token"] and direct["challenge"] is None


async def test_an_owner_resets_a_members_second_factor(tree, sign_in, http, smtp_server):
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    member = await sign_in_with_code(http, person.email, code_at(secret))
    await smtp_server.deliver()

    owner = await sign_in(tree["acme.owner"].email)
    await owner.ok(RESET_TWO_FACTOR, {"id": person.membership_id})
    user = await User.get(id=person.user.id)
    assert user.totp_secret is None and not user.has_second_factor
    assert not await RecoveryCode.filter(user_id=person.user.id).exists()
    assert await viewer_email(member) is None
    [notice] = await security_notices(smtp_server, person.email)
    assert "reset your two-factor" in notice
    event = await AuditEvent.get(action="two_factor.reset")
    assert event.actor_id == tree["acme.owner"].user.id
    assert event.subject_user_id == person.user.id and event.organisation_id == tree.acme.id
    assert (await login(GraphQLClient(http), person.email))["token"]
    # Not oneself, and nobody outside one's organisations.
    assert await owner.refused(RESET_TWO_FACTOR, {"id": tree["acme.owner"].membership_id}) == [
        "SELF_ACTION"
    ]
    assert await owner.refused(RESET_TWO_FACTOR, {"id": tree["globex.member"].membership_id}) == [
        "NOT_FOUND"
    ]
    member_client = await sign_in(person.email)
    variables = {"id": tree["acme.admin"].membership_id}
    assert await member_client.error_code(RESET_TWO_FACTOR, variables) == "FORBIDDEN"


async def test_an_admin_cannot_reset_the_owner(tree, sign_in):
    owner = tree["acme.owner"]
    await enrol_totp(await sign_in(owner.email))
    admin = await sign_in(tree["acme.admin"].email)
    assert await admin.refused(RESET_TWO_FACTOR, {"id": owner.membership_id}) == ["HIGHER_ROLE"]
    assert (await User.get(id=owner.user.id)).has_totp
