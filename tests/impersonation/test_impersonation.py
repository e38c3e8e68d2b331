"""Impersonation: an administrator opens a member's own portal view."""

from __future__ import annotations

from datetime import timedelta

from server.accounts.models import Membership, MembershipStatus, User
from server.audit.models import AuditEvent
from server.auth.models import Session
from server.core import clock
from server.core.permissions import Role
from tests.helpers.fixtures import PASSWORD, GraphQLClient, add_person, gid

IMPERSONATE = """
mutation($id: ID!, $reason: String!) {
  impersonateUser(input: {membershipId: $id, reason: $reason}) {
    token
    viewer { user { email } impersonation { impersonatorEmail reason expiresAt } }
    errors { field code message }
  }
}"""
VIEWER = """{ viewer { user { email } memberships { organisation { name } }
  impersonation { impersonatorEmail reason organisation { name } } } }"""
END = "mutation { endImpersonation { ended errors { code } } }"
UPDATE_TITLE = (
    'mutation { updateProfile(input: {title: "Away"}) { user { title } errors { code } } }'
)
CHANGE_PASSWORD = """mutation { changePassword(input: {currentPassword: "x", newPassword: "y"}) {
  errors { code } } }"""


COOKIE_LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password, session: COOKIE}) { errors { code } } }"""


async def cookie_login(http, email: str) -> None:  # type: ignore[no-untyped-def]
    response = await http.post(
        "/graphql",
        json={"query": COOKIE_LOGIN, "variables": {"email": email, "password": PASSWORD}},
    )
    assert response.json()["data"]["login"]["errors"] == []


async def allow_impersonation(person) -> None:  # type: ignore[no-untyped-def]
    await Membership.filter(id=person.membership.id).update(can_impersonate=True)


async def impersonate(admin: GraphQLClient, target, reason: str = "DND stuck on") -> dict:  # type: ignore[no-untyped-def]
    return await admin.ok(IMPERSONATE, {"id": target.membership_id, "reason": reason})


async def test_admin_acts_as_a_member_and_the_audit_names_both(tree, sign_in, http, smtp_server):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await allow_impersonation(owner)
    member_client = await sign_in(member.email)
    admin = await sign_in(owner.email)

    started = await impersonate(admin, member)
    assert started["viewer"]["user"]["email"] == member.email
    assert started["viewer"]["impersonation"]["impersonatorEmail"] == owner.email
    acting = GraphQLClient(http, started["token"])
    seen = (await acting.data(VIEWER))["viewer"]
    assert seen["impersonation"] == {
        "impersonatorEmail": owner.email,
        "reason": "DND stuck on",
        "organisation": {"name": "Acme"},
    }

    await acting.ok(UPDATE_TITLE)
    assert (await User.get(id=member.user.id)).title == "Away"
    event = await AuditEvent.get(action="user.profile_updated")
    assert (event.actor_id, event.impersonator_id) == (member.user.id, owner.user.id)
    assert event.impersonator_label == owner.email
    started_event = await AuditEvent.get(action="impersonation.started")
    assert started_event.details["reason"] == "DND stuck on"

    # Neither person's own session changed.
    assert (await member_client.data(VIEWER))["viewer"]["impersonation"] is None
    assert (await admin.data(VIEWER))["viewer"]["user"]["email"] == owner.email

    assert await smtp_server.deliver() == []  # the member hears of it when it ends

    assert (await acting.ok(END))["ended"] is True
    [notice] = await smtp_server.deliver()
    assert (
        notice["To"] == member.email and "DND stuck on" in notice.get_body(("plain",)).get_content()
    )
    assert (await acting.data(VIEWER))["viewer"] is None
    assert (await admin.data(VIEWER))["viewer"]["user"]["email"] == owner.email
    assert await AuditEvent.filter(
        action="impersonation.ended", impersonator_id=owner.user.id
    ).exists()


async def test_credentials_roles_and_impersonation_are_refused_inside(tree, sign_in, http):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await allow_impersonation(owner)
    admin = await sign_in(owner.email)
    acting = GraphQLClient(http, (await impersonate(admin, member))["token"])
    assert await acting.error_code(CHANGE_PASSWORD) == "IMPERSONATION_FORBIDDEN"
    assert (
        await acting.error_code("mutation { enrolTotp { secret errors { code } } }")
        == "IMPERSONATION_FORBIDDEN"
    )
    assert (
        await acting.error_code("mutation { cancelTotpEnrolment { ok errors { code } } }")
        == "IMPERSONATION_FORBIDDEN"
    )
    assert (
        await acting.error_code(
            IMPERSONATE, {"id": tree["acme.admin"].membership_id, "reason": "again"}
        )
        == "IMPERSONATION_FORBIDDEN"
    )
    assert (
        await acting.error_code(
            "mutation($id: ID!) { deleteUser(input: {membershipId: $id}) { errors { code } } }",
            {"id": member.membership_id},
        )
        == "IMPERSONATION_FORBIDDEN"
    )
    assert (
        await acting.error_code("mutation { revokeOtherSessions { ok errors { code } } }")
        == "IMPERSONATION_FORBIDDEN"
    )
    assert await User.exists(id=member.user.id)


async def test_impersonation_expires_and_is_not_renewed(tree, sign_in, http):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await allow_impersonation(owner)
    admin = await sign_in(owner.email)
    acting = GraphQLClient(http, (await impersonate(admin, member))["token"])
    for _ in range(5):  # busy use does not extend it
        clock.advance(timedelta(minutes=5))
        assert (await acting.data(VIEWER))["viewer"]["user"]["email"] == member.email
    clock.advance(timedelta(minutes=5, seconds=1))
    assert (await acting.data(VIEWER))["viewer"] is None
    assert (await admin.data(VIEWER))["viewer"]["user"]["email"] == owner.email


async def test_refusals(tree, sign_in):
    owner, admin_person, member = tree["acme.owner"], tree["acme.admin"], tree["acme.member"]
    # Without canImpersonate the permission is not there at all.
    owner_client = await sign_in(owner.email)
    assert (
        await owner_client.error_code(IMPERSONATE, {"id": member.membership_id, "reason": "x"})
        == "FORBIDDEN"
    )
    await allow_impersonation(owner)
    await allow_impersonation(admin_person)
    admin = await sign_in(admin_person.email)
    # Self, same or higher role.
    assert await admin.refused(IMPERSONATE, {"id": admin_person.membership_id, "reason": "x"}) == [
        "CANNOT_IMPERSONATE"
    ]
    assert await admin.refused(IMPERSONATE, {"id": owner.membership_id, "reason": "x"}) == [
        "CANNOT_IMPERSONATE"
    ]
    other_admin = await add_person(tree.acme, "admin2@acme.example.com", Role.ADMIN)
    assert await admin.refused(IMPERSONATE, {"id": other_admin.membership_id, "reason": "x"}) == [
        "CANNOT_IMPERSONATE"
    ]
    # A reason is required.
    assert await owner_client.refused(IMPERSONATE, {"id": member.membership_id, "reason": " "}) == [
        "REQUIRED"
    ]
    # Not active.
    await Membership.filter(id=member.membership.id).update(status=MembershipStatus.DISABLED)
    assert await owner_client.refused(IMPERSONATE, {"id": member.membership_id, "reason": "x"}) == [
        "CANNOT_IMPERSONATE"
    ]
    # No password yet: cannot sign in, cannot be impersonated.
    invited = await add_person(tree.acme, "invited@acme.example.com", Role.MEMBER)
    await User.filter(id=invited.user.id).update(password_hash=None)
    assert await owner_client.refused(
        IMPERSONATE, {"id": invited.membership_id, "reason": "x"}
    ) == ["CANNOT_IMPERSONATE"]
    # A sibling organisation's member looks like nothing at all.
    assert await owner_client.refused(
        IMPERSONATE, {"id": tree["globex.member"].membership_id, "reason": "x"}
    ) == ["NOT_FOUND"]
    assert not await AuditEvent.filter(action="impersonation.started").exists()


async def test_needs_a_recent_sign_in(tree, sign_in):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await allow_impersonation(owner)
    admin = await sign_in(owner.email)
    clock.advance(timedelta(minutes=6))
    body = await admin(IMPERSONATE, {"id": member.membership_id, "reason": "x"})
    assert body["errors"][0]["extensions"]["code"] == "REAUTH_REQUIRED"
    fresh = await admin.ok(
        "mutation($p: String!) { reauthenticate(input: {password: $p}) { token errors { code } } }",
        {"p": PASSWORD},
    )
    admin.token = fresh["token"]
    await impersonate(admin, member)


async def test_reseller_admin_acts_in_a_customer_only_within_its_subtree(tree, sign_in, http):
    reseller_admin, member = tree["reseller.admin"], tree["acme.member"]
    await allow_impersonation(reseller_admin)
    # The member also belongs to the provider: that membership stays out of reach.
    await add_person(tree.provider, member.email, Role.VIEWER)
    admin = await sign_in(reseller_admin.email)
    acting = GraphQLClient(http, (await impersonate(admin, member))["token"])
    names = [
        m["organisation"]["name"] for m in (await acting.data(VIEWER))["viewer"]["memberships"]
    ]
    assert names == ["Acme"]
    # And the administrator gains nothing: the member's rights, not the reseller's.
    body = await acting(
        "query($o: ID!) { members(organisationId: $o) { totalCount } }",
        {"o": gid("Organisation", tree.acme.id)},
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_cookie_sessions_keep_the_administrators_own(tree, http):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await allow_impersonation(owner)
    await cookie_login(http, owner.email)
    started = await http.post(
        "/graphql",
        json={
            "query": 'mutation($id: ID!) { impersonateUser(input: {membershipId: $id, reason: "help", session: COOKIE}) { token errors { code } } }',
            "variables": {"id": member.membership_id},
        },
    )
    assert started.json()["data"]["impersonateUser"] == {"token": None, "errors": []}
    assert "__Host-frontdesk_impersonation" in started.headers["set-cookie"]

    async def viewer_email() -> str | None:
        response = await http.post("/graphql", json={"query": "{ viewer { user { email } } }"})
        viewer = response.json()["data"]["viewer"]
        return viewer["user"]["email"] if viewer else None

    assert await viewer_email() == member.email
    ended = await http.post("/graphql", json={"query": END})
    assert ended.json()["data"]["endImpersonation"]["ended"] is True
    assert await viewer_email() == owner.email


async def test_foreign_origin_cannot_use_the_impersonation_cookie(tree, http):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await allow_impersonation(owner)
    await cookie_login(http, owner.email)
    await http.post(
        "/graphql",
        json={
            "query": 'mutation($id: ID!) { impersonateUser(input: {membershipId: $id, reason: "help", session: COOKIE}) { errors { code } } }',
            "variables": {"id": member.membership_id},
        },
    )
    foreign = await http.post(
        "/graphql",
        json={"query": "{ viewer { user { email } } }"},
        headers={"origin": "https://evil.example"},
    )
    assert foreign.json()["data"]["viewer"] is None


async def test_admin_turns_a_members_do_not_disturb_off_in_their_portal(tree, sign_in, http):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await allow_impersonation(owner)
    admin = await sign_in(owner.email)
    created = await admin.ok(
        """mutation($org: ID!, $m: ID!) { createExtension(input: {organisationId: $org,
          number: "201", membershipId: $m}) { extension { id } errors { code } } }""",
        {"org": gid("Organisation", tree.acme.id), "m": member.membership_id},
    )
    extension = created["extension"]["id"]
    member_client = await sign_in(member.email)
    set_dnd = """mutation($id: ID!, $on: Boolean!) { setDoNotDisturb(input: {extensionId: $id,
      enabled: $on}) { extension { doNotDisturb } errors { code } } }"""
    await member_client.ok(set_dnd, {"id": extension, "on": True})

    acting = GraphQLClient(http, (await impersonate(admin, member, "away, DND left on"))["token"])
    turned_off = await acting.ok(set_dnd, {"id": extension, "on": False})
    assert turned_off["extension"]["doNotDisturb"] is False
    [event] = await AuditEvent.filter(
        impersonator_id=owner.user.id, action__startswith="extension."
    )
    assert event.actor_id == member.user.id and event.impersonator_label == owner.email
    # The member's own session still works.
    assert (await member_client.data(VIEWER))["viewer"]["user"]["email"] == member.email


async def test_an_impersonation_ended_on_the_server_falls_back_to_the_admin(tree, http):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await allow_impersonation(owner)
    await cookie_login(http, owner.email)
    start = 'mutation($id: ID!) { impersonateUser(input: {membershipId: $id, reason: "help", session: COOKIE}) { errors { code } } }'
    await http.post("/graphql", json={"query": start, "variables": {"id": member.membership_id}})
    # The impersonation ends server-side (expiry, revocation) while its cookie stays.
    await Session.filter(impersonator_id=owner.user.id).delete()
    viewer = await http.post(
        "/graphql", json={"query": "{ viewer { user { email } impersonation { reason } } }"}
    )
    assert viewer.json()["data"]["viewer"] == {
        "user": {"email": owner.email},
        "impersonation": None,
    }


async def test_the_permission_shows_only_with_the_grant(tree, sign_in):
    query = "query($o: ID!) { organisation(id: $o) { viewerPermissions } }"
    owner = await sign_in(tree["acme.owner"].email)
    acme = {"o": gid("Organisation", tree.acme.id)}
    assert (
        "MEMBERS_IMPERSONATE"
        not in (await owner.data(query, acme))["organisation"]["viewerPermissions"]
    )
    await allow_impersonation(tree["acme.owner"])
    assert (
        "MEMBERS_IMPERSONATE"
        in (await owner.data(query, acme))["organisation"]["viewerPermissions"]
    )
