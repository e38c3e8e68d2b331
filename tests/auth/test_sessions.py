"""The viewer's sessions: listing, revoking one or all others, idle and
absolute timeouts, and a password change killing open reset links."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.audit.models import AuditEvent
from server.auth.models import Session
from server.core import clock
from server.settings import get_settings
from tests.auth.factors import LOGIN, stop_real_time, viewer_email
from tests.helpers.fixtures import PASSWORD, GraphQLClient, gid
from tests.helpers.smtp import links_in

CLIENT_IP = "203.0.113.7"
NEW_PASSWORD = "a brand new passphrase"
SESSIONS = """
{ sessions { id current clientIp userAgent createdAt lastSeenAt authenticatedAt expiresAt } }"""
REVOKE = """
mutation($id: ID!) { revokeSession(input: {sessionId: $id}) { ok errors { field code message } } }"""
REVOKE_OTHERS = "mutation { revokeOtherSessions { ok errors { code } } }"
CHANGE_PASSWORD = """
mutation($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    token errors { field code } viewer { user { email } }
  }
}"""
REQUEST_RESET = """
mutation($email: String!) { requestPasswordReset(input: {email: $email}) { ok errors { code } } }"""
RESET = """
mutation($token: String!, $password: String!) {
  resetPassword(input: {token: $token, newPassword: $password}) { ok errors { field code } }
}"""


@pytest.fixture(autouse=True)
def still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    stop_real_time(monkeypatch)


async def sign_in_as(http, email: str, user_agent: str) -> GraphQLClient:  # type: ignore[no-untyped-def]
    response = await GraphQLClient(http).post(
        LOGIN, {"email": email, "password": PASSWORD}, **{"user-agent": user_agent}
    )
    token = response.json()["data"]["login"]["token"]
    assert token, response.text
    return GraphQLClient(http, token)


async def sessions_of(client: GraphQLClient) -> list[dict]:
    return (await client.data(SESSIONS))["sessions"]


async def test_sessions_lists_the_viewers_own_sessions(tree, http, sign_in):
    email = tree["acme.member"].email
    phone = await sign_in_as(http, email, "Phone/1.0")
    clock.advance(timedelta(minutes=2))
    laptop = await sign_in_as(http, email, "Laptop/2.0")
    await sign_in(tree["acme.admin"].email)  # someone else's

    listed = await sessions_of(laptop)
    assert [(s["userAgent"], s["current"]) for s in listed] == [
        ("Laptop/2.0", True),
        ("Phone/1.0", False),
    ]
    assert {s["clientIp"] for s in listed} == {CLIENT_IP}
    ids = {s.id for s in await Session.filter(user_id=tree["acme.member"].user.id)}
    assert {s["id"] for s in listed} == {gid("Session", pk) for pk in ids}
    hours = get_settings().session_absolute_hours
    for session in listed:
        assert session["createdAt"] == session["lastSeenAt"] == session["authenticatedAt"]
    assert [s["current"] for s in await sessions_of(phone)] == [False, True]
    # Signed out, nothing to list.
    assert await GraphQLClient(http).error_code(SESSIONS) == "UNAUTHENTICATED"
    newest = await Session.filter(user_id=tree["acme.member"].user.id).order_by("-id").first()
    assert newest is not None
    assert newest.expires_at - newest.created_at == timedelta(hours=hours)


async def test_revoking_one_of_ones_sessions_ends_it(tree, http):
    email = tree["acme.member"].email
    phone = await sign_in_as(http, email, "Phone/1.0")
    laptop = await sign_in_as(http, email, "Laptop/2.0")
    [phone_session] = [s for s in await sessions_of(laptop) if not s["current"]]
    assert (await laptop.ok(REVOKE, {"id": phone_session["id"]}))["ok"] is True
    assert await viewer_email(phone) is None
    assert await viewer_email(laptop) == email
    assert [s["userAgent"] for s in await sessions_of(laptop)] == ["Laptop/2.0"]
    assert await AuditEvent.filter(action="auth.session_revoked").count() == 1
    # Gone now: a second revocation finds nothing.
    assert await laptop.refused(REVOKE, {"id": phone_session["id"]}) == ["NOT_FOUND"]


async def test_someone_elses_session_cannot_be_revoked(tree, http):
    mine = await sign_in_as(http, tree["acme.owner"].email, "Owner/1.0")
    theirs = await sign_in_as(http, tree["acme.member"].email, "Member/1.0")
    [their_session] = await sessions_of(theirs)
    answer = (await mine.data(REVOKE, {"id": their_session["id"]}))["revokeSession"]
    missing = (await mine.data(REVOKE, {"id": gid("Session", 999_999)}))["revokeSession"]
    assert answer == missing
    assert answer["ok"] is False and [e["code"] for e in answer["errors"]] == ["NOT_FOUND"]
    assert await viewer_email(theirs) == tree["acme.member"].email
    # Another type's id, or rubbish, is not found either.
    membership = tree["acme.member"].membership_id
    assert await mine.refused(REVOKE, {"id": membership}) == ["NOT_FOUND"]
    assert await mine.refused(REVOKE, {"id": "rubbish"}) == ["NOT_FOUND"]
    assert await Session.all().count() == 2


async def test_revoking_the_other_sessions_keeps_only_this_one(tree, http, sign_in):
    email = tree["acme.member"].email
    others = [await sign_in_as(http, email, f"Device/{i}") for i in range(3)]
    keeper = await sign_in_as(http, email, "Keeper/1.0")
    bystander = await sign_in(tree["acme.admin"].email)
    assert (await keeper.ok(REVOKE_OTHERS))["ok"] is True
    for other in others:
        assert await viewer_email(other) is None
    assert [s["userAgent"] for s in await sessions_of(keeper)] == ["Keeper/1.0"]
    assert await viewer_email(bystander) == tree["acme.admin"].email


async def test_a_session_ends_after_an_hour_unused(tree, http):
    email = tree["acme.member"].email
    used = await sign_in_as(http, email, "Used/1.0")
    idle = await sign_in_as(http, email, "Idle/1.0")
    assert get_settings().session_idle_minutes == 60
    clock.advance(timedelta(minutes=59))
    assert await viewer_email(used) == email
    clock.advance(timedelta(minutes=2))
    assert await viewer_email(idle) is None
    assert await viewer_email(used) == email
    assert [s["userAgent"] for s in await sessions_of(used)] == ["Used/1.0"]


async def test_timed_out_sessions_are_not_listed(tree, http):
    email = tree["acme.member"].email
    used = await sign_in_as(http, email, "Used/1.0")
    await sign_in_as(http, email, "Idle/1.0")
    clock.advance(timedelta(minutes=59))
    assert await viewer_email(used) == email  # keeps this one alive
    clock.advance(timedelta(minutes=2))
    assert [s["userAgent"] for s in await sessions_of(used)] == ["Used/1.0"]


async def test_a_session_ends_at_the_absolute_timeout_however_busy(tree, http):
    email = tree["acme.member"].email
    client = await sign_in_as(http, email, "Busy/1.0")
    hours = get_settings().session_absolute_hours
    elapsed = timedelta(0)
    while elapsed < timedelta(hours=hours) - timedelta(minutes=50):
        clock.advance(timedelta(minutes=50))
        elapsed += timedelta(minutes=50)
        assert await viewer_email(client) == email, elapsed
    clock.advance(timedelta(hours=hours) - elapsed - timedelta(seconds=1))
    assert await viewer_email(client) == email
    clock.advance(timedelta(seconds=1))
    assert await viewer_email(client) is None
    assert not await Session.exists()


async def test_a_password_change_kills_open_reset_links(tree, http, anonymous, smtp_server):
    person = tree["acme.member"]
    client = await sign_in_as(http, person.email, "Laptop/1.0")
    other = await sign_in_as(http, person.email, "Phone/1.0")
    await anonymous.ok(REQUEST_RESET, {"email": person.email})
    [message] = await smtp_server.deliver()
    [link] = [link for link in links_in(message) if "reset-password" in link]
    token = link.split("#token=", 1)[1]

    payload = await client.ok(CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD})
    assert payload["viewer"] == {"user": {"email": person.email}}
    assert await viewer_email(other) is None
    assert await viewer_email(client) is None  # this session goes on under a new token
    assert await viewer_email(GraphQLClient(http, payload["token"])) == person.email
    refused = await anonymous.refused(RESET, {"token": token, "password": "a third passphrase"})
    assert refused == ["TOKEN_INVALID"]
    assert (await anonymous.data(LOGIN, {"email": person.email, "password": NEW_PASSWORD}))[
        "login"
    ]["token"]
