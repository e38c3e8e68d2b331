"""Signing in and out, sessions and their timeouts, the forgotten-password
reset by mail, the audit of log-ins, and argon2id password storage."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import argon2

from server.accounts.models import User, UserStatus
from server.audit.models import AuditEvent
from server.auth.models import PasswordReset, Session
from server.auth.throttle import account_hash
from server.core import clock
from server.settings import get_settings
from tests.helpers.audit import own_details
from tests.helpers.fixtures import LOGIN, ORIGIN, PASSWORD, GraphQLClient
from tests.helpers.smtp import links_in

CLIENT_IP = "203.0.113.7"
NEW_PASSWORD = "a brand new passphrase"
WRONG_PASSWORD = "wrong horse battery staple"
VIEWER = "{ viewer { user { email } } }"
LOGOUT = "mutation { logout { ok errors { code } } }"
REQUEST_RESET = """
mutation($email: String!) {
  requestPasswordReset(input: {email: $email}) { ok errors { field code message } }
}"""
RESET = """
mutation($token: String!, $password: String!) {
  resetPassword(input: {token: $token, newPassword: $password}) {
    ok errors { field code message }
  }
}"""


async def login(client: GraphQLClient, email: str, password: str = PASSWORD) -> dict:
    return (await client.data(LOGIN, {"email": email, "password": password}))["login"]


async def viewer_email(client: GraphQLClient) -> str | None:
    viewer = (await client.data(VIEWER))["viewer"]
    return viewer["user"]["email"] if viewer else None


async def reset_token(smtp_server, email: str) -> str:
    """The token of the one reset mail just queued for `email`, read from its link."""
    [message] = await smtp_server.deliver()
    assert message["To"] == email
    [link] = [link for link in links_in(message) if "reset-password" in link]
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == ORIGIN
    assert parts.path == "/admin/reset-password"
    # In the fragment: never sent to a server, never in logs or Referer headers.
    assert parts.query == ""
    assert parts.fragment.startswith("token=")
    [token] = parse_qs(parts.fragment)["token"]
    return token


async def assert_no_secrets_in_audit(*secrets: str) -> None:
    events = await AuditEvent.all()
    assert events
    for event in events:
        texts = [
            event.action,
            event.actor_label,
            event.target_type,
            event.target_label,
            event.client_ip,
            event.request_id,
            json.dumps(event.details),
        ]
        for secret in secrets:
            assert all(secret not in text for text in texts), (event.action, texts)


# --- log-in and log-out ----------------------------------------------------------------------


async def test_login_token_works_as_bearer(tree, anonymous, http):
    email = tree["acme.member"].email
    payload = await login(anonymous, email)
    assert payload["errors"] == []
    assert payload["token"] and payload["viewer"] == {"user": {"email": email}}
    assert await viewer_email(GraphQLClient(http, payload["token"])) == email
    assert await viewer_email(anonymous) is None
    assert await viewer_email(GraphQLClient(http, payload["token"] + "x")) is None
    # The email is the log-in name whatever its case and surrounding spaces.
    again = await login(anonymous, f"  {email.upper()} ")
    assert again["errors"] == [] and again["token"] != payload["token"]


async def test_wrong_unknown_and_disabled_get_the_same_error(tree, anonymous):
    disabled = tree["globex.member"]
    await User.filter(id=disabled.user.id).update(status=UserStatus.DISABLED)
    attempts = {
        "wrong password": (tree["acme.member"].email, WRONG_PASSWORD),
        "unknown email": ("nobody@acme.example.com", PASSWORD),
        "malformed email": ("not an email", PASSWORD),
        "disabled user": (disabled.email, PASSWORD),
    }
    payloads = {name: await login(anonymous, *attempt) for name, attempt in attempts.items()}
    expected = {
        "token": None,
        "viewer": None,
        "errors": [
            {
                "field": None,
                "code": "INVALID_CREDENTIALS",
                "message": "Email or password is incorrect.",
            }
        ],
    }
    assert payloads == dict.fromkeys(attempts, expected)
    assert not await Session.exists()


async def test_logout_ends_this_session_only(tree, sign_in, anonymous):
    email = tree["acme.member"].email
    this_device = await sign_in(email)
    other_device = await sign_in(email)
    assert (await this_device.ok(LOGOUT))["ok"] is True
    assert await viewer_email(this_device) is None
    assert await this_device.error_code(LOGOUT) == "UNAUTHENTICATED"
    assert await viewer_email(other_device) == email
    assert await Session.filter(user_id=tree["acme.member"].user.id).count() == 1
    assert await AuditEvent.filter(action="auth.logout", actor_id=tree["acme.member"].user.id)
    assert await anonymous.error_code(LOGOUT) == "UNAUTHENTICATED"


# --- the forgotten password ------------------------------------------------------------------


async def test_reset_request_answers_the_same_for_unknown_emails(tree, anonymous, smtp_server):
    known = tree["acme.member"].email
    disabled = tree["globex.member"]
    await User.filter(id=disabled.user.id).update(status=UserStatus.DISABLED)
    known_answer = await anonymous(REQUEST_RESET, {"email": known})
    unknown_answer = await anonymous(REQUEST_RESET, {"email": "nobody@acme.example.com"})
    disabled_answer = await anonymous(REQUEST_RESET, {"email": disabled.email})
    assert known_answer == unknown_answer == disabled_answer
    assert known_answer == {"data": {"requestPasswordReset": {"ok": True, "errors": []}}}
    # Only the known (active) address gets a mail.
    [message] = await smtp_server.deliver()
    assert message["To"] == known
    assert await PasswordReset.filter(user_id=tree["acme.member"].user.id).count() == 1
    assert await PasswordReset.all().count() == 1


async def test_reset_link_sets_the_password_and_ends_every_session(
    tree, anonymous, sign_in, smtp_server
):
    person = tree["acme.member"]
    phone = await sign_in(person.email)
    laptop = await sign_in(person.email)
    await anonymous.ok(REQUEST_RESET, {"email": person.email})
    token = await reset_token(smtp_server, person.email)

    assert (await anonymous.ok(RESET, {"token": token, "password": NEW_PASSWORD}))["ok"] is True
    assert await viewer_email(phone) is None
    assert await viewer_email(laptop) is None
    assert not await Session.filter(user_id=person.user.id).exists()
    assert (await login(anonymous, person.email))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    new = await login(anonymous, person.email, NEW_PASSWORD)
    assert new["errors"] == [] and new["token"]
    stored = (await User.get(id=person.user.id)).password_hash
    assert stored.startswith("$argon2id$") and NEW_PASSWORD not in stored
    # A notice goes to the owner of the account.
    [notice] = await smtp_server.deliver()
    assert notice["To"] == person.email and "changed" in notice["Subject"]

    # Single use.
    again = await anonymous.refused(RESET, {"token": token, "password": "yet another passphrase"})
    assert again == ["TOKEN_INVALID"]
    assert (await login(anonymous, person.email, NEW_PASSWORD))["token"]
    await assert_no_secrets_in_audit(token, NEW_PASSWORD, PASSWORD)


async def test_concurrent_uses_of_one_reset_link_let_one_win(tree, anonymous, smtp_server):
    email = tree["acme.member"].email
    await anonymous.ok(REQUEST_RESET, {"email": email})
    token = await reset_token(smtp_server, email)
    candidates = ["first new passphrase", "second new passphrase"]
    answers = await asyncio.gather(
        *(anonymous.data(RESET, {"token": token, "password": p}) for p in candidates)
    )
    outcomes = [answer["resetPassword"] for answer in answers]
    winners = [p for p, outcome in zip(candidates, outcomes, strict=True) if outcome["ok"]]
    losers = [outcome["errors"] for outcome in outcomes if not outcome["ok"]]
    assert len(winners) == 1 and [[e["code"] for e in errs] for errs in losers] == [
        ["TOKEN_INVALID"]
    ], outcomes
    [loser] = [p for p in candidates if p not in winners]
    assert (await login(anonymous, email, winners[0]))["token"]
    assert (await login(anonymous, email, loser))["token"] is None


async def test_an_older_reset_link_dies_when_a_newer_one_is_requested(tree, anonymous, smtp_server):
    email = tree["acme.member"].email
    await anonymous.ok(REQUEST_RESET, {"email": email})
    older = await reset_token(smtp_server, email)
    await anonymous.ok(REQUEST_RESET, {"email": email})
    newer = await reset_token(smtp_server, email)
    assert older != newer
    assert await anonymous.refused(RESET, {"token": older, "password": NEW_PASSWORD}) == [
        "TOKEN_INVALID"
    ]
    assert (await login(anonymous, email))["token"]  # nothing changed
    await anonymous.ok(RESET, {"token": newer, "password": NEW_PASSWORD})
    assert (await login(anonymous, email, NEW_PASSWORD))["token"]


async def test_an_expired_reset_link_is_refused(tree, anonymous, smtp_server):
    email = tree["acme.member"].email
    await anonymous.ok(REQUEST_RESET, {"email": email})
    token = await reset_token(smtp_server, email)
    assert get_settings().password_reset_minutes == 30
    clock.advance(timedelta(minutes=31))
    refused = await anonymous.refused(RESET, {"token": token, "password": NEW_PASSWORD})
    assert refused == ["TOKEN_INVALID"]
    assert (await login(anonymous, email))["token"]
    assert (await login(anonymous, email, NEW_PASSWORD))["token"] is None


async def test_a_reset_link_works_until_it_expires(tree, anonymous, smtp_server):
    email = tree["acme.member"].email
    await anonymous.ok(REQUEST_RESET, {"email": email})
    token = await reset_token(smtp_server, email)
    clock.advance(timedelta(minutes=29))
    await anonymous.ok(RESET, {"token": token, "password": NEW_PASSWORD})
    assert (await login(anonymous, email, NEW_PASSWORD))["token"]


# --- session timeouts ------------------------------------------------------------------------


async def test_a_session_expires_after_the_idle_timeout(tree, sign_in):
    email = tree["acme.member"].email
    client = await sign_in(email)
    assert get_settings().session_idle_minutes == 60
    clock.advance(timedelta(minutes=59))
    assert await viewer_email(client) == email  # used: the idle clock restarts
    clock.advance(timedelta(minutes=59))
    assert await viewer_email(client) == email
    clock.advance(timedelta(minutes=61))
    assert await viewer_email(client) is None
    assert not await Session.filter(user_id=tree["acme.member"].user.id).exists()
    # Moving the clock back does not revive it.
    clock.reset()
    assert await viewer_email(client) is None


async def test_a_session_expires_after_the_absolute_timeout_even_when_used(tree, sign_in):
    email = tree["acme.member"].email
    client = await sign_in(email)
    absolute = timedelta(hours=get_settings().session_absolute_hours)
    assert absolute == timedelta(hours=12)
    elapsed = timedelta(0)
    step = timedelta(minutes=50)
    while elapsed < absolute:
        clock.advance(step)
        elapsed += step
        alive = await viewer_email(client)
        if elapsed < absolute:
            assert alive == email, elapsed
        else:
            assert alive is None, elapsed
    assert elapsed < absolute + step


# --- audit -----------------------------------------------------------------------------------


async def test_logins_are_audited_without_secrets(tree, anonymous):
    person = tree["acme.member"]
    await login(anonymous, person.email, WRONG_PASSWORD)
    await login(anonymous, "nobody@acme.example.com", PASSWORD)
    payload = await login(anonymous, person.email)
    token = payload["token"]
    assert token

    [success] = await AuditEvent.filter(action="auth.login")
    assert success.actor_id == person.user.id and success.actor_label == person.email
    assert success.client_ip == CLIENT_IP and success.request_id

    failures = await AuditEvent.filter(action="auth.login_failed").order_by("id")
    assert [f.actor_id for f in failures] == [person.user.id, None]
    assert all(f.client_ip == CLIENT_IP and f.request_id for f in failures)
    # The account tried is named by its hashed email, known or not.
    hashes = [account_hash(e) for e in (person.email, "nobody@acme.example.com")]
    assert [own_details(f.details) for f in failures] == [
        {"reason": "credentials", "account": h} for h in hashes
    ]
    assert [f.organisation_id for f in failures] == [tree.acme.id, None]

    await assert_no_secrets_in_audit(PASSWORD, WRONG_PASSWORD, token)


# --- password storage ------------------------------------------------------------------------


async def test_passwords_are_stored_with_argon2id(tree, sign_in):
    person = tree["acme.member"]
    await sign_in(person.email)
    stored = (await User.get(id=person.user.id)).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_login_rehashes_when_the_parameters_change(tree, anonymous):
    person = tree["acme.member"]
    weaker = argon2.PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
    old_hash = weaker.hash(PASSWORD)
    await User.filter(id=person.user.id).update(password_hash=old_hash)

    # A failed log-in leaves the hash alone.
    assert (await login(anonymous, person.email, WRONG_PASSWORD))["token"] is None
    assert (await User.get(id=person.user.id)).password_hash == old_hash

    assert (await login(anonymous, person.email))["token"]
    new_hash = (await User.get(id=person.user.id)).password_hash
    assert new_hash != old_hash and new_hash.startswith("$argon2id$")
    assert argon2.PasswordHasher().verify(new_hash, PASSWORD)
    settings = get_settings()
    parameters = argon2.extract_parameters(new_hash)
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        settings.argon2_time_cost,
        settings.argon2_memory_kib,
        settings.argon2_parallelism,
    )
    # Current parameters: the next log-in does not rehash again.
    assert (await login(anonymous, person.email))["token"]
    assert (await User.get(id=person.user.id)).password_hash == new_hash
