"""Managing members: roles, feature grants, disable / enable, remove, delete,
and the rules between people (rank, the last owner) under concurrency."""

from __future__ import annotations

import asyncio

from server.accounts.models import Membership, MembershipStatus, User
from server.audit.models import AuditEvent
from server.auth.models import Session
from server.core.permissions import Role
from tests.helpers.audit import own_details
from tests.helpers.fixtures import PASSWORD, GraphQLClient, add_person, gid

CHANGE_ROLE = """
mutation($id: ID!, $role: Role!) {
  changeRole(input: {membershipId: $id, role: $role}) {
    membership { role permissions } errors { field code message }
  }
}"""
FEATURES = """
mutation($id: ID!, $tickets: TicketAccess, $imp: Boolean, $rec: Boolean) {
  setFeatureAccess(input: {membershipId: $id, ticketAccess: $tickets, canImpersonate: $imp,
                           restrictRecordingDeletion: $rec}) {
    membership { ticketAccess canImpersonate restrictRecordingDeletion } errors { field code }
  }
}"""
DISABLE = "mutation($id: ID!) { disableMember(input: {membershipId: $id}) { membership { status } errors { code } } }"
ENABLE = "mutation($id: ID!) { enableMember(input: {membershipId: $id}) { membership { status } errors { code } } }"
REMOVE = "mutation($id: ID!) { removeMember(input: {membershipId: $id}) { removedMembershipId errors { code } } }"
DELETE = "mutation($id: ID!) { deleteUser(input: {membershipId: $id}) { removedMembershipId errors { code } } }"
MEMBERS = """
query($org: ID!, $status: MembershipStatus) {
  members(organisationId: $org, status: $status) { totalCount nodes { status role user { email } } }
}"""
VIEWER = "{ viewer { user { email } } }"


async def test_role_change_replaces_the_previous_role(tree, sign_in):
    owner = await sign_in(tree["acme.owner"].email)
    member = tree["acme.member"]
    payload = await owner.ok(CHANGE_ROLE, {"id": member.membership_id, "role": "ADMIN"})
    assert payload["membership"]["role"] == "ADMIN"
    assert "MEMBERS_MANAGE" in payload["membership"]["permissions"]
    assert [m.role for m in await Membership.filter(user_id=member.user.id)] == [Role.ADMIN]
    event = await AuditEvent.get(action="member.role_changed")
    assert own_details(event.details) == {"before": {"role": "MEMBER"}, "after": {"role": "ADMIN"}}
    assert event.actor_label == tree["acme.owner"].email
    assert event.client_ip == "203.0.113.7" and event.request_id


