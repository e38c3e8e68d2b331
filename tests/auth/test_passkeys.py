"""Passkeys over HTTP with real WebAuthn answers (tests/helpers/passkeys.py: an
EC P-256 key, 'none' attestation), checked by the server with the `webauthn`
library: registering, naming and removing them, signing in without a
password, the second step of a log-in, step-up, the organisation's policy,
an administrator's reset — and bad answers that change nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import ec

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.auth.models import Passkey, PasskeyChallenge, Session
from server.core import clock
from server.settings import get_settings
from tests.auth.factors import (
    RESET_TWO_FACTOR,
    STEP,
    challenge_for,
    code_at,
    enrol_totp,
    login,
    organisations_of,
    relax_throttle,
    security_notices,
    sign_in_with_code,
    viewer_email,
)
from tests.helpers.fixtures import GraphQLClient, gid
from tests.helpers.passkeys import SoftPasskey, b64

BEGIN_REGISTRATION = "mutation { beginPasskeyRegistration { options errors { code field } } }"
FINISH_REGISTRATION = """
mutation($response: String!, $name: String) {
  finishPasskeyRegistration(input: {response: $response, name: $name}) {
    passkey { id name createdAt lastUsedAt transports } errors { code field message }
  }
}"""
PASSKEYS = "{ passkeys { id name lastUsedAt transports } }"
RENAME = """
mutation($id: ID!, $name: String!) {
  renamePasskey(input: {passkeyId: $id, name: $name}) { passkey { id name } errors { code field } }
}"""
REMOVE = """
mutation($id: ID!) { removePasskey(input: {passkeyId: $id}) { errors { code field } } }"""
BEGIN_SIGN_IN = "mutation { beginPasskeySignIn { options errors { code } } }"
SIGN_IN = """
mutation($response: String!) {
  signInWithPasskey(input: {response: $response}) {
    token errors { code field message } viewer { user { email } }
  }
}"""
BEGIN_TWO_FACTOR = """
mutation($challenge: String!) {
  beginPasskeyTwoFactor(input: {challenge: $challenge}) { options errors { code field } }
}"""
VERIFY_PASSKEY = """
mutation($challenge: String!, $response: String!) {
  verifyTwoFactorPasskey(input: {challenge: $challenge, response: $response}) {
    token errors { code field message } viewer { user { email } }
  }
}"""
BEGIN_REAUTH = "mutation { beginPasskeyReauthentication { options errors { code } } }"
REAUTH = """
mutation($response: String!) {
  reauthenticateWithPasskey(input: {response: $response}) { token errors { code field } }
}"""
METHODS = "{ viewer { twoFactor { methods } user { twoFactorEnabled } } }"
POLICY = """
mutation($id: ID!, $on: Boolean!) {
  updateOrganisation(input: {organisationId: $id, requirePasskeysForAdmins: $on}) {
    organisation { requirePasskeysForAdmins } errors { code }
  }
}"""


def new_passkey() -> SoftPasskey:
    settings = get_settings()
    return SoftPasskey(origin=settings.passkey_origin, rp_id=settings.passkey_rp_id)


async def register(client: GraphQLClient, passkey: SoftPasskey, name: str | None = None) -> dict:
    options = (await client.ok(BEGIN_REGISTRATION))["options"]
    payload = await client.ok(
        FINISH_REGISTRATION, {"response": passkey.register(options), "name": name}
    )
    return payload["passkey"]


async def sign_in_with(client: GraphQLClient, passkey: SoftPasskey, **answer) -> dict:  # type: ignore[no-untyped-def]
    options = (await client.ok(BEGIN_SIGN_IN))["options"]
    return (await client.data(SIGN_IN, {"response": passkey.assertion(options, **answer)}))[
        "signInWithPasskey"
    ]


async def snapshot() -> tuple[list[dict], int, int]:
    """The passkeys, the sessions and the challenges: what a refused answer must leave."""
    rows = await Passkey.all().order_by("id").values()
    return rows, await Session.all().count(), await PasskeyChallenge.all().count()


# --- registering and the list -------------------------------------------------------------


async def test_registering_a_passkey_lists_it_named_and_makes_it_a_second_factor(
    tree, sign_in, smtp_server
):
    email = tree["acme.member"].email
    client = await sign_in(email)
    options = json.loads((await client.ok(BEGIN_REGISTRATION))["options"])
    settings = get_settings()
    assert options["rp"]["id"] == settings.passkey_rp_id == "portal.example.test"
    assert options["user"]["name"] == email
    assert options["attestation"] == "none"
    passkey = new_passkey()
    added = await register(client, passkey, "  Laptop  ")
    assert added["name"] == "Laptop" and added["lastUsedAt"] is None
    assert added["transports"] == ["internal"]
    second = await register(client, new_passkey())
    assert second["name"] == "Passkey 2"
    assert [p["name"] for p in (await client.data(PASSKEYS))["passkeys"]] == ["Laptop", "Passkey 2"]
    data = (await client.data(METHODS))["viewer"]
    assert data["twoFactor"]["methods"] == ["PASSKEY"] and data["user"]["twoFactorEnabled"]
    row = await Passkey.get(name="Laptop")
    assert row.credential_id == b64(passkey.credential_id)
    assert (await User.get(email=email)).passkey_count == 2
    # The second registration excluded the first passkey.
    options = json.loads((await client.ok(BEGIN_REGISTRATION))["options"])
    assert len(options["excludeCredentials"]) == 2
    events = await AuditEvent.filter(action="passkey.added").count()
    assert events == 2
    notices = await security_notices(smtp_server, email)
    assert len(notices) == 2 and all("passkey was added" in n for n in notices)


async def test_a_bad_registration_changes_nothing(tree, sign_in):
    client = await sign_in(tree["acme.member"].email)
    passkey = new_passkey()
    settings = get_settings()
    cases = {
        "wrong origin": lambda o: passkey.register(o, origin="https://evil.example.test"),
        "wrong relying party": lambda o: passkey.register(o, rp_id="evil.example.test"),
        "wrong challenge": lambda o: passkey.register(
            json.dumps({**json.loads(o), "challenge": b64(b"x" * 32)})
        ),
        "not JSON": lambda o: "{nope",
        "not a credential": lambda o: json.dumps({"id": "AAAA", "response": {}}),
    }
    for label, answer in cases.items():
        options = (await client.ok(BEGIN_REGISTRATION))["options"]
        before = await Passkey.all().count()
        errors = (await client.data(FINISH_REGISTRATION, {"response": answer(options)}))[
            "finishPasskeyRegistration"
        ]["errors"]
        assert errors and errors[0]["field"] == "response", label
        assert await Passkey.all().count() == before == 0, label
    assert settings.passkey_origin == "https://portal.example.test"
    # A good answer, once; the same answer again (its challenge used up) is refused.
    options = (await client.ok(BEGIN_REGISTRATION))["options"]
    response = passkey.register(options)
    await client.ok(FINISH_REGISTRATION, {"response": response})
    assert await client.refused(FINISH_REGISTRATION, {"response": response}) == [
        "CHALLENGE_INVALID"
    ]
    # A name too long or unprintable: nothing kept, the challenge still good.
    other = new_passkey()
    options = (await client.ok(BEGIN_REGISTRATION))["options"]
    for name in ("x" * 101, "bell\x07"):
        assert await client.refused(
            FINISH_REGISTRATION, {"response": other.register(options), "name": name}
        ) == ["INVALID"]
    assert await Passkey.all().count() == 1


async def test_a_registration_challenge_expires(tree, sign_in):
    client = await sign_in(tree["acme.member"].email)
    options = (await client.ok(BEGIN_REGISTRATION))["options"]
    clock.advance(timedelta(minutes=5, seconds=1))
    client = await sign_in(tree["acme.member"].email)  # a fresh session: no step-up in the way
    codes = await client.refused(FINISH_REGISTRATION, {"response": new_passkey().register(options)})
    assert codes == ["CHALLENGE_INVALID"] and await Passkey.all().count() == 0


async def test_rename_and_remove_with_step_up(tree, sign_in, http):
    email = tree["acme.member"].email
    client = await sign_in(email)
    passkey = new_passkey()
    added = await register(client, passkey, "Phone")
    renamed = await client.ok(RENAME, {"id": added["id"], "name": "Work phone"})
    assert renamed["passkey"]["name"] == "Work phone"
    assert await client.refused(RENAME, {"id": added["id"], "name": " "}) == ["REQUIRED"]
    # Removing wants a recent sign-in: here the passkey itself confirms it.
    clock.advance(timedelta(minutes=6))
    assert await client.error_code(REMOVE, {"id": added["id"]}) == "REAUTH_REQUIRED"
    assert await Passkey.all().count() == 1
    options = (await client.ok(BEGIN_REAUTH))["options"]
    assert json.loads(options)["userVerification"] == "required"
    fresh = (await client.ok(REAUTH, {"response": passkey.assertion(options)}))["token"]
    client = GraphQLClient(http, fresh)
    await client.ok(REMOVE, {"id": added["id"]})
    assert await Passkey.all().count() == 0
    assert (await User.get(email=email)).passkey_count == 0
    actions = await AuditEvent.filter(action__startswith="passkey.").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["passkey.added", "passkey.removed", "passkey.renamed"]


async def test_someone_elses_passkey_cannot_be_renamed_or_removed(tree, sign_in):
    owner = await sign_in(tree["acme.member"].email)
    added = await register(owner, new_passkey(), "Mine")
    intruder = await sign_in(tree["acme.admin"].email)
    assert await intruder.refused(RENAME, {"id": added["id"], "name": "Stolen"}) == ["NOT_FOUND"]
    assert await intruder.refused(REMOVE, {"id": added["id"]}) == ["NOT_FOUND"]
    assert await intruder.refused(REMOVE, {"id": gid("Session", 1)}) == ["NOT_FOUND"]
    assert (await intruder.data(PASSKEYS))["passkeys"] == []
    assert [p.name for p in await Passkey.all()] == ["Mine"]


# --- signing in without a password ---------------------------------------------------------


async def test_sign_in_with_a_passkey_alone(tree, sign_in, anonymous, http):
    email = tree["acme.member"].email
    passkey = new_passkey()
    await register(await sign_in(email), passkey, "Laptop")
    options = json.loads((await anonymous.ok(BEGIN_SIGN_IN))["options"])
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    payload = await sign_in_with(anonymous, passkey)
    assert payload["errors"] == [] and payload["viewer"]["user"]["email"] == email
    assert await viewer_email(GraphQLClient(http, payload["token"])) == email
    row = await Passkey.get(name="Laptop")
    assert row.sign_count == 1 and row.last_used_at is not None
    session = await Session.filter(user__email=email).order_by("-id").first()
    assert session is not None and session.second_factor == "passkey"
    event = await AuditEvent.filter(action="auth.login").order_by("-id").first()
    assert event is not None and event.details["passkey"] == "Laptop"
    listed = (await GraphQLClient(http, payload["token"]).data(PASSKEYS))["passkeys"]
    assert listed[0]["lastUsedAt"] is not None


async def test_bad_sign_in_answers_change_nothing(tree, sign_in, anonymous, monkeypatch):
    relax_throttle(monkeypatch)  # more refusals than the account's free failures
    email = tree["acme.member"].email
    passkey = new_passkey()
    await register(await sign_in(email), passkey)
    good = await sign_in_with(anonymous, passkey)
    assert good["errors"] == []
    stranger = new_passkey()
    stranger.credential_id = b"unknown-credential"
    unverified = new_passkey()
    unverified.credential_id, unverified.key = passkey.credential_id, passkey.key
    unverified.user_handle, unverified.user_verified = passkey.user_handle, False
    forged_handle = new_passkey()
    forged_handle.credential_id, forged_handle.key = passkey.credential_id, passkey.key
    forged_handle.user_handle = b"999999"
    cases = {
        "wrong origin": (passkey, {"origin": "https://evil.example.test"}),
        "wrong challenge": (passkey, {"challenge": b64(b"y" * 32)}),
        "counter regression": (passkey, {"count": 1}),
        "counter standing still": (passkey, {"count": 1}),
        "unknown credential": (stranger, {}),
        "someone else's key": (passkey, {"key": ec.generate_private_key(ec.SECP256R1())}),
        "no user verification": (unverified, {"count": 5}),
        "another person's handle": (forged_handle, {"count": 6}),
    }
    for label, (key, answer) in cases.items():
        before = await snapshot()
        payload = await sign_in_with(anonymous, key, **answer)
        assert payload["token"] is None and payload["errors"], label
        rows, sessions, _ = await snapshot()
        assert (rows, sessions) == before[:2], label
    # Replay: a good answer works once.
    options = (await anonymous.ok(BEGIN_SIGN_IN))["options"]
    response = passkey.assertion(options, count=10)
    assert (await anonymous.data(SIGN_IN, {"response": response}))["signInWithPasskey"]["token"]
    before = await snapshot()
    replay = (await anonymous.data(SIGN_IN, {"response": response}))["signInWithPasskey"]
    assert replay["token"] is None and replay["errors"][0]["code"] == "INVALID"
    assert (await snapshot())[:2] == before[:2]


async def test_a_sign_in_challenge_expires(tree, sign_in, anonymous):
    passkey = new_passkey()
    await register(await sign_in(tree["acme.member"].email), passkey)
    options = (await anonymous.ok(BEGIN_SIGN_IN))["options"]
    clock.advance(timedelta(minutes=5, seconds=1))
    payload = (await anonymous.data(SIGN_IN, {"response": passkey.assertion(options)}))[
        "signInWithPasskey"
    ]
    # Every refused sign-in answers alike.
    assert payload["token"] is None and payload["errors"][0]["code"] == "INVALID"


async def test_sign_in_with_a_passkey_is_throttled_like_a_password(tree, sign_in, anonymous):
    email = tree["acme.member"].email
    passkey = new_passkey()
    await register(await sign_in(email), passkey)
    wrong_key = ec.generate_private_key(ec.SECP256R1())
    for _ in range(get_settings().throttle_account_attempts):
        assert (await sign_in_with(anonymous, passkey, key=wrong_key))["token"] is None
    # Locked: even the right answer is refused, and nothing moves.
    before = await snapshot()
    payload = await sign_in_with(anonymous, passkey)
    assert payload["token"] is None and payload["errors"][0]["code"] == "INVALID"
    assert (await snapshot())[:2] == before[:2]
    throttled = await AuditEvent.filter(action="auth.login_throttled").count()
    assert throttled >= 1
    # ...and so is the password: the account is one.
    assert (await login(anonymous, email))["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_a_disabled_person_cannot_sign_in_with_a_passkey(tree, sign_in, anonymous):
    email = tree["acme.member"].email
    passkey = new_passkey()
    await register(await sign_in(email), passkey)
    await User.filter(email=email).update(status="DISABLED")
    payload = await sign_in_with(anonymous, passkey)
    assert payload["token"] is None and payload["errors"][0]["code"] == "INVALID"


# --- the second step of a log-in -----------------------------------------------------------


async def test_a_passkey_as_the_second_step(tree, sign_in, anonymous, http):
    email = tree["acme.member"].email
    passkey = new_passkey()
    await register(await sign_in(email), passkey)
    payload = await login(anonymous, email)
    assert payload["token"] is None and payload["challenge"]["methods"] == ["PASSKEY"]
    challenge = payload["challenge"]["token"]
    options = (await anonymous.ok(BEGIN_TWO_FACTOR, {"challenge": challenge}))["options"]
    assert [c["id"] for c in json.loads(options)["allowCredentials"]] == [
        b64(passkey.credential_id)
    ]
    response = passkey.assertion(options)
    done = await anonymous.ok(VERIFY_PASSKEY, {"challenge": challenge, "response": response})
    assert await viewer_email(GraphQLClient(http, done["token"])) == email
    # The log-in challenge and the passkey challenge are both used up.
    again = await anonymous.refused(VERIFY_PASSKEY, {"challenge": challenge, "response": response})
    assert again == ["CHALLENGE_INVALID"]


async def test_another_persons_passkey_is_no_second_step(tree, sign_in, anonymous):
    email = tree["acme.member"].email
    await register(await sign_in(email), new_passkey())
    theirs = new_passkey()
    await register(await sign_in(tree["acme.admin"].email), theirs)
    challenge = await challenge_for(anonymous, email)
    options = (await anonymous.ok(BEGIN_TWO_FACTOR, {"challenge": challenge}))["options"]
    before = await snapshot()
    codes = await anonymous.refused(
        VERIFY_PASSKEY, {"challenge": challenge, "response": theirs.assertion(options)}
    )
    assert codes == ["INVALID"]
    assert (await snapshot())[:2] == before[:2]
    event = await AuditEvent.filter(action="auth.two_factor_failed").first()
    assert event is not None


async def test_wrong_passkey_answers_end_the_log_in_after_five(tree, sign_in, anonymous):
    email = tree["acme.member"].email
    passkey = new_passkey()
    await register(await sign_in(email), passkey)
    challenge = await challenge_for(anonymous, email)
    wrong_key = ec.generate_private_key(ec.SECP256R1())
    for _ in range(5):
        options = (await anonymous.ok(BEGIN_TWO_FACTOR, {"challenge": challenge}))["options"]
        await anonymous.refused(
            VERIFY_PASSKEY,
            {"challenge": challenge, "response": passkey.assertion(options, key=wrong_key)},
        )
    assert await anonymous.refused(BEGIN_TWO_FACTOR, {"challenge": challenge}) == [
        "CHALLENGE_INVALID"
    ]


async def test_a_person_with_an_app_and_a_passkey_may_use_either(tree, sign_in, http):
    email = tree["acme.member"].email
    client = await sign_in(email)
    secret, _ = await enrol_totp(client)
    await register(client, new_passkey())
    anonymous = GraphQLClient(http)
    payload = await login(anonymous, email)
    assert payload["challenge"]["methods"] == ["TOTP", "RECOVERY_CODE", "PASSKEY"]
    clock.advance(timedelta(seconds=STEP))
    assert await viewer_email(await sign_in_with_code(http, email, code_at(secret))) == email


# --- policy and reset --------------------------------------------------------------------


async def test_an_organisation_can_require_passkeys_for_owners_and_admins(tree, sign_in, http):
    owner = await sign_in(tree["acme.owner"].email)
    acme = gid("Organisation", tree.acme.id)
    assert (await owner.ok(POLICY, {"id": acme, "on": True}))["organisation"] == {
        "requirePasskeysForAdmins": True
    }
    # The admin signed in with a password (and even an app) waits; a member does not.
    admin_email = tree["acme.admin"].email
    admin = await sign_in(admin_email)
    assert await organisations_of(admin) == ([], ["Acme"])
    secret, _ = await enrol_totp(admin)
    assert await organisations_of(admin) == ([], ["Acme"])
    member = await sign_in(tree["acme.member"].email)
    assert await organisations_of(member) == (["Acme"], [])
    # Registering a passkey lets this session in; a later sign-in with it too.
    passkey = new_passkey()
    clock.advance(timedelta(seconds=STEP))
    await register(admin, passkey)
    assert await organisations_of(admin) == (["Acme"], [])
    clock.advance(timedelta(seconds=STEP))
    with_code = await sign_in_with_code(http, admin_email, code_at(secret))
    assert await organisations_of(with_code) == ([], ["Acme"])
    payload = await sign_in_with(GraphQLClient(http), passkey)
    assert await organisations_of(GraphQLClient(http, payload["token"])) == (["Acme"], [])


async def test_an_administrators_reset_clears_passkeys(tree, sign_in, anonymous):
    email = tree["acme.member"].email
    passkey = new_passkey()
    await register(await sign_in(email), passkey)
    owner = await sign_in(tree["acme.owner"].email)
    await owner.ok(RESET_TWO_FACTOR, {"id": tree["acme.member"].membership_id})
    assert await Passkey.filter(user__email=email).count() == 0
    assert (await User.get(email=email)).passkey_count == 0
    assert (await sign_in_with(anonymous, passkey))["token"] is None
    payload = await login(anonymous, email)
    assert payload["token"] and payload["challenge"] is None


async def test_passkeys_are_the_persons_own(tree, sign_in, http):
    """API tokens and impersonations reach no passkey field."""
    client = await sign_in(tree["acme.member"].email)
    await register(client, new_passkey())
    body = await GraphQLClient(http)(PASSKEYS)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
