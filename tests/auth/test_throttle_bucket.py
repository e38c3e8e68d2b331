"""A brute-force defence that does not lock out the innocent, over HTTP:

- parallel sign-ins with the right password all get in;
- the address limit is a token bucket that heals while the address keeps
  trying, only failures drain it, a right password never re-arms it;
- a browser that signed in before carries a signed device cookie that lets
  it into that account from a locked address, past the account's lock,
  while strangers stay throttled; the device's own failures lock it alone;
- `auth.login_throttled` names the account (its hashed email) and the
  address, and sign-in events show in the trail of each of the person's
  organisations.

Real time is stopped (`clock.advance` still moves it)."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest

from server.app import create_app
from server.audit.models import AuditEvent
from server.auth import throttle
from server.auth.models import LoginThrottle, Session
from server.auth.throttle import account_hash
from server.core import clock
from server.core.permissions import Role
from server.settings import get_settings
from tests.auth.factors import LOGIN, stop_real_time
from tests.auth.test_throttling import CLIENT_IP, INVALID, OTHER_IP, WRONG, login
from tests.helpers.audit import own_details
from tests.helpers.fixtures import ORIGIN, PASSWORD, GraphQLClient, add_person, gid

Browser = Callable[..., Awaitable[GraphQLClient]]
COOKIE_LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password, session: COOKIE}) {
    token errors { field code message } challenge { token } viewer { user { email } }
  }
}"""
AUDIT = """
query($org: ID!, $action: String) {
  auditEvents(organisationId: $org, action: $action) {
    nodes { action targetLabel clientIp details organisation { name } }
  }
}"""


@pytest.fixture(autouse=True)
def still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    stop_real_time(monkeypatch)


@pytest.fixture
async def browser(database: str) -> AsyncIterator[Browser]:
    """`await browser(ip)`: a client of its own (its own cookie jar) at an address."""
    opened: list[httpx.AsyncClient] = []

    async def open_browser(ip: str = CLIENT_IP) -> GraphQLClient:
        app = create_app(get_settings(), manage_database=False)
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        client = httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers={"origin": ORIGIN})
        opened.append(client)
        return GraphQLClient(client)

    yield open_browser
    for client in opened:
        await client.aclose()


async def drain_address(client: GraphQLClient) -> None:
    """Strangers' wrong passwords for unknown accounts until the address is locked."""
    for i in range(get_settings().throttle_address_attempts):
        assert await login(client, f"guess{i}@example.com", WRONG) == INVALID
    assert await login(client, "one.more@example.com", WRONG) == INVALID
    [row] = await LoginThrottle.filter(key=f"ip:{CLIENT_IP}")
    assert row.tokens is not None and row.tokens < 1


def refill() -> timedelta:
    return timedelta(seconds=get_settings().throttle_address_refill_seconds)


async def browser_sign_in(client: GraphQLClient, email: str) -> bool:
    """Sign in as the admin app does (a cookie session): True when signed in."""
    payload = (await client.data(COOKIE_LOGIN, {"email": email, "password": PASSWORD}))["login"]
    return payload["viewer"] is not None


def device_cookie(client: GraphQLClient) -> str | None:
    return client.http.cookies.get(get_settings().device_cookie_name)


# --- parallel sign-ins -------------------------------------------------------------------------


async def test_twenty_parallel_sign_ins_with_the_right_password_all_get_in(tree, browser):
    person = tree["acme.member"]
    integration = await browser(CLIENT_IP)
    answers = await asyncio.gather(*(login(integration, person.email) for _ in range(20)))
    assert [bool(a["token"]) for a in answers] == [True] * 20
    assert await Session.filter(user_id=person.user.id).count() == 20
    # Wrong passwords in parallel still meet the account's lock.
    answers = await asyncio.gather(*(login(integration, person.email, WRONG) for _ in range(20)))
    assert answers == [INVALID] * 20
    checked = await AuditEvent.filter(action="auth.login_failed").count()
    assert checked == get_settings().throttle_account_attempts


# --- the address bucket ------------------------------------------------------------------------


