"""Tenancy: what a member of one organisation can see and do elsewhere in the tree.

The tree is provider → reseller → (acme, globex). A sibling's objects (globex,
seen from acme) and an ancestor's (reseller, provider, seen from a customer)
must look exactly like missing ones, and mutations on them must change nothing.
Administrators of a reseller administer its customers, never the provider.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tortoise import connections

from server.accounts.models import Membership, MembershipStatus, User
from server.audit.models import AuditEvent
from server.auth.models import Session
from server.core.permissions import Role
from server.invitations.models import Invitation
from server.mail.models import OutboxMail
from server.tenancy.models import Organisation, OrganisationStatus
from tests.helpers.fixtures import PASSWORD, GraphQLClient, add_person, gid

# A primary key no row has (and small enough for a PostgreSQL integer column).
MISSING_PK = 2_000_000_000

ORGANISATION = """
query Organisation($id: ID!) {
  organisation(id: $id) { name status parent { name } }
}"""
ORGANISATIONS = """
query Organisations {
  organisations { totalCount nodes { name kind status } }
}"""
MEMBERS = """
query Members($org: ID!, $descendants: Boolean! = false, $search: String, $role: Role,
              $status: MembershipStatus) {
  members(organisationId: $org, includeDescendants: $descendants, search: $search,
          role: $role, status: $status) {
    totalCount
    nodes { role status user { email } organisation { name } }
  }
}"""
INVITATIONS = """
query Invitations($org: ID!) {
  invitations(organisationId: $org) { totalCount nodes { email } }
}"""
AUDIT_EVENTS = """
query AuditEvents($org: ID!, $descendants: Boolean! = false) {
  auditEvents(organisationId: $org, includeDescendants: $descendants) {
    totalCount nodes { action }
  }
}"""
NODE = """
query Node($id: ID!) {
  node(id: $id) { __typename id }
}"""
VIEWER = """
query Viewer {
  viewer { user { email } memberships { role organisation { name } } }
}"""
MEMBERSHIPS_OF_MEMBERS = """
query MembershipsOfMembers($org: ID!, $search: String) {
  members(organisationId: $org, search: $search) {
    nodes { user { email memberships { role organisation { name } } } }
  }
}"""
USER_MEMBERSHIPS = """
query UserMemberships($id: ID!) {
  node(id: $id) { ... on User { email memberships { role organisation { name } } } }
}"""

# Mutations naming a membership: each would succeed on a plain MEMBER for an
# administrator of the member's organisation.
MEMBERSHIP_MUTATIONS = {
    "changeRole": """
      mutation ChangeRole($id: ID!) {
        changeRole(input: {membershipId: $id, role: VIEWER}) {
          errors { field code message } membership { role }
        }
      }""",
    "setFeatureAccess": """
      mutation SetFeatureAccess($id: ID!) {
        setFeatureAccess(input: {membershipId: $id, restrictRecordingDeletion: true}) {
          errors { field code message } membership { restrictRecordingDeletion }
        }
      }""",
    "disableMember": """
      mutation DisableMember($id: ID!) {
        disableMember(input: {membershipId: $id}) {
          errors { field code message } membership { status }
        }
      }""",
    "removeMember": """
      mutation RemoveMember($id: ID!) {
        removeMember(input: {membershipId: $id}) {
          errors { field code message } removedMembershipId
        }
      }""",
    "deleteUser": """
      mutation DeleteUser($id: ID!) {
        deleteUser(input: {membershipId: $id}) {
          errors { field code message } removedMembershipId
        }
      }""",
}
INVITE_USER = """
mutation InviteUser($org: ID!, $email: String! = "newcomer@example.com", $role: Role! = MEMBER) {
  inviteUser(input: {organisationId: $org, email: $email, role: $role}) {
    errors { field code message } invitation { email }
  }
}"""
CREATE_USER = """
mutation CreateUser($org: ID!) {
  createUser(input: {organisationId: $org, email: "created@example.com", role: MEMBER,
                     password: "a perfectly fine passphrase"}) {
    errors { field code message } membership { role }
  }
}"""
UPDATE_ORGANISATION = """
mutation UpdateOrganisation($org: ID!) {
  updateOrganisation(input: {organisationId: $org, name: "Renamed"}) {
    errors { field code message } organisation { name }
  }
}"""
CREATE_ORGANISATION = """
mutation CreateOrganisation($parent: ID!, $name: String! = "Initech",
                            $kind: OrganisationKind! = CUSTOMER) {
  createOrganisation(input: {parentId: $parent, name: $name, kind: $kind}) {
    errors { field code message } organisation { name kind status parent { name } }
  }
}"""
SUSPEND = """
mutation Suspend($org: ID!) {
  suspendOrganisation(input: {organisationId: $org}) {
    errors { field code message } organisation { name status }
  }
}"""
REACTIVATE = """
mutation Reactivate($org: ID!) {
  reactivateOrganisation(input: {organisationId: $org}) {
    errors { field code message } organisation { name status }
  }
}"""
INVITATION_MUTATIONS = {
    "resendInvitation": """
      mutation Resend($id: ID!) {
        resendInvitation(input: {invitationId: $id}) {
          errors { field code message } invitation { id }
        }
      }""",
    "revokeInvitation": """
      mutation Revoke($id: ID!) {
        revokeInvitation(input: {invitationId: $id}) {
          errors { field code message } invitation { id }
        }
      }""",
}
LOGIN_DOC = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { field code message } }
}"""
LOGOUT = "mutation Logout { logout { ok errors { code } } }"
UPDATE_PROFILE = """
mutation UpdateProfile { updateProfile(input: {firstName: "Mallory"}) { errors { code } } }"""


