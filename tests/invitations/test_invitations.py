"""Invitations end to end: the mail goes through the real worker to a real
SMTP server, and the link in the received mail is what the person uses."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import urlsplit

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.audit.models import AuditEvent
from server.core import clock
from server.core.permissions import Role
from server.invitations.models import Invitation
from tests.helpers.fixtures import PASSWORD, GraphQLClient, add_person, gid
from tests.helpers.smtp import links_in

INVITE = """
mutation Invite($org: ID!, $email: String!, $role: Role!) {
  inviteUser(input: {organisationId: $org, email: $email, role: $role, firstName: "Nina"}) {
    invitation { id email status role expiresAt membership { id status } }
    errors { field code message }
  }
}"""

CONFIRM = """
mutation Confirm($token: String!, $password: String) {
  confirmInvitation(input: {token: $token, password: $password, lastName: "Neu"}) {
    token
    membership { role status organisation { name } }
    viewer { user { email firstName lastName status } memberships { organisation { name } } }
    errors { field code message }
  }
}"""

RESEND = """
mutation Resend($id: ID!) {
  resendInvitation(input: {invitationId: $id}) { invitation { status expiresAt } errors { code } }
}"""

REVOKE = """
mutation Revoke($id: ID!) {
  revokeInvitation(input: {invitationId: $id}) { invitation { status } errors { code } }
}"""

PENDING = """
query Pending($org: ID!) {
  invitations(organisationId: $org) { totalCount nodes { email status role invitedBy { email } } }
}"""


def token_from(link: str) -> str:
    fragment = urlsplit(link).fragment
    assert fragment.startswith("token="), link
    return fragment.removeprefix("token=")


async def invite(
    admin: GraphQLClient, organisation_id: int, email: str, role: str = "MEMBER"
) -> dict:
    payload = await admin.ok(
        INVITE, {"org": gid("Organisation", organisation_id), "email": email, "role": role}
    )
    return payload["invitation"]


async def test_invite_mail_confirm_and_log_in(tree, sign_in, anonymous, http, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    invitation = await invite(admin, tree.acme.id, " Nina.New@Example.COM ")
    assert invitation["email"] == "nina.new@example.com"
    assert invitation["status"] == "PENDING"
    assert invitation["membership"]["status"] == "INVITED"

    [message] = await smtp_server.deliver()
    assert message["To"] == "nina.new@example.com"
    assert "Acme" in message["Subject"] + message.get_body(("plain",)).get_content()
    [link] = links_in(message)
    assert link.startswith("https://portal.example.test/admin/accept-invitation#token=")

    # Following the link (what a mail scanner does) consumes nothing.
    page = await http.get(urlsplit(link).path)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert (await Invitation.get(email="nina.new@example.com")).accepted_at is None

    confirmed = await anonymous.ok(
        CONFIRM, {"token": token_from(link), "password": "a new long passphrase"}
    )
    assert confirmed["membership"] == {
        "role": "MEMBER",
        "status": "ACTIVE",
        "organisation": {"name": "Acme"},
    }
    assert confirmed["viewer"]["user"] == {
        "email": "nina.new@example.com",
        "firstName": "Nina",
        "lastName": "Neu",
        "status": "ACTIVE",
    }
    assert confirmed["token"]

    nina = await sign_in("nina.new@example.com", "a new long passphrase")
    viewer = await nina.data("{ viewer { memberships { role organisation { name } } } }")
    assert viewer["viewer"]["memberships"] == [{"role": "MEMBER", "organisation": {"name": "Acme"}}]
    assert await AuditEvent.filter(action="invitation.accepted").count() == 1


async def test_existing_user_joins_a_second_organisation(tree, sign_in, smtp_server):
    bob = tree["globex.member"]
    admin = await sign_in(tree["acme.admin"].email)
    await invite(admin, tree.acme.id, bob.email, "VIEWER")
    [message] = await smtp_server.deliver()
    token = token_from(links_in(message)[0])

    # Signed in as the invited address: no password needed, no new session.
    bob_client = await sign_in(bob.email)
    joined = await bob_client.ok(CONFIRM, {"token": token})
    assert joined["token"] is None
    assert joined["membership"]["role"] == "VIEWER"
    names = sorted(m["organisation"]["name"] for m in joined["viewer"]["memberships"])
    assert names == ["Acme", "Globex"]
    assert await Membership.filter(user_id=bob.user.id).count() == 2


async def test_existing_user_not_signed_in_confirms_with_password(
    tree, sign_in, anonymous, smtp_server
):
    bob = tree["globex.member"]
    admin = await sign_in(tree["acme.admin"].email)
    await invite(admin, tree.acme.id, bob.email)
    token = token_from(links_in((await smtp_server.deliver())[0])[0])

    assert await anonymous.refused(CONFIRM, {"token": token, "password": "not my password"}) == [
        "WRONG_PASSWORD"
    ]
    assert (
        await Membership.get(organisation_id=tree.acme.id, user_id=bob.user.id)
    ).status is MembershipStatus.INVITED
    joined = await anonymous.ok(CONFIRM, {"token": token, "password": PASSWORD})
    assert joined["token"]


async def test_invitation_to_someone_else_is_refused(tree, sign_in, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    await invite(admin, tree.acme.id, "someone@example.com")
    token = token_from(links_in((await smtp_server.deliver())[0])[0])
    other = await sign_in(tree["globex.member"].email)
    assert await other.refused(CONFIRM, {"token": token}) == ["INVITE_EMAIL_MISMATCH"]
    assert (await Invitation.get(email="someone@example.com")).accepted_at is None


async def test_already_member_and_pending(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    assert await admin.refused(
        INVITE, {"org": org, "email": tree["acme.member"].email, "role": "MEMBER"}
    ) == ["ALREADY_MEMBER"]
    await invite(admin, tree.acme.id, "twice@example.com")
    assert await admin.refused(
        INVITE, {"org": org, "email": "twice@example.com", "role": "MEMBER"}
    ) == ["INVITE_PENDING"]
    assert await Invitation.filter(email="twice@example.com").count() == 1


async def test_nobody_invites_above_their_role(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    codes = await admin.refused(
        INVITE,
        {"org": gid("Organisation", tree.acme.id), "email": "boss@example.com", "role": "OWNER"},
    )
    assert codes == ["OUT_OF_SCOPE_ROLE"]
    assert not await User.exists(email="boss@example.com")


async def test_resend_kills_the_old_link(tree, sign_in, anonymous, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    invitation = await invite(admin, tree.acme.id, "resend@example.com")
    old = token_from(links_in((await smtp_server.deliver())[0])[0])
    await admin.ok(RESEND, {"id": invitation["id"]})
    new = token_from(links_in((await smtp_server.deliver())[0])[0])
    assert new != old
    assert await anonymous.refused(
        CONFIRM, {"token": old, "password": "a new long passphrase"}
    ) == ["INVITE_INVALID"]
    await anonymous.ok(CONFIRM, {"token": new, "password": "a new long passphrase"})


async def test_revoke_and_list_pending(tree, sign_in, anonymous, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    keep = await invite(admin, tree.acme.id, "keep@example.com")
    gone = await invite(admin, tree.acme.id, "gone@example.com", "VIEWER")
    pending = (await admin.data(PENDING, {"org": gid("Organisation", tree.acme.id)}))["invitations"]
    assert pending["totalCount"] == 2
    assert {n["email"]: n["role"] for n in pending["nodes"]} == {
        "keep@example.com": "MEMBER",
        "gone@example.com": "VIEWER",
    }
    assert pending["nodes"][0]["invitedBy"]["email"] == tree["acme.admin"].email

    messages = await smtp_server.deliver()
    gone_token = next(token_from(links_in(m)[0]) for m in messages if m["To"] == "gone@example.com")
    revoked = await admin.ok(REVOKE, {"id": gone["id"]})
    assert revoked["invitation"]["status"] == "REVOKED"
    assert not await User.exists(email="gone@example.com")  # never signed up: nothing kept
    assert await anonymous.refused(
        CONFIRM, {"token": gone_token, "password": "a new long passphrase"}
    ) == ["INVITE_INVALID"]
    assert await admin.refused(REVOKE, {"id": gone["id"]}) == ["INVALID_STATE"]
    pending = (await admin.data(PENDING, {"org": gid("Organisation", tree.acme.id)}))["invitations"]
    assert [n["email"] for n in pending["nodes"]] == [keep["email"]]


async def test_expired_invitation(tree, sign_in, anonymous, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    invitation = await invite(admin, tree.acme.id, "late@example.com")
    token = token_from(links_in((await smtp_server.deliver())[0])[0])
    clock.advance(timedelta(days=7, seconds=1))
    assert await anonymous.refused(
        CONFIRM, {"token": token, "password": "a new long passphrase"}
    ) == ["INVITE_EXPIRED"]
    assert (await User.get(email="late@example.com")).status is UserStatus.INVITED
    # An expired invitation may be sent again, with a fresh week.
    admin = await sign_in(tree["acme.admin"].email)
    resent = await admin.ok(RESEND, {"id": invitation["id"]})
    assert resent["invitation"]["status"] == "PENDING"


async def test_ten_parallel_accepts_one_wins(tree, sign_in, http, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    await invite(admin, tree.acme.id, "race@example.com")
    token = token_from(links_in((await smtp_server.deliver())[0])[0])
    clients = [GraphQLClient(http) for _ in range(10)]
    results = await asyncio.gather(
        *(c(CONFIRM, {"token": token, "password": "a new long passphrase"}) for c in clients)
    )
    payloads = [r["data"]["confirmInvitation"] for r in results]
    winners = [p for p in payloads if not p["errors"]]
    assert len(winners) == 1
    assert all(p["errors"][0]["code"] == "INVITE_INVALID" for p in payloads if p["errors"])
    assert await AuditEvent.filter(action="invitation.accepted").count() == 1


CREATE_USER = """
mutation Create($org: ID!, $email: String!, $password: String!) {
  createUser(input: {organisationId: $org, email: $email, role: MEMBER, password: $password, firstName: "Init"}) {
    membership { status role user { email status } }
    errors { field code }
  }
}"""

CHANGE_PASSWORD = """
mutation Change($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    viewer { mustChangePassword memberships { organisation { name } } }
    errors { field code }
  }
}"""


async def test_create_user_must_change_password_first(tree, sign_in, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    created = await admin.ok(
        CREATE_USER,
        {
            "org": gid("Organisation", tree.acme.id),
            "email": "init@example.com",
            "password": "initial password 1",
        },
    )
    assert created["membership"]["status"] == "ACTIVE"
    [welcome] = await smtp_server.deliver()
    assert welcome["To"] == "init@example.com"
    assert "initial password 1" not in welcome.as_string()

    user = await sign_in("init@example.com", "initial password 1")
    viewer = (await user.data("{ viewer { mustChangePassword memberships { id } } }"))["viewer"]
    assert viewer == {"mustChangePassword": True, "memberships": []}
    # Everything but changing the password (and signing out) says so, so the app can
    # send the person to the right screen.
    acme = {"o": gid("Organisation", tree.acme.id)}
    for document in (
        "query($o: ID!) { members(organisationId: $o) { totalCount } }",
        "query($o: ID!) { tickets(organisationId: $o) { totalCount } }",
        "query($o: ID!) { organisation(id: $o) { name } }",
        """mutation($o: ID!) { createTicket(input: {organisationId: $o, type: INCIDENT,
           priority: NORMAL, subject: "x", description: "y"}) { errors { code } } }""",
        "{ sessions { id } }",
    ):
        assert await user.error_code(document, acme) == "PASSWORD_CHANGE_REQUIRED", document

    changed = await user.ok(
        CHANGE_PASSWORD, {"current": "initial password 1", "new": "my own secret phrase"}
    )
    assert changed["viewer"]["mustChangePassword"] is False
    assert changed["viewer"]["memberships"] == [{"organisation": {"name": "Acme"}}]
    assert await admin.refused(
        CREATE_USER,
        {
            "org": gid("Organisation", tree.acme.id),
            "email": "init@example.com",
            "password": "initial password 1",
        },
    ) == ["EMAIL_TAKEN"]


async def test_disabling_an_invited_member_kills_the_invitation(
    tree, sign_in, anonymous, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    invitation = await invite(admin, tree.acme.id, "undecided@example.com")
    token = token_from(links_in((await smtp_server.deliver())[0])[0])
    membership_id = invitation["membership"]["id"]
    disable = "mutation($id: ID!) { disableMember(input: {membershipId: $id}) { membership { status } errors { code } } }"
    enable = "mutation($id: ID!) { enableMember(input: {membershipId: $id}) { membership { status } errors { code } } }"
    assert (await admin.ok(disable, {"id": membership_id}))["membership"]["status"] == "DISABLED"
    assert await anonymous.refused(
        CONFIRM, {"token": token, "password": "a new long passphrase"}
    ) == ["INVITE_INVALID"]
    # Enabled again, they are back to "invited", not active: they never joined.
    assert (await admin.ok(enable, {"id": membership_id}))["membership"]["status"] == "INVITED"
    await invite(admin, tree.acme.id, "undecided@example.com")
    fresh = token_from(links_in((await smtp_server.deliver())[0])[0])
    await anonymous.ok(CONFIRM, {"token": fresh, "password": "a new long passphrase"})


MEMBERS_WITH_INVITATIONS = """query($o: ID!) { members(organisationId: $o, status: INVITED) {
  nodes { user { email } invitation { id status } } } }"""


async def test_a_pending_membership_names_its_invitation_for_those_who_manage_members(
    tree, sign_in, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    invited = await invite(admin, tree.acme.id, "pending@example.com")
    acme = {"o": gid("Organisation", tree.acme.id)}
    [row] = (await admin.data(MEMBERS_WITH_INVITATIONS, acme))["members"]["nodes"]
    assert row["invitation"] == {"id": invited["id"], "status": "PENDING"}

    # Resend through it: a fresh link goes out.
    resent = await admin.ok(RESEND, {"id": row["invitation"]["id"]})
    assert resent["invitation"]["status"] == "PENDING"
    assert len(await smtp_server.deliver()) == 2

    # A viewer lists members but manages none: no invitation for them.
    viewer = await add_person(tree.acme, "viewer@acme.example.com", Role.VIEWER)
    reader = await sign_in(viewer.email)
    [row] = (await reader.data(MEMBERS_WITH_INVITATIONS, acme))["members"]["nodes"]
    assert row["invitation"] is None
