"""Step-up: fields marked @requiresRecentAuth(maxAge: 300) need a log-in or
`reauthenticate` within five minutes, and `reauthenticate` itself (password,
then the second factor of the person, a new session token each time)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from server.accounts.models import Membership, User
from server.audit.models import AuditEvent
from server.auth.models import RecoveryCode, Session
from server.core import clock
from server.core.permissions import Role, TicketAccess
from server.settings import get_settings
from tests.auth.factors import (
    CONFIRM,
    DISABLE,
    ENROL,
    REAUTH,
    REGENERATE,
    RESET_TWO_FACTOR,
    SET_EMAIL,
    STEP,
    VIEWER,
    challenge_for,
    code_at,
    email_codes,
    enrol_totp,
    sign_in_with_code,
    stop_real_time,
    viewer_email,
    wrong_code,
)
from tests.helpers.fixtures import PASSWORD, GraphQLClient

SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"
LATER = timedelta(minutes=6)  # past the five minutes, well within the 60-minute idle timeout

CHANGE_ROLE = """
mutation($id: ID!, $role: Role!) {
  changeRole(input: {membershipId: $id, role: $role}) { membership { role } errors { code } }
}"""
FEATURES = """
mutation($id: ID!, $tickets: TicketAccess, $imp: Boolean, $rec: Boolean) {
  setFeatureAccess(input: {membershipId: $id, ticketAccess: $tickets, canImpersonate: $imp,
                           restrictRecordingDeletion: $rec}) {
    membership { ticketAccess canImpersonate restrictRecordingDeletion } errors { code }
  }
}"""
REAUTH_VIEWER = """
mutation($password: String!, $code: String) {
  reauthenticate(input: {password: $password, code: $code}) {
    token codeSent errors { code } viewer { user { email } }
  }
}"""

GUARDED_FIELDS = [
    "enrolTotp",
    "confirmTotp",
    "setEmailTwoFactor",
    "regenerateRecoveryCodes",
    "disableTwoFactor",
    "changeRole",
    "setFeatureAccess",
    "resetTwoFactor",
]


@pytest.fixture(autouse=True)
def still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    stop_real_time(monkeypatch)


async def refused_for_age(client: GraphQLClient, query: str, variables: dict | None = None) -> None:
    """The call is answered with REAUTH_REQUIRED (and the session lives on)."""
    body = await client(query, variables)
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "REAUTH_REQUIRED", "maxAge": 300}, error
    assert await viewer_email(client) is not None


async def reauthenticated(client: GraphQLClient, code: str | None = None) -> GraphQLClient:
    payload = await client.ok(REAUTH, {"password": PASSWORD, "code": code})
    assert payload["token"] and payload["token"] != client.token
    return GraphQLClient(client.http, payload["token"])


# --- the schema says so ---------------------------------------------------------------------


@pytest.mark.parametrize("field", GUARDED_FIELDS)
def test_the_schema_marks_the_field(field: str) -> None:
    [line] = [line for line in SCHEMA.read_text().splitlines() if re.match(rf"\s+{field}\b", line)]
    assert "@requiresRecentAuth(maxAge: 300)" in line, line


def test_signing_in_itself_needs_no_recent_sign_in() -> None:
    marked = {
        match.group(1)
        for match in re.finditer(
            r"^\s+(\w+)\b.*@requiresRecentAuth\(maxAge: 300\)", SCHEMA.read_text(), re.M
        )
    }
    assert set(GUARDED_FIELDS) <= marked
    # Whatever else joins the list, these must stay reachable with an old session.
    reachable = {"login", "verifyTwoFactor", "sendTwoFactorEmail", "reauthenticate", "logout"}
    assert not reachable & marked


# --- member administration -------------------------------------------------------------------

OWNER_ACTIONS = {
    "make admin": (CHANGE_ROLE, "acme.member", {"role": "ADMIN"}),
    "make owner": (CHANGE_ROLE, "acme.member", {"role": "OWNER"}),
    "ticket access": (FEATURES, "acme.member", {"tickets": "ACCOUNT"}),
    "grant impersonation": (FEATURES, "acme.admin", {"imp": True}),
}


async def membership_state(membership_id: int) -> tuple[Role, TicketAccess, bool, bool]:
    row = await Membership.get(id=membership_id)
    return row.role, row.ticket_access, row.can_impersonate, row.restrict_recording_deletion


@pytest.mark.parametrize("action", OWNER_ACTIONS)
async def test_administration_needs_a_recent_sign_in(tree, sign_in, action: str):
    query, key, arguments = OWNER_ACTIONS[action]
    target = tree[key]
    variables = {"id": target.membership_id, **arguments}
    owner = await sign_in(tree["acme.owner"].email)
    before = await membership_state(target.membership.id)
    clock.advance(LATER)

    await refused_for_age(owner, query, variables)
    assert await membership_state(target.membership.id) == before
    assert not await AuditEvent.filter(action__startswith="member.").exists()

    fresh = await reauthenticated(owner)
    await fresh.ok(query, variables)
    assert await membership_state(target.membership.id) != before


async def test_five_minutes_are_recent_enough(tree, sign_in):
    owner = await sign_in(tree["acme.owner"].email)
    clock.advance(timedelta(seconds=299))
    await owner.ok(CHANGE_ROLE, {"id": tree["acme.member"].membership_id, "role": "ADMIN"})
    clock.advance(timedelta(seconds=2))
    await refused_for_age(
        owner, CHANGE_ROLE, {"id": tree["acme.admin"].membership_id, "role": "OWNER"}
    )


async def test_lesser_changes_need_no_recent_sign_in(tree, sign_in):
    owner = await sign_in(tree["acme.owner"].email)
    clock.advance(LATER)
    admin = tree["acme.admin"]
    payload = await owner.ok(FEATURES, {"id": admin.membership_id, "rec": True})
    assert payload["membership"]["restrictRecordingDeletion"] is True
    payload = await owner.ok(FEATURES, {"id": admin.membership_id, "imp": False})
    assert payload["membership"]["canImpersonate"] is False
    payload = await owner.ok(CHANGE_ROLE, {"id": admin.membership_id, "role": "MEMBER"})
    assert payload["membership"]["role"] == "MEMBER"
    assert (await Membership.get(id=admin.membership.id)).role is Role.MEMBER


async def test_the_permission_check_comes_before_the_age_check(tree, sign_in):
    """A member without the permission learns nothing about step-up."""
    member = await sign_in(tree["acme.member"].email)
    clock.advance(LATER)
    variables = {"id": tree["acme.admin"].membership_id, "role": "OWNER"}
    assert await member.error_code(CHANGE_ROLE, variables) == "FORBIDDEN"


# --- two-factor changes ----------------------------------------------------------------------

TWO_FACTOR_ACTIONS = [
    "enrolTotp",
    "confirmTotp",
    "setEmailTwoFactor on",
    "regenerateRecoveryCodes",
    "disableTwoFactor",
]


async def factor_state(user_id: int) -> tuple:
    user = await User.get(id=user_id)
    codes = sorted(row.code_hash for row in await RecoveryCode.filter(user_id=user_id))
    return (
        user.totp_secret,
        user.totp_pending_secret,
        user.totp_confirmed_at,
        user.email_two_factor,
        codes,
        await Session.filter(user_id=user_id).count(),
    )


@pytest.mark.parametrize("action", TWO_FACTOR_ACTIONS)
async def test_changing_a_factor_needs_a_recent_sign_in(tree, sign_in, http, smtp_server, action):
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    client = await sign_in_with_code(http, person.email, code_at(secret))
    pending = None
    if action == "confirmTotp":
        pending = (await client.ok(ENROL))["secret"]  # a fresh session may start it

    def call() -> tuple[str, dict]:
        if action == "confirmTotp":
            return CONFIRM, {"code": code_at(pending)}  # type: ignore[arg-type]
        if action == "setEmailTwoFactor on":
            return SET_EMAIL, {"enabled": True}
        document = {"enrolTotp": ENROL, "regenerateRecoveryCodes": REGENERATE}
        return document.get(action, DISABLE), {}

    await smtp_server.deliver()
    before = await factor_state(person.user.id)
    clock.advance(LATER)
    await refused_for_age(client, *call())
    assert await factor_state(person.user.id) == before
    assert await smtp_server.deliver() == []  # no notice: nothing changed

    fresh = await reauthenticated(client, code_at(secret))
    await fresh.ok(*call())
    assert await factor_state(person.user.id) != before


async def test_turning_email_codes_off_needs_a_recent_sign_in(tree, sign_in, http, smtp_server):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    await client.ok(SET_EMAIL, {"enabled": True})
    await smtp_server.deliver()
    clock.advance(LATER)
    await refused_for_age(client, SET_EMAIL, {"enabled": False})
    assert (await User.get(id=person.user.id)).email_two_factor is True
    # Re-authentication by emailed code: first the code is sent, then it is checked.
    sent = await client.ok(REAUTH, {"password": PASSWORD})
    assert sent["codeSent"] is True and sent["token"] is None
    [code] = await email_codes(smtp_server, person.email)
    fresh = await reauthenticated(client, code)
    await fresh.ok(SET_EMAIL, {"enabled": False})
    assert (await User.get(id=person.user.id)).email_two_factor is False


async def test_a_first_factor_needs_no_recent_sign_in(tree, sign_in):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    clock.advance(LATER)
    secret = (await client.ok(ENROL))["secret"]
    clock.advance(LATER)
    await client.ok(CONFIRM, {"code": code_at(secret)})
    assert (await User.get(id=person.user.id)).has_totp


async def test_disabling_needs_a_recent_sign_in_even_without_a_factor(tree, sign_in):
    client = await sign_in(tree["acme.member"].email)
    clock.advance(LATER)
    await refused_for_age(client, DISABLE)
    await refused_for_age(client, REGENERATE)


async def test_resetting_a_members_factor_needs_a_recent_sign_in(tree, sign_in, http):
    person = tree["acme.member"]
    await enrol_totp(await sign_in(person.email))
    owner = await sign_in(tree["acme.owner"].email)
    clock.advance(LATER)
    await refused_for_age(owner, RESET_TWO_FACTOR, {"id": person.membership_id})
    assert (await User.get(id=person.user.id)).has_totp
    fresh = await reauthenticated(owner)
    await fresh.ok(RESET_TWO_FACTOR, {"id": person.membership_id})
    assert not (await User.get(id=person.user.id)).has_totp


# --- reauthenticate -------------------------------------------------------------------------


async def test_reauthentication_rotates_the_session_token(tree, sign_in, http):
    person = tree["acme.owner"]
    old = await sign_in(person.email)
    other_device = await sign_in(person.email)
    clock.advance(LATER)
    payload = (await old.data(REAUTH_VIEWER, {"password": PASSWORD}))["reauthenticate"]
    assert payload["errors"] == [] and payload["codeSent"] is False
    assert payload["viewer"] == {"user": {"email": person.email}}
    new = GraphQLClient(http, payload["token"])
    assert payload["token"] != old.token
    assert await viewer_email(old) is None
    assert await viewer_email(new) == person.email
    assert await viewer_email(other_device) == person.email
    assert await Session.filter(user_id=person.user.id).count() == 2
    newest = await Session.filter(user_id=person.user.id).order_by("-id").first()
    assert newest is not None and newest.authenticated_at == clock.now()
    assert await AuditEvent.filter(action="auth.reauthenticated", actor_id=person.user.id).exists()
    # Reauthenticating needs a session.
    assert await GraphQLClient(http).error_code(REAUTH, {"password": PASSWORD}) == (
        "UNAUTHENTICATED"
    )


async def test_a_wrong_password_does_not_reauthenticate(tree, sign_in):
    person = tree["acme.owner"]
    client = await sign_in(person.email)
    clock.advance(LATER)
    refused = (await client.data(REAUTH, {"password": "not my password"}))["reauthenticate"]
    assert refused["token"] is None
    assert refused["errors"] == [
        {"field": "password", "code": "WRONG_PASSWORD", "message": "The password is incorrect."}
    ]
    assert await viewer_email(client) == person.email  # the session is kept, not renewed
    await refused_for_age(
        client, CHANGE_ROLE, {"id": tree["acme.member"].membership_id, "role": "ADMIN"}
    )
    assert await AuditEvent.filter(action="auth.reauth_failed").count() == 1


async def test_repeated_wrong_passwords_at_reauthentication_are_throttled(tree, sign_in):
    person = tree["acme.owner"]
    client = await sign_in(person.email)
    for _ in range(get_settings().throttle_account_attempts):
        assert await client.refused(REAUTH, {"password": "not my password"}) == ["WRONG_PASSWORD"]
    # Locked now: even the right password is refused, with the same answer.
    assert await client.refused(REAUTH, {"password": PASSWORD}) == ["WRONG_PASSWORD"]
    clock.advance(timedelta(minutes=15, seconds=1))
    assert (await client.ok(REAUTH, {"password": PASSWORD}))["token"]


async def test_a_totp_user_reauthenticates_with_a_code(tree, sign_in, http):
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    used = code_at(secret)
    client = await sign_in_with_code(http, person.email, used)

    missing = (await client.data(REAUTH, {"password": PASSWORD}))["reauthenticate"]
    assert missing["token"] is None and missing["codeSent"] is False
    assert [(e["field"], e["code"]) for e in missing["errors"]] == [("code", "REQUIRED")]
    assert await client.refused(REAUTH, {"password": PASSWORD, "code": used}) == ["INVALID_CODE"]
    wrong = {"password": PASSWORD, "code": wrong_code(secret)}
    assert await client.refused(REAUTH, wrong) == ["INVALID_CODE"]
    assert await client.refused(REAUTH, {"password": "nope", "code": code_at(secret, 1)}) == [
        "WRONG_PASSWORD"
    ]
    clock.advance(LATER)
    fresh = await reauthenticated(client, code_at(secret))
    assert await viewer_email(client) is None
    newest = await Session.filter(user_id=person.user.id).order_by("-id").first()
    assert newest is not None and newest.second_factor == "totp"
    await fresh.ok(REGENERATE)


async def test_an_email_code_user_reauthenticates_with_a_mailed_code(
    tree, sign_in, http, smtp_server
):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    await client.ok(SET_EMAIL, {"enabled": True})
    await smtp_server.deliver()
    clock.advance(LATER)

    assert await client.refused(REAUTH, {"password": "nope"}) == ["WRONG_PASSWORD"]
    assert await smtp_server.deliver() == []  # no code for a wrong password
    sent = await client.ok(REAUTH, {"password": PASSWORD})
    assert sent["codeSent"] is True and sent["token"] is None
    [code] = await email_codes(smtp_server, person.email)
    # A code mailed for a log-in elsewhere is no code for this re-authentication.
    await challenge_for(GraphQLClient(http), person.email)
    [login_code] = await email_codes(smtp_server, person.email)
    if login_code != code:
        assert await client.refused(REAUTH, {"password": PASSWORD, "code": login_code}) == [
            "INVALID_CODE"
        ]
    fresh = await reauthenticated(client, code)
    assert await viewer_email(client) is None
    # Spent with the re-authentication.
    assert await fresh.refused(REAUTH, {"password": PASSWORD, "code": code}) == ["INVALID_CODE"]
    await fresh.ok(SET_EMAIL, {"enabled": False})


async def test_reauthentication_keeps_the_session_usable(tree, sign_in, http):
    person = tree["acme.owner"]
    client = await sign_in(person.email)
    fresh = await reauthenticated(client)
    assert (await fresh.data(VIEWER))["viewer"] == {"user": {"email": person.email}}