# --- helpers ----------------------------------------------------------------------------


def org_id(organisation: Organisation) -> str:
    return gid("Organisation", organisation.id)


def missing_org_id() -> str:
    return gid("Organisation", MISSING_PK)


async def snapshot() -> dict[str, Any]:
    """Every row a breach of tenancy could change (taken after signing in)."""
    return {
        "organisations": await Organisation.all().order_by("id").values(),
        "users": await User.all().order_by("id").values(),
        "memberships": await Membership.all().order_by("id").values(),
        "invitations": await Invitation.all().order_by("id").values(),
        "sessions": await Session.all().order_by("id").values("id", "user_id"),
        "outbox": await OutboxMail.all().count(),
        "audit": await AuditEvent.all().count(),
    }


async def payload_of(client: GraphQLClient, document: str, variables: dict[str, Any]) -> Any:
    """The single payload of a mutation answered without GraphQL errors."""
    data = await client.data(document, variables)
    [payload] = data.values()
    return payload


def names(connection: dict[str, Any]) -> set[str]:
    return {node["name"] for node in connection["nodes"]}


def emails(connection: dict[str, Any]) -> list[str]:
    return sorted(node["user"]["email"] for node in connection["nodes"])


async def invite(client: GraphQLClient, organisation: Organisation, email: str) -> Invitation:
    await client.ok(INVITE_USER, {"org": org_id(organisation), "email": email})
    return await Invitation.get(email=email)


# --- a sibling or an ancestor looks exactly like a missing organisation -----------------


@pytest.mark.parametrize("target", ["globex", "reseller", "provider"])
async def test_foreign_organisation_is_null_like_a_missing_one(tree, sign_in, target):
    admin = await sign_in(tree["acme.admin"].email)
    foreign = await admin(ORGANISATION, {"id": org_id(getattr(tree, target))})
    missing = await admin(ORGANISATION, {"id": missing_org_id()})
    assert foreign == missing == {"data": {"organisation": None}}