async def test_admin_cannot_touch_an_owner_or_grant_above_itself(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    owner = tree["acme.owner"]
    assert await admin.refused(CHANGE_ROLE, {"id": owner.membership_id, "role": "MEMBER"}) == [
        "HIGHER_ROLE"
    ]
    assert await admin.refused(DISABLE, {"id": owner.membership_id}) == ["HIGHER_ROLE"]
    assert await admin.refused(REMOVE, {"id": owner.membership_id}) == ["HIGHER_ROLE"]
    assert await admin.refused(
        CHANGE_ROLE, {"id": tree["acme.member"].membership_id, "role": "OWNER"}
    ) == ["OUT_OF_SCOPE_ROLE"]
    assert (await Membership.get(id=owner.membership.id)).status is MembershipStatus.ACTIVE
    assert not await AuditEvent.filter(action__startswith="member.").exists()


async def test_member_role_cannot_manage(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    body = await member(CHANGE_ROLE, {"id": tree["acme.admin"].membership_id, "role": "MEMBER"})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await Membership.get(id=tree["acme.admin"].membership.id)).role is Role.ADMIN


async def test_last_owner_is_kept(tree, sign_in):
    owner_person = tree["acme.owner"]
    owner = await sign_in(owner_person.email)
    assert await owner.refused(
        CHANGE_ROLE, {"id": owner_person.membership_id, "role": "ADMIN"}
    ) == ["LAST_OWNER"]
    # An owner acting from above (reseller) cannot leave the customer ownerless either.
    reseller = await sign_in(tree["reseller.admin"].email)
    assert await reseller.refused(DISABLE, {"id": owner_person.membership_id}) == ["LAST_OWNER"]
    assert await reseller.refused(REMOVE, {"id": owner_person.membership_id}) == ["LAST_OWNER"]
    assert await reseller.refused(DELETE, {"id": owner_person.membership_id}) == ["LAST_OWNER"]
    assert (await Membership.get(id=owner_person.membership.id)).role is Role.OWNER


async def test_two_concurrent_demotions_leave_one_owner(tree, http, sign_in):
    second = await add_person(tree.acme, "second.owner@acme.example.com", Role.OWNER)
    first = tree["acme.owner"]
    a = await sign_in(first.email)
    b = await sign_in(second.email)
    # Each owner demotes the other at the same moment.
    results = await asyncio.gather(
        a(CHANGE_ROLE, {"id": second.membership_id, "role": "ADMIN"}),
        b(CHANGE_ROLE, {"id": first.membership_id, "role": "ADMIN"}),
    )
    outcomes = [r["data"]["changeRole"] for r in results]
    errors = [o["errors"] for o in outcomes if o["errors"]]
    assert len(errors) == 1 and errors[0][0]["code"] == "LAST_OWNER", outcomes
    owners = await Membership.filter(organisation_id=tree.acme.id, role=Role.OWNER).count()
    assert owners == 1


async def test_self_demotions_in_parallel_leave_one_owner(tree, sign_in):
    second = await add_person(tree.acme, "second.owner@acme.example.com", Role.OWNER)
    first = tree["acme.owner"]
    a = await sign_in(first.email)
    b = await sign_in(second.email)
    await asyncio.gather(
        a(CHANGE_ROLE, {"id": first.membership_id, "role": "MEMBER"}),
        b(CHANGE_ROLE, {"id": second.membership_id, "role": "MEMBER"}),
    )
    assert await Membership.filter(organisation_id=tree.acme.id, role=Role.OWNER).count() == 1


async def test_disable_and_enable(tree, sign_in, anonymous):
    target = tree["acme.member"]
    victim = await sign_in(target.email)
    assert (await victim.data(VIEWER))["viewer"]["user"]["email"] == target.email
    admin = await sign_in(tree["acme.admin"].email)

    assert (await admin.ok(DISABLE, {"id": target.membership_id}))["membership"][
        "status"
    ] == "DISABLED"
    # The live session stops working at once; log-in is refused with the generic error.
    assert (await victim.data(VIEWER))["viewer"] is None
    login = await anonymous.refused(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token errors { code } } }",
        {"e": target.email, "p": PASSWORD},
    )
    assert login == ["INVALID_CREDENTIALS"]
    # Still listed.
    listed = await admin.data(
        MEMBERS, {"org": gid("Organisation", tree.acme.id), "status": "DISABLED"}
    )
    assert listed["members"]["nodes"] == [
        {"status": "DISABLED", "role": "MEMBER", "user": {"email": target.email}}
    ]
    assert await admin.refused(DISABLE, {"id": target.membership_id}) == ["INVALID_STATE"]

    assert (await admin.ok(ENABLE, {"id": target.membership_id}))["membership"][
        "status"
    ] == "ACTIVE"
    # Reactivation does not revive the old session.
    assert (await victim.data(VIEWER))["viewer"] is None
    again = await sign_in(target.email)
    assert (await again.data(VIEWER))["viewer"]["user"]["email"] == target.email


async def test_disabled_in_one_organisation_still_works_in_another(tree, sign_in):
    both = tree["globex.member"]
    await add_person(tree.acme, both.email, Role.MEMBER)
    acme_membership = await Membership.get(organisation_id=tree.acme.id, user_id=both.user.id)
    admin = await sign_in(tree["acme.admin"].email)
    await admin.ok(DISABLE, {"id": gid("Membership", acme_membership.id)})
    person = await sign_in(both.email)
    names = [
        m["organisation"]["name"]
        for m in (await person.data("{ viewer { memberships { organisation { name } } } }"))[
            "viewer"
        ]["memberships"]
    ]
    assert names == ["Globex"]


async def test_cannot_disable_or_remove_oneself(tree, sign_in):
    admin_person = tree["acme.admin"]
    admin = await sign_in(admin_person.email)
    assert await admin.refused(DISABLE, {"id": admin_person.membership_id}) == ["SELF_ACTION"]
    assert await admin.refused(REMOVE, {"id": admin_person.membership_id}) == ["SELF_ACTION"]


async def test_remove_unlinks_and_ends_sessions(tree, sign_in):
    target = tree["acme.member"]
    victim = await sign_in(target.email)
    admin = await sign_in(tree["acme.admin"].email)
    await admin.ok(REMOVE, {"id": target.membership_id})
    assert not await Membership.exists(id=target.membership.id)
    assert await User.exists(id=target.user.id)  # the person stays; only the link goes
    assert (await victim.data(VIEWER))["viewer"] is None
    assert await Session.filter(user_id=target.user.id).count() == 0
    event = await AuditEvent.get(action="member.removed")
    assert event.target_label == target.email and event.organisation_id == tree.acme.id
    members = await admin.data(MEMBERS, {"org": gid("Organisation", tree.acme.id), "status": None})
    assert target.email not in [n["user"]["email"] for n in members["members"]["nodes"]]


async def test_delete_erases_the_person_and_pseudonymises_audit(tree, sign_in):
    target = tree["acme.member"]
    person = await sign_in(target.email)
    await person.ok(
        'mutation { updateProfile(input: {title: "Engineer"}) { user { title } errors { code } } }'
    )
    admin = await sign_in(tree["acme.admin"].email)
    await admin.ok(DELETE, {"id": target.membership_id})
    assert not await User.exists(id=target.user.id)
    labels = [e.actor_label for e in await AuditEvent.filter(actor_id=target.user.id)]
    assert labels and all(label == f"deleted-user-{target.user.id}" for label in labels)
    assert not await AuditEvent.filter(target_label=target.email).exists()
    assert not await AuditEvent.filter(actor_label=target.email).exists()


