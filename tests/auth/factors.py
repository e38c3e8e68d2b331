"""Shared by tests/auth/test_totp.py, tests/auth/test_email_codes.py, tests/auth/test_two_factor_policies.py: Second factors over HTTP: TOTP enrolment and log-in (replay, ±1 step, 20"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from server.auth import throttle
from server.core import clock
from server.settings import get_settings
from tests.helpers.fixtures import PASSWORD, GraphQLClient

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
EMAIL_CODE = re.compile(r"sign-in code is: (\d{6})\b")


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
        assert "sign-in code" in message["Subject"]
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


async def enable_email_codes(sign_in, smtp_server, email: str) -> GraphQLClient:  # type: ignore[no-untyped-def]
    client = await sign_in(email)
    await client.ok(SET_EMAIL, {"enabled": True})
    await smtp_server.deliver()  # the security notice
    return client
