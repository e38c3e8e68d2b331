"""What an admin chooses when adding a person holds from their first sign-in
(Click2Call's Add User form; UKCloud's ticket-access rule as a setting)."""

from __future__ import annotations

from server.accounts.models import Membership, User
from server.audit.models import AuditEvent
from tests.helpers.fixtures import gid
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import token_from

INVITE = """mutation($org: ID!, $email: String!, $restrict: Boolean, $access: TicketAccess,
                     $emailTwoFactor: Boolean! = false) {
  inviteUser(input: {organisationId: $org, email: $email, role: MEMBER,
                     restrictRecordingDeletion: $restrict, ticketAccess: $access,
                     emailTwoFactor: $emailTwoFactor}) {
    invitation { membership { ticketAccess restrictRecordingDeletion } }
    errors { field code message } } }"""
CREATE_USER = """mutation($org: ID!, $email: String!, $restrict: Boolean) {
  createUser(input: {organisationId: $org, email: $email, role: MEMBER,
                     password: "an initial passphrase 7", restrictRecordingDeletion: $restrict,
                     emailTwoFactor: true}) {
    membership { restrictRecordingDeletion } errors { field code } } }"""
CONFIRM = """mutation($token: String!) { confirmInvitation(input: {token: $token,
  password: "my chosen passphrase 9"}) { token errors { code } } }"""
LOGIN = """mutation($email: String!, $password: String!) { login(input: {email: $email,
  password: $password}) { token challenge { token methods } errors { code } } }"""
SETTING = """mutation($org: ID!, $on: Boolean!) { updateOrganisation(input: {organisationId: $org,
  ticketAccessAfterFirstSignIn: $on}) { organisation { ticketAccessAfterFirstSignIn }
  errors { code } } }"""


async def test_restrictions_and_email_codes_chosen_when_adding_hold_from_the_first_sign_in(
    tree, sign_in, anonymous, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    added = await admin.ok(
        INVITE, {"org": org, "email": "caller@acme.example.com", "restrict": True, "access": "ACCOUNT",
                 "emailTwoFactor": True}
    )  # fmt: skip
    assert added["invitation"]["membership"] == {
        "ticketAccess": "ACCOUNT",
        "restrictRecordingDeletion": True,
    }
    [invitation] = await smtp_server.deliver()
    [link] = links_in(invitation)
    confirmed = await anonymous.ok(CONFIRM, {"token": token_from(link)})
    assert confirmed["token"]

    # The next sign-in asks for a code sent by email, as the admin chose.
    login = await anonymous.ok(
        LOGIN, {"email": "caller@acme.example.com", "password": "my chosen passphrase 9"}
    )
    assert login["token"] is None and "EMAIL" in login["challenge"]["methods"]
    membership = await Membership.get(user__email="caller@acme.example.com")
    assert membership.restrict_recording_deletion and membership.ticket_access.value == "ACCOUNT"
    event = await AuditEvent.get(action="invitation.created")
    assert event.organisation_id == tree.acme.id


async def test_created_users_get_their_restrictions_and_email_codes_at_once(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    created = await admin.ok(
        CREATE_USER, {"org": org, "email": "desk@acme.example.com", "restrict": True}
    )
    assert created["membership"] == {"restrictRecordingDeletion": True}
    assert (await User.get(email="desk@acme.example.com")).email_two_factor


async def test_an_existing_accounts_second_factor_is_its_owners_choice(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    outsider = tree["globex.member"]
    body = await admin.data(INVITE, {"org": org, "email": outsider.email, "emailTwoFactor": True})
    assert body["inviteUser"]["errors"][0]["field"] == "emailTwoFactor"
    assert body["inviteUser"]["errors"][0]["code"] == "INVALID"
    assert not await Membership.exists(user_id=outsider.user.id, organisation_id=tree.acme.id)
    assert not (await User.get(id=outsider.user.id)).email_two_factor


async def test_grants_beyond_the_admins_own_are_refused_and_change_nothing(tree, sign_in):
    # An admin whose ticket access is OWN cannot hand out ticket access.
    await Membership.filter(id=tree["acme.admin"].membership.id).update(ticket_access="OWN")
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    body = await admin.data(INVITE, {"org": org, "email": "x@acme.example.com", "access": "ADMIN"})
    assert [(e["field"], e["code"]) for e in body["inviteUser"]["errors"]] == [
        ("ticketAccess", "OUT_OF_SCOPE_PERMISSION")
    ]
    assert not await User.exists(email="x@acme.example.com")


async def test_ticket_access_after_first_sign_in_is_an_organisation_setting(tree, sign_in):
    owner = await sign_in(tree["acme.owner"].email)
    org = gid("Organisation", tree.acme.id)
    changed = await owner.ok(SETTING, {"org": org, "on": True})
    assert changed["organisation"] == {"ticketAccessAfterFirstSignIn": True}

    # UKCloud: ticket access waits for the first sign-in; a restriction does not.
    body = await owner.data(
        INVITE, {"org": org, "email": "uk@acme.example.com", "access": "ACCOUNT"}
    )
    assert [(e["field"], e["code"]) for e in body["inviteUser"]["errors"]] == [
        ("ticketAccess", "NEVER_LOGGED_IN")
    ]
    added = await owner.ok(INVITE, {"org": org, "email": "uk@acme.example.com", "restrict": True})
    assert added["invitation"]["membership"]["restrictRecordingDeletion"] is True

    # Off again (the default): ticket access at once.
    await owner.ok(SETTING, {"org": org, "on": False})
    again = await owner.ok(
        INVITE, {"org": org, "email": "uk2@acme.example.com", "access": "ACCOUNT"}
    )
    assert again["invitation"]["membership"]["ticketAccess"] == "ACCOUNT"