async def test_own_organisation_is_visible_without_its_parent(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    data = await admin.data(ORGANISATION, {"id": org_id(tree.acme)})
    assert data["organisation"] == {"name": "Acme", "status": "ACTIVE", "parent": None}


@pytest.mark.parametrize(
    "query", [MEMBERS, INVITATIONS, AUDIT_EVENTS], ids=["members", "invitations", "auditEvents"]
)
@pytest.mark.parametrize("target", ["globex", "reseller", "provider"])
async def test_foreign_organisation_lists_are_not_found_like_a_missing_one(
    tree, sign_in, query, target
):
    admin = await sign_in(tree["acme.admin"].email)
    foreign = await admin(query, {"org": org_id(getattr(tree, target))})
    missing = await admin(query, {"org": missing_org_id()})
    assert foreign == missing
    assert foreign["data"] is None
    assert [error["extensions"]["code"] for error in foreign["errors"]] == ["NOT_FOUND"]


async def test_descendant_listings_of_an_ancestor_are_not_found(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    for query in (MEMBERS, AUDIT_EVENTS):
        variables = {"org": org_id(tree.reseller), "descendants": True}
        assert await admin.error_code(query, variables) == "NOT_FOUND"


async def test_an_id_of_another_type_is_not_found(tree, sign_in):
    """The pk inside the global id names acme, but it is not an Organisation id."""
    admin = await sign_in(tree["acme.admin"].email)
    as_membership = gid("Membership", tree.acme.id)
    assert await admin.data(ORGANISATION, {"id": as_membership}) == {"organisation": None}
    assert await admin.error_code(MEMBERS, {"org": as_membership}) == "NOT_FOUND"
    # A Membership's pk encoded as an Organisation id finds no organisation (acme's own
    # pk aside, which would rightly find acme).
    acme_memberships = await Membership.filter(organisation_id=tree.acme.id)
    pk = next(m.id for m in acme_memberships if m.id != tree.acme.id)
    assert await admin.data(NODE, {"id": gid("Organisation", pk)}) == {"node": None}
    assert (await admin.data(NODE, {"id": tree["acme.member"].membership_id}))["node"] == {
        "__typename": "Membership",
        "id": tree["acme.member"].membership_id,
    }


# --- mutations on another organisation's objects change nothing -------------------------


@pytest.mark.parametrize("mutation", MEMBERSHIP_MUTATIONS)
@pytest.mark.parametrize("target", ["globex.member", "reseller.member", "provider.member"])
async def test_mutation_on_foreign_membership_is_not_found_and_changes_nothing(
    tree, sign_in, mutation, target
):
    admin = await sign_in(tree["acme.admin"].email)
    document = MEMBERSHIP_MUTATIONS[mutation]
    before = await snapshot()

    foreign = await payload_of(admin, document, {"id": tree[target].membership_id})
    missing = await payload_of(admin, document, {"id": gid("Membership", MISSING_PK)})

    assert foreign == missing
    assert [(e["field"], e["code"]) for e in foreign["errors"]] == [("membershipId", "NOT_FOUND")]
    assert await snapshot() == before


@pytest.mark.parametrize("mutation", MEMBERSHIP_MUTATIONS)
async def test_mutation_with_membership_pk_in_an_organisation_id_is_not_found(
    tree, sign_in, mutation
):
    admin = await sign_in(tree["acme.admin"].email)
    before = await snapshot()
    confused = gid("Organisation", tree["acme.member"].membership.id)
    payload = await payload_of(admin, MEMBERSHIP_MUTATIONS[mutation], {"id": confused})
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
    assert await snapshot() == before


@pytest.mark.parametrize(
    "document",
    [INVITE_USER, CREATE_USER, UPDATE_ORGANISATION, SUSPEND],
    ids=["inviteUser", "createUser", "updateOrganisation", "suspendOrganisation"],
)
@pytest.mark.parametrize("target", ["globex", "reseller"])
async def test_mutation_on_foreign_organisation_is_not_found_and_changes_nothing(
    tree, sign_in, document, target
):
    admin = await sign_in(tree["acme.admin"].email)
    before = await snapshot()

    foreign = await payload_of(admin, document, {"org": org_id(getattr(tree, target))})
    missing = await payload_of(admin, document, {"org": missing_org_id()})

    assert foreign == missing
    assert [(e["field"], e["code"]) for e in foreign["errors"]] == [("organisationId", "NOT_FOUND")]
    assert await snapshot() == before


@pytest.mark.parametrize("mutation", INVITATION_MUTATIONS)
async def test_mutation_on_foreign_invitation_is_not_found_and_changes_nothing(
    tree, sign_in, mutation
):
    globex_admin = await sign_in(tree["globex.admin"].email)
    invitation = await invite(globex_admin, tree.globex, "candidate@example.com")
    admin = await sign_in(tree["acme.admin"].email)
    before = await snapshot()
    document = INVITATION_MUTATIONS[mutation]

    foreign = await payload_of(admin, document, {"id": gid("Invitation", invitation.id)})
    missing = await payload_of(admin, document, {"id": gid("Invitation", MISSING_PK)})

    assert foreign == missing
    assert [(e["field"], e["code"]) for e in foreign["errors"]] == [("invitationId", "NOT_FOUND")]
    assert await snapshot() == before


# --- node(id:) --------------------------------------------------------------------------


async def test_node_of_foreign_objects_is_null(tree, sign_in):
    globex_admin = await sign_in(tree["globex.admin"].email)
    invitation = await invite(globex_admin, tree.globex, "candidate@example.com")
    event = await AuditEvent.get(action="invitation.created")
    admin = await sign_in(tree["acme.admin"].email)

    foreign = {
        "Organisation": [tree.globex.id, tree.reseller.id, tree.provider.id],
        "Membership": [tree["globex.member"].membership.id, tree["reseller.admin"].membership.id],
        "User": [tree["globex.member"].user.id, tree["reseller.admin"].user.id],
        "Invitation": [invitation.id],
        "AuditEvent": [event.id],
    }
    for type_name, pks in foreign.items():
        missing = await admin(NODE, {"id": gid(type_name, MISSING_PK)})
        assert missing == {"data": {"node": None}}
        for pk in pks:
            assert await admin(NODE, {"id": gid(type_name, pk)}) == missing, (type_name, pk)


async def test_node_of_own_objects_is_visible(tree, sign_in):
    """The positive control of the test above: the same query does find objects."""
    admin = await sign_in(tree["acme.admin"].email)
    own = [
        ("Organisation", tree.acme.id),
        ("Membership", tree["acme.member"].membership.id),
        ("User", tree["acme.member"].user.id),
    ]
    for type_name, pk in own:
        data = await admin.data(NODE, {"id": gid(type_name, pk)})
        assert data["node"] == {"__typename": type_name, "id": gid(type_name, pk)}


@pytest.mark.parametrize("type_name", ["Session", "Viewer", "Nonsense"])
async def test_node_of_an_unknown_type_is_null_not_a_fault(tree, sign_in, type_name):
    admin = await sign_in(tree["acme.admin"].email)
    assert await admin(NODE, {"id": gid(type_name, 1)}) == {"data": {"node": None}}


# --- customers never see their ancestors; resellers see their customers -----------------


async def test_customer_admin_lists_only_its_own_organisation(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    data = await admin.data(ORGANISATIONS)
    assert data["organisations"]["totalCount"] == 1
    assert data["organisations"]["nodes"] == [
        {"name": "Acme", "kind": "CUSTOMER", "status": "ACTIVE"}
    ]


async def test_reseller_admin_lists_its_subtree_but_not_the_provider(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    data = await admin.data(ORGANISATIONS)
    assert names(data["organisations"]) == {"Reseller", "Acme", "Globex"}
    assert data["organisations"]["totalCount"] == 3
    assert await admin.data(ORGANISATION, {"id": org_id(tree.provider)}) == {"organisation": None}
    reseller = await admin.data(ORGANISATION, {"id": org_id(tree.reseller)})
    assert reseller["organisation"]["parent"] is None
    acme = await admin.data(ORGANISATION, {"id": org_id(tree.acme)})
    assert acme["organisation"]["parent"] == {"name": "Reseller"}


async def test_reseller_admin_lists_members_of_its_subtree(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    data = await admin.data(MEMBERS, {"org": org_id(tree.reseller), "descendants": True})
    members = data["members"]
    assert members["totalCount"] == 9
    by_organisation = sorted(
        (node["organisation"]["name"], node["user"]["email"]) for node in members["nodes"]
    )
    assert by_organisation == sorted(
        (organisation, f"{role}@{organisation.lower()}.example.com")
        for organisation in ("Reseller", "Acme", "Globex")
        for role in ("owner", "admin", "member")
    )
    # Without includeDescendants: the reseller's own members only.
    own = await admin.data(MEMBERS, {"org": org_id(tree.reseller)})
    assert {node["organisation"]["name"] for node in own["members"]["nodes"]} == {"Reseller"}
    assert own["members"]["totalCount"] == 3


async def test_descendant_member_filters(tree, sign_in):
    await Membership.filter(id=tree["globex.member"].membership.id).update(
        status=MembershipStatus.DISABLED
    )
    admin = await sign_in(tree["reseller.admin"].email)
    everyone = {"org": org_id(tree.reseller), "descendants": True}

    async def listed(**filters: Any) -> list[str]:
        return emails((await admin.data(MEMBERS, {**everyone, **filters}))["members"])

    assert await listed(search="owner") == [
        "owner@acme.example.com",
        "owner@globex.example.com",
        "owner@reseller.example.com",
    ]
    assert await listed(role="ADMIN") == [
        "admin@acme.example.com",
        "admin@globex.example.com",
        "admin@reseller.example.com",
    ]
    assert await listed(status="DISABLED") == ["member@globex.example.com"]
    assert await listed(search="member", status="ACTIVE") == [
        "member@acme.example.com",
        "member@reseller.example.com",
    ]
    assert await listed(search="nobody") == []


async def test_a_reseller_viewer_sees_its_customers_read_only(tree, sign_in):
    """ "Portal access": a reseller VIEWER lists the customers' people too, and changes nothing."""
    viewer = await add_person(tree.reseller, "viewer@reseller.example.com", Role.VIEWER)
    client = await sign_in(viewer.email)
    data = await client.data(MEMBERS, {"org": org_id(tree.reseller), "descendants": True})
    assert {node["organisation"]["name"] for node in data["members"]["nodes"]} == {
        "Reseller",
        "Acme",
        "Globex",
    }
    children = await client.data(
        "query($id: ID!) { organisation(id: $id) { children { nodes { name viewerPermissions } } } }",
        {"id": org_id(tree.reseller)},
    )
    assert children["organisation"]["children"]["nodes"] == [
        {
            "name": name,
            "viewerPermissions": [
                "ORGANISATION_VIEW",
                "MEMBERS_VIEW",
                "CONTACTS_VIEW",
                "EXTENSIONS_VIEW",
            ],
        }
        for name in ("Acme", "Globex")
    ]
    before = await snapshot()
    assert (
        await client.error_code(
            MEMBERSHIP_MUTATIONS["disableMember"], {"id": tree["acme.member"].membership_id}
        )
        == "FORBIDDEN"
    )
    assert await snapshot() == before
    # An acme admin asking for acme's descendants gets acme only (it has none).
    admin = await sign_in(tree["acme.admin"].email)
    data = await admin.data(MEMBERS, {"org": org_id(tree.acme), "descendants": True})
    assert emails(data["members"]) == [
        "admin@acme.example.com",
        "member@acme.example.com",
        "owner@acme.example.com",
    ]


# --- roles without the permission, and no session at all --------------------------------


async def test_member_role_is_forbidden_to_list_or_invite(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    before = await snapshot()
    assert await member.error_code(MEMBERS, {"org": org_id(tree.acme)}) == "FORBIDDEN"
    assert await member.error_code(INVITE_USER, {"org": org_id(tree.acme)}) == "FORBIDDEN"
    assert await member.error_code(AUDIT_EVENTS, {"org": org_id(tree.acme)}) == "FORBIDDEN"
    # Somewhere the member cannot see at all: not found, never "forbidden".
    assert await member.error_code(MEMBERS, {"org": org_id(tree.globex)}) == "NOT_FOUND"
    assert await snapshot() == before


UNAUTHENTICATED_CALLS = {
    "organisations": (ORGANISATIONS, lambda tree: {}),
    "organisation": (ORGANISATION, lambda tree: {"id": org_id(tree.acme)}),
    "members": (MEMBERS, lambda tree: {"org": org_id(tree.acme)}),
    "invitations": (INVITATIONS, lambda tree: {"org": org_id(tree.acme)}),
    "auditEvents": (AUDIT_EVENTS, lambda tree: {"org": org_id(tree.acme)}),
    "inviteUser": (INVITE_USER, lambda tree: {"org": org_id(tree.acme)}),
    "changeRole": (
        MEMBERSHIP_MUTATIONS["changeRole"],
        lambda tree: {"id": tree["acme.member"].membership_id},
    ),
    "createOrganisation": (CREATE_ORGANISATION, lambda tree: {"parent": org_id(tree.reseller)}),
    "logout": (LOGOUT, lambda tree: {}),
    "updateProfile": (UPDATE_PROFILE, lambda tree: {}),
}


@pytest.mark.parametrize("token", [None, "fds_not-a-real-session-token"], ids=["none", "bogus"])
@pytest.mark.parametrize("call", UNAUTHENTICATED_CALLS)
async def test_calls_without_a_session_are_unauthenticated(tree, http, call, token):
    client = GraphQLClient(http, token)
    document, variables = UNAUTHENTICATED_CALLS[call]
    before = await snapshot()
    assert await client.error_code(document, variables(tree)) == "UNAUTHENTICATED"
    assert await snapshot() == before


async def test_without_a_session_viewer_and_node_are_null(tree, anonymous):
    assert await anonymous(VIEWER) == {"data": {"viewer": None}}
    assert await anonymous(NODE, {"id": org_id(tree.acme)}) == {"data": {"node": None}}


# --- a person in two organisations ------------------------------------------------------


async def test_user_memberships_show_only_what_the_viewer_may_see(tree, sign_in):
    shared = await add_person(tree.acme, "shared@example.com", Role.MEMBER)
    await add_person(tree.globex, "shared@example.com", Role.ADMIN)
    user_id = gid("User", shared.user.id)
    acme_only = [{"role": "MEMBER", "organisation": {"name": "Acme"}}]

    admin = await sign_in(tree["acme.admin"].email)
    listed = await admin.data(
        MEMBERSHIPS_OF_MEMBERS, {"org": org_id(tree.acme), "search": "shared"}
    )
    [node] = listed["members"]["nodes"]
    assert node["user"]["memberships"] == acme_only
    by_id = await admin.data(USER_MEMBERSHIPS, {"id": user_id})
    assert by_id["node"]["memberships"] == acme_only

    # Positive controls: the reseller administers both, the person sees both.
    both = [
        {"role": "MEMBER", "organisation": {"name": "Acme"}},
        {"role": "ADMIN", "organisation": {"name": "Globex"}},
    ]
    reseller = await sign_in(tree["reseller.admin"].email)
    assert (await reseller.data(USER_MEMBERSHIPS, {"id": user_id}))["node"]["memberships"] == both
    person = await sign_in(shared.email)
    assert (await person.data(VIEWER))["viewer"]["memberships"] == both


# --- creating customers -----------------------------------------------------------------


async def test_reseller_admin_creates_a_customer_under_the_reseller(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    payload = await admin.ok(CREATE_ORGANISATION, {"parent": org_id(tree.reseller)})
    assert payload["organisation"] == {
        "name": "Initech",
        "kind": "CUSTOMER",
        "status": "ACTIVE",
        "parent": {"name": "Reseller"},
    }
    created = await Organisation.get(name="Initech")
    assert created.parent_id == tree.reseller.id
    assert created.path == f"{tree.reseller.path}{created.id}/"
    assert names((await admin.data(ORGANISATIONS))["organisations"]) == {
        "Reseller",
        "Acme",
        "Globex",
        "Initech",
    }
    assert await AuditEvent.filter(
        action="organisation.created", organisation_id=created.id
    ).exists()


async def test_customer_admin_cannot_create_organisations(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    before = await snapshot()

    under_acme = await payload_of(admin, CREATE_ORGANISATION, {"parent": org_id(tree.acme)})
    assert [(e["field"], e["code"]) for e in under_acme["errors"]] == [("kind", "NOT_RESELLER")]
    under_reseller = await payload_of(admin, CREATE_ORGANISATION, {"parent": org_id(tree.reseller)})
    missing = await payload_of(admin, CREATE_ORGANISATION, {"parent": missing_org_id()})
    assert under_reseller == missing
    assert [(e["field"], e["code"]) for e in under_reseller["errors"]] == [
        ("parentId", "NOT_FOUND")
    ]

    assert under_acme["organisation"] is under_reseller["organisation"] is None
    assert await snapshot() == before


async def test_reseller_cannot_create_a_reseller(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    before = await snapshot()
    variables = {"parent": org_id(tree.reseller), "kind": "RESELLER"}
    assert await admin.refused(CREATE_ORGANISATION, variables) == ["NOT_RESELLER"]
    assert await snapshot() == before


# --- suspension -------------------------------------------------------------------------


async def test_reseller_admin_suspends_and_reactivates_a_customer(tree, sign_in, anonymous):
    acme_owner = tree["acme.owner"]
    existing_session = await sign_in(acme_owner.email)
    admin = await sign_in(tree["reseller.admin"].email)

    suspended = await admin.ok(SUSPEND, {"org": org_id(tree.acme)})
    assert suspended["organisation"] == {"name": "Acme", "status": "SUSPENDED"}
    assert (await Organisation.get(id=tree.acme.id)).status is OrganisationStatus.SUSPENDED
    assert await AuditEvent.filter(
        action="organisation.suspended", organisation_id=tree.acme.id
    ).exists()

    # Nobody in acme can sign in; a session opened before has ended.
    login = await payload_of(
        anonymous, LOGIN_DOC, {"email": acme_owner.email, "password": PASSWORD}
    )
    assert [e["code"] for e in login["errors"]] == ["INVALID_CREDENTIALS"]
    assert login["token"] is None
    assert (await existing_session.data(VIEWER))["viewer"] is None
    assert (
        await existing_session.error_code(MEMBERS, {"org": org_id(tree.acme)}) == "UNAUTHENTICATED"
    )
    # Globex, the sibling, is untouched.
    await sign_in(tree["globex.owner"].email)

    reactivated = await admin.ok(REACTIVATE, {"org": org_id(tree.acme)})
    assert reactivated["organisation"] == {"name": "Acme", "status": "ACTIVE"}
    again = await sign_in(acme_owner.email)
    assert (await again.data(VIEWER))["viewer"]["memberships"] == [
        {"role": "OWNER", "organisation": {"name": "Acme"}}
    ]


async def test_suspending_a_reseller_locks_out_its_customers(tree, sign_in, anonymous):
    provider = await sign_in(tree["provider.admin"].email)
    await provider.ok(SUSPEND, {"org": org_id(tree.reseller)})
    for person in ("reseller.admin", "acme.owner", "globex.member"):
        login = await payload_of(
            anonymous, LOGIN_DOC, {"email": tree[person].email, "password": PASSWORD}
        )
        assert [e["code"] for e in login["errors"]] == ["INVALID_CREDENTIALS"], person
    await sign_in(tree["provider.member"].email)


async def test_reactivation_does_not_revive_sessions_from_before_the_suspension(tree, sign_in):
    existing_session = await sign_in(tree["acme.owner"].email)
    admin = await sign_in(tree["reseller.admin"].email)
    await admin.ok(SUSPEND, {"org": org_id(tree.acme)})
    await admin.ok(REACTIVATE, {"org": org_id(tree.acme)})
    assert await existing_session(VIEWER) == {"data": {"viewer": None}}


async def test_customer_cannot_suspend_itself_or_a_sibling(tree, sign_in):
    owner = await sign_in(tree["acme.owner"].email)
    before = await snapshot()

    own = await payload_of(owner, SUSPEND, {"org": org_id(tree.acme)})
    assert [e["code"] for e in own["errors"]] == ["INVALID_STATE"]
    sibling = await payload_of(owner, SUSPEND, {"org": org_id(tree.globex)})
    assert [(e["field"], e["code"]) for e in sibling["errors"]] == [("organisationId", "NOT_FOUND")]

    assert await snapshot() == before
    assert (await Organisation.get(id=tree.acme.id)).status is OrganisationStatus.ACTIVE


async def test_reseller_cannot_suspend_itself(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    before = await snapshot()
    assert await admin.refused(SUSPEND, {"org": org_id(tree.reseller)}) == ["INVALID_STATE"]
    assert await snapshot() == before


# --- the per-organisation indexes every scoped listing relies on ---------------------

INDEXES_BY_ORGANISATION = {
    "membership": ["organisation_id", "status", "role"],
    "invitation": ["organisation_id", "accepted_at", "revoked_at"],
}


async def index_columns(table: str) -> list[list[str | None]]:
    """The key columns of each index on `table` (None for an expression)."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        indexes = []
        for index in await conn.execute_query_dict(f"PRAGMA index_list('{table}')"):
            info = await conn.execute_query_dict(f"PRAGMA index_xinfo('{index['name']}')")
            indexes.append([column["name"] for column in info if column["key"]])
        return indexes
    rows = await conn.execute_query_dict(
        "SELECT indexdef FROM pg_indexes WHERE tablename = $1", [table]
    )
    definitions = [re.search(r"\((.*)\)", row["indexdef"]).group(1) for row in rows]
    return [[c.strip().strip('"') for c in d.split(",")] for d in definitions]


@pytest.mark.parametrize("table", INDEXES_BY_ORGANISATION)
async def test_per_organisation_index_covers_the_organisation_column(database, table):
    assert INDEXES_BY_ORGANISATION[table] in await index_columns(table)