async def test_the_address_heals_while_the_attacker_keeps_trying(tree, browser):
    attacker, office = await browser(CLIENT_IP), await browser(CLIENT_IP)
    await drain_address(attacker)
    person = tree["acme.member"]
    assert await login(office, person.email) == INVALID  # a stranger here: throttled
    # The attacker goes on at one wrong password a minute (below the refill rate):
    # the bucket still fills up, and the office's right password gets in.
    per_minute = 60 / get_settings().throttle_address_refill_seconds
    minutes = math.ceil(2 / (per_minute - 1))  # two tokens ahead of the attacker
    for minute in range(minutes):
        clock.advance(timedelta(minutes=1))
        await login(attacker, f"later{minute}@example.com", WRONG)
    assert (await login(office, person.email))["token"]


async def test_a_right_password_neither_drains_nor_re_arms_the_address(tree, browser):
    settings = get_settings()
    attacker, office = await browser(CLIENT_IP), await browser(CLIENT_IP)
    for i in range(settings.throttle_address_attempts - 1):
        assert await login(attacker, f"guess{i}@example.com", WRONG) == INVALID
    # Ten right passwords from the same address cost nothing…
    people = [tree[f"{org}.{role}"] for org in ("acme", "globex") for role in ("owner", "admin")]
    for person in people * 3:
        assert (await login(office, person.email))["token"]
    # …so the last token is still there for a checked (wrong) password.
    await login(attacker, "last@example.com", WRONG)
    assert await AuditEvent.filter(action="auth.login_failed").count() == (
        settings.throttle_address_attempts
    )
    # Empty now: a right password is refused (the office browser has no device
    # cookie for this person), but it does not push the end of the lock.
    newcomer = tree["acme.member"]
    for _ in range(5):
        assert await login(office, newcomer.email) == INVALID
    clock.advance(refill())
    assert (await login(office, newcomer.email))["token"]


# --- device cookies ----------------------------------------------------------------------------


async def test_a_known_browser_gets_in_from_a_locked_address_strangers_do_not(tree, browser):
    person = tree["acme.member"]
    laptop, stranger, elsewhere = (
        await browser(CLIENT_IP),
        await browser(CLIENT_IP),
        await browser(OTHER_IP),
    )
    assert await browser_sign_in(laptop, person.email)
    cookie = device_cookie(laptop)
    assert cookie and "@" not in cookie and "acme" not in cookie
    # An attacker empties the office's address and locks the account from elsewhere.
    await drain_address(stranger)
    for _ in range(get_settings().throttle_account_attempts):
        assert await login(elsewhere, person.email, WRONG) == INVALID
    assert await login(elsewhere, person.email) == INVALID  # the account: locked
    assert await login(stranger, person.email) == INVALID  # the address: locked
    # The browser that signed in before gets in, with the same cookie kept.
    assert await browser_sign_in(laptop, person.email)
    assert device_cookie(laptop) == cookie
    # The cookie is for that account only, and cannot be forged.
    other = tree["acme.admin"]
    assert await login(laptop, other.email) == INVALID
    name = get_settings().device_cookie_name
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    for value in (forged, "garbage", "x" * 5000):
        stranger.http.cookies.set(name, value, domain="portal.example.test")
        assert await login(stranger, person.email) == INVALID


async def test_a_known_browsers_own_failures_lock_it_alone(tree, browser):
    person = tree["acme.member"]
    laptop, phone = await browser(CLIENT_IP), await browser(OTHER_IP)
    assert await browser_sign_in(laptop, person.email)
    for _ in range(get_settings().throttle_account_attempts):
        assert await login(laptop, person.email, WRONG) == INVALID
    assert await login(laptop, person.email) == INVALID  # the device: locked
    # Neither the account nor the address paid for it.
    assert (await login(phone, person.email))["token"]
    assert (await login(await browser(CLIENT_IP), tree["acme.admin"].email))["token"]