async def test_delete_refused_while_other_memberships_remain(tree, sign_in):
    both = tree["globex.member"]
    extra = await add_person(tree.acme, both.email, Role.MEMBER)
    admin = await sign_in(tree["acme.admin"].email)
    assert await admin.refused(DELETE, {"id": extra.membership_id}) == ["HAS_MEMBERSHIPS"]
    assert await Membership.filter(user_id=both.user.id).count() == 2


async def test_feature_access(tree, sign_in):
    owner = await sign_in(tree["acme.owner"].email)
    admin_person = tree["acme.admin"]
    payload = await owner.ok(
        FEATURES, {"id": admin_person.membership_id, "tickets": "ACCOUNT", "imp": True, "rec": True}
    )
    assert payload["membership"] == {
        "ticketAccess": "ACCOUNT",
        "canImpersonate": True,
        "restrictRecordingDeletion": True,
    }
    # Only what is given changes.
    payload = await owner.ok(FEATURES, {"id": admin_person.membership_id, "rec": False})
    assert payload["membership"] == {
        "ticketAccess": "ACCOUNT",
        "canImpersonate": True,
        "restrictRecordingDeletion": False,
    }
    # A MEMBER cannot be given impersonation.
    assert await owner.refused(
        FEATURES, {"id": tree["acme.member"].membership_id, "imp": True}
    ) == ["INVALID"]


async def test_feature_access_follows_the_first_log_in_setting_and_held_grants(tree, sign_in):
    never = await add_person(tree.acme, "never@acme.example.com", Role.MEMBER, logged_in=False)
    owner = await sign_in(tree["acme.owner"].email)
    # By default grants and restrictions can be set before the first sign-in...
    given = await owner.ok(FEATURES, {"id": never.membership_id, "tickets": "ACCOUNT"})
    assert given["membership"]["ticketAccess"] == "ACCOUNT"
    # ...unless the organisation keeps ticket access for people who signed in (UKCloud).
    tree.acme.ticket_access_after_first_sign_in = True
    await tree.acme.save()
    assert await owner.refused(FEATURES, {"id": never.membership_id, "tickets": "OWN"}) == [
        "NEVER_LOGGED_IN"
    ]
    # An admin without the impersonation right cannot hand it out.
    admin = await sign_in(tree["acme.admin"].email)
    other_admin = await add_person(tree.acme, "admin2@acme.example.com", Role.ADMIN)
    assert await admin.refused(FEATURES, {"id": other_admin.membership_id, "imp": True}) == [
        "OUT_OF_SCOPE_PERMISSION"
    ]
    assert not (await Membership.get(id=other_admin.membership.id)).can_impersonate


async def test_update_profile(tree, sign_in):
    person = await sign_in(tree["acme.member"].email)
    payload = await person.ok(
        'mutation { updateProfile(input: {firstName: "Ann", officePhone: "+44 20 7946 0000", fax: ""}) '
        "{ user { firstName lastName officePhone fax } errors { code } } }"
    )
    assert payload["user"] == {
        "firstName": "Ann",
        "lastName": "Test",
        "officePhone": "+44 20 7946 0000",
        "fax": "",
    }


async def test_password_change_ends_other_sessions(tree, sign_in, smtp_server):
    email = tree["acme.member"].email
    other_device = await sign_in(email)
    this_device = await sign_in(email)
    changed = await this_device.ok(
        "mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) { token errors { code } } }",
        {"c": PASSWORD, "n": "a brand new passphrase"},
    )
    this_device.token = changed["token"]  # the session goes on under a new token
    assert (await other_device.data(VIEWER))["viewer"] is None
    assert (await this_device.data(VIEWER))["viewer"]["user"]["email"] == email
    [notice] = await smtp_server.deliver()
    assert notice["To"] == email and "changed" in notice["Subject"]


async def test_role_change_takes_effect_on_the_next_request(tree, sign_in):
    admin_person = tree["acme.admin"]
    admin = await sign_in(admin_person.email)
    query = "query($o: ID!) { members(organisationId: $o) { totalCount } }"
    org = {"o": gid("Organisation", tree.acme.id)}
    assert (await admin.data(query, org))["members"]["totalCount"] == 3
    owner = await sign_in(tree["acme.owner"].email)
    await owner.ok(CHANGE_ROLE, {"id": admin_person.membership_id, "role": "MEMBER"})
    assert await admin.error_code(query, org) == "FORBIDDEN"


async def test_unauthenticated(anonymous: GraphQLClient, tree):
    assert (
        await anonymous.error_code(DISABLE, {"id": tree["acme.member"].membership_id})
        == "UNAUTHENTICATED"
    )
