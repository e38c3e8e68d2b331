"""Second factors over HTTP: organisations' two-factor policies, and turning
factors off or resetting them.

The real clock is stopped at the start of a TOTP step for every test
(`clock.advance` still moves it), so steps and throttle locks cannot shift
while a test runs."""

from __future__ import annotations

from datetime import timedelta

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.auth.models import RecoveryCode
from server.core import clock
from tests.auth.factors import (
    CONFIRM,
    DISABLE,
    ENROL,
    RESET_TWO_FACTOR,
    STEP,
    UPDATE_ORG,
    challenge_for,
    code_at,
    email_codes,
    enable_email_codes,
    enrol_totp,
    login,
    organisations_of,
    security_notices,
    sign_in_with_code,
    still_clock,  # noqa: F401 - autouse: stops the clock here
    verify,
    viewer_email,
)
from tests.helpers.fixtures import GraphQLClient, gid

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