async def test_the_device_cookie_is_a_host_only_secure_http_only_cookie(tree, anonymous):
    person = tree["acme.member"]
    response = await anonymous.post(COOKIE_LOGIN, {"email": person.email, "password": PASSWORD})
    settings = get_settings()
    [cookie] = [
        c
        for c in response.headers.get_list("set-cookie")
        if c.startswith(settings.device_cookie_name + "=")
    ]
    assert settings.device_cookie_name.startswith("__Host-")
    for attribute in ("Secure", "HttpOnly", "SameSite=strict", "Path=/"):
        assert attribute.lower() in cookie.lower(), cookie
    assert "domain=" not in cookie.lower()
    age = int(re.search(r"Max-Age=(\d+)", cookie, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    assert age == settings.device_cookie_days * 86400
    # A wrong password gets none, nor does a client asking for a bearer token.
    for document, password in ((COOKIE_LOGIN, WRONG), (LOGIN, PASSWORD)):
        response = await anonymous.post(
            document, {"email": tree["acme.admin"].email, "password": password}
        )
        assert not response.headers.get_list("set-cookie")


# --- the audit trail ---------------------------------------------------------------------------


async def test_throttled_sign_ins_name_the_account_and_address_in_its_organisations(
    tree, browser, sign_in
):
    person = tree["acme.member"]
    await add_person(tree.reseller, person.email, Role.MEMBER)  # two organisations
    attacker = await browser(CLIENT_IP)
    for _ in range(get_settings().throttle_account_attempts + 1):
        await login(attacker, person.email, WRONG)
    await login(attacker, "nobody@acme.example.com", WRONG)  # unknown: free, not locked
    for org, owner in ((tree.acme, "acme.owner"), (tree.reseller, "reseller.owner")):
        trail = await (await sign_in(tree[owner].email)).data(
            AUDIT, {"org": gid("Organisation", org.id), "action": "auth."}
        )
        events = trail["auditEvents"]["nodes"]
        [throttled] = [e for e in events if e["action"] == "auth.login_throttled"]
        assert throttled["targetLabel"] == person.email
        assert throttled["clientIp"] == CLIENT_IP
        assert throttled["details"]["account"] == account_hash(person.email)
        assert throttled["details"]["address"] == CLIENT_IP
        assert throttled["details"]["lockedBy"] == "account"
        assert throttled["organisation"]["name"] == org.name
        failed = [e for e in events if e["action"] == "auth.login_failed"]
        assert len(failed) == get_settings().throttle_account_attempts
        # The owner's own sign-in is in their organisation's trail too.
        assert any(
            e["action"] == "auth.login" and e["targetLabel"] == tree[owner].email for e in events
        )
    # The unknown address's attempt is in nobody's trail; its hash names it.
    [unknown] = await AuditEvent.filter(action="auth.login_failed", organisation_id=None)
    assert unknown.details["account"] == account_hash("nobody@acme.example.com")


async def test_throttled_attempts_on_an_unknown_account_carry_its_hash(tree, browser):
    attacker = await browser(CLIENT_IP)
    for _ in range(get_settings().throttle_account_attempts + 1):
        await login(attacker, "Nobody@Example.com ", WRONG)
    [throttled] = await AuditEvent.filter(action="auth.login_throttled")
    assert throttled.organisation_id is None and throttled.subject_user_id is None
    assert own_details(throttled.details) == {
        "account": account_hash("nobody@example.com"),
        "address": CLIENT_IP,
        "lockedBy": "account",
    }


async def test_the_refill_rate_is_a_setting(tree, browser, monkeypatch):
    slow = dataclasses.replace(get_settings(), throttle_address_refill_seconds=600.0)
    monkeypatch.setattr(throttle, "get_settings", lambda: slow)
    attacker, office = await browser(CLIENT_IP), await browser(CLIENT_IP)
    await drain_address(attacker)
    person = tree["acme.member"]
    clock.advance(timedelta(seconds=get_settings().throttle_address_refill_seconds))
    assert await login(office, person.email) == INVALID  # the default's time is not enough
    clock.advance(timedelta(seconds=600))
    assert (await login(office, person.email))["token"]
