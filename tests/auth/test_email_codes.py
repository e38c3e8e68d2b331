"""Second factors over HTTP: emailed codes (expiry, tries, only the latest,
bound to the challenge).

The real clock is stopped at the start of a TOTP step for every test
(`clock.advance` still moves it), so steps and throttle locks cannot shift
while a test runs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.audit.models import AuditEvent
from server.auth.models import LoginChallenge, Session
from server.core import clock
from tests.auth.factors import (
    SEND_EMAIL,
    SET_EMAIL,
    STEP,
    challenge_for,
    code_at,
    email_codes,
    enable_email_codes,
    enrol_totp,
    login,
    relax_throttle,
    security_notices,
    still_clock,  # noqa: F401 - autouse: stops the clock here
    verify,
    viewer_email,
)
from tests.helpers.fixtures import GraphQLClient

# --- codes by email ----------------------------------------------------------------------


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
