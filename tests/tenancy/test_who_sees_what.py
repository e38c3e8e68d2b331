"""Tenancy over HTTP: who lists what (customers never see their ancestors,
resellers see their customers), roles without the permission, no session, and
a person in two organisations.

The tree is provider → reseller → (acme, globex). A sibling's objects (globex,
seen from acme) and an ancestor's (reseller, provider, seen from a customer)
must look exactly like missing ones, and mutations on them must change nothing.
Administrators of a reseller administer its customers, never the provider."""

from __future__ import annotations

from typing import Any

import pytest

from server.accounts.models import Membership, MembershipStatus
from server.core.permissions import Role
from tests.helpers.fixtures import GraphQLClient, add_person, gid
from tests.tenancy.scoping import (
    AUDIT_EVENTS,
    CREATE_ORGANISATION,
    INVITATIONS,
    INVITE_USER,
    LOGOUT,
    MEMBERS,
    MEMBERSHIP_MUTATIONS,
    MEMBERSHIPS_OF_MEMBERS,
    NODE,
    ORGANISATION,
    ORGANISATIONS,
    UPDATE_PROFILE,
    USER_MEMBERSHIPS,
    VIEWER,
    emails,
    names,
    org_id,
    snapshot,
)

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
