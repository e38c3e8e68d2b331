"""Second-factor limits over HTTP: recovery codes of at least 112 bits (ASVS
6.5.2), while codes made before keep working until used or replaced; a
sign-in challenge that dies after 5 wrong codes, even when they come in
parallel, so the person starts again with the password."""

from __future__ import annotations

import asyncio
import hashlib
import math
from datetime import timedelta

import pytest

from server.auth.models import LoginChallenge, RecoveryCode, Session
from server.auth.two_factor import CHALLENGE_CODE_TRIES
from server.core import clock
from tests.auth.factors import (
    REGENERATE,
    STEP,
    TWO_FACTOR,
    VERIFY,
    challenge_for,
    code_at,
    enrol_totp,
    relax_throttle,
    stop_real_time,
    verify,
    wrong_code,
)
from tests.helpers.fixtures import GraphQLClient

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@pytest.fixture(autouse=True)
def still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    stop_real_time(monkeypatch)


def bits(code: str) -> float:
    """Entropy of a code drawn uniformly from ALPHABET, separators aside."""
    characters = code.replace("-", "")
    assert set(characters) <= set(ALPHABET), code
    return len(characters) * math.log2(len(ALPHABET))


async def test_recovery_codes_carry_at_least_112_bits(tree, sign_in, http):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    _, codes = await enrol_totp(client)
    regenerated = (await client.ok(REGENERATE))["recoveryCodes"]
    for batch in (codes, regenerated):
        assert len(set(batch)) == 10
        assert min(bits(code) for code in batch) >= 112, batch
    # Stored hashed: no code, with or without its dashes, is in the table.
    stored = " ".join(await RecoveryCode.all().values_list("code_hash", flat=True))
    assert not any(c in stored or c.replace("-", "") in stored for c in regenerated)
    # Typed without dashes, in capitals, with spaces: it works, once.
    anonymous = GraphQLClient(http)
    typed = f"  {regenerated[0].replace('-', '').upper()} "
    assert (await verify(anonymous, await challenge_for(anonymous, person.email), typed))["token"]
    again = await verify(anonymous, await challenge_for(anonymous, person.email), regenerated[0])
    assert [e["code"] for e in again["errors"]] == ["INVALID_CODE"]


async def test_recovery_codes_made_before_keep_working_until_replaced(tree, sign_in, http):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    await enrol_totp(client)
    # Two codes as the previous version made and stored them (unsalted SHA-256).
    old = ["abcde-fghjk", "mnpqr-stuvw"]
    await RecoveryCode.filter(user_id=person.user.id).delete()
    await RecoveryCode.bulk_create(
        [
            RecoveryCode(
                user_id=person.user.id,
                code_hash=hashlib.sha256(code.encode()).hexdigest(),
                created_at=clock.now(),
            )
            for code in old
        ]
    )
    anonymous = GraphQLClient(http)
    assert (await verify(anonymous, await challenge_for(anonymous, person.email), old[0]))["token"]
    # Without its dash too.
    assert (await verify(anonymous, await challenge_for(anonymous, person.email), "MNPQRSTUVW"))[
        "token"
    ]
    assert (await client.data(TWO_FACTOR))["viewer"]["twoFactor"]["recoveryCodesLeft"] == 0
    await RecoveryCode.filter(user_id=person.user.id).update(used_at=None)
    await client.ok(REGENERATE)  # replaced: the old ones stop working
    refused = await verify(anonymous, await challenge_for(anonymous, person.email), old[1])
    assert [e["code"] for e in refused["errors"]] == ["INVALID_CODE"]


async def test_a_challenge_dies_after_five_wrong_codes(tree, sign_in, anonymous):
    person = tree["acme.member"]
    secret, recovery = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    sessions = await Session.filter(user_id=person.user.id).count()
    challenge = await challenge_for(anonymous, person.email)
    wrong = [wrong_code(secret), "zzzzzz-zzzzzz-zzzzzz-zzzzzz", "12345", wrong_code(secret)]
    for code in wrong:  # app codes, a recovery code, nonsense: all count
        refused = await verify(anonymous, challenge, code)
        assert [e["code"] for e in refused["errors"]] == ["INVALID_CODE"]
    fifth = await verify(anonymous, challenge, wrong_code(secret))
    assert fifth["token"] is None
    [error] = fifth["errors"]
    assert (error["code"], error["field"]) == ("CHALLENGE_INVALID", "challenge")
    assert "sign in again" in error["message"]
    # Dead: neither the app's code nor a recovery code opens it now.
    for code in (code_at(secret), recovery[0]):
        late = await verify(anonymous, challenge, code)
        assert [e["code"] for e in late["errors"]] == ["CHALLENGE_INVALID"]
    assert await Session.filter(user_id=person.user.id).count() == sessions
    assert await RecoveryCode.filter(user_id=person.user.id, used_at=None).count() == 10
    # Starting again with the password works (once the code lock is over).
    clock.advance(timedelta(seconds=STEP))
    fresh = await challenge_for(anonymous, person.email)
    assert (await verify(anonymous, fresh, code_at(secret)))["token"]


async def test_parallel_wrong_codes_get_five_between_them(tree, sign_in, http, monkeypatch):
    relax_throttle(monkeypatch)  # what is raced is the challenge's count, not the throttle
    person = tree["acme.member"]
    secret, _ = await enrol_totp(await sign_in(person.email))
    clock.advance(timedelta(seconds=STEP))
    anonymous = GraphQLClient(http)
    challenge = await challenge_for(anonymous, person.email)
    wrong = wrong_code(secret)
    answers = await asyncio.gather(
        *(verify(GraphQLClient(http), challenge, wrong) for _ in range(20))
    )
    codes = [e["code"] for answer in answers for e in answer["errors"]]
    assert len(codes) == 20 and set(codes) <= {"INVALID_CODE", "CHALLENGE_INVALID"}
    assert codes.count("INVALID_CODE") <= CHALLENGE_CODE_TRIES - 1
    [row] = await LoginChallenge.filter(user_id=person.user.id)
    assert row.failed_codes == CHALLENGE_CODE_TRIES
    late = await verify(anonymous, challenge, code_at(secret))
    assert [e["code"] for e in late["errors"]] == ["CHALLENGE_INVALID"]


async def test_verify_answers_an_unknown_challenge_clearly(anonymous):
    refused = await anonymous.data(VERIFY, {"challenge": "fdc_nonsense", "code": "123456"})
    [error] = refused["verifyTwoFactor"]["errors"]
    assert (error["code"], error["field"]) == ("CHALLENGE_INVALID", "challenge")
