"""Tenancy over HTTP: another organisation, its objects and ids of another type
look exactly like missing ones, and mutations on them change nothing.

The tree is provider → reseller → (acme, globex). A sibling's objects (globex,
seen from acme) and an ancestor's (reseller, provider, seen from a customer)
must look exactly like missing ones, and mutations on them must change nothing.
Administrators of a reseller administer its customers, never the provider."""

from __future__ import annotations

import pytest

from server.accounts.models import Membership
from server.audit.models import AuditEvent
from tests.helpers.fixtures import gid
from tests.tenancy.scoping import (
    AUDIT_EVENTS,
    CREATE_USER,
    INVITATION_MUTATIONS,
    INVITATIONS,
    INVITE_USER,
    MEMBERS,
    MEMBERSHIP_MUTATIONS,
    MISSING_PK,
    NODE,
    ORGANISATION,
    SUSPEND,
    UPDATE_ORGANISATION,
    invite,
    missing_org_id,
    org_id,
    payload_of,
    snapshot,
)

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
