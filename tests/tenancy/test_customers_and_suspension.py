"""Tenancy over HTTP: creating customers, suspension, and the per-organisation
indexes every scoped listing relies on.

The tree is provider → reseller → (acme, globex). A sibling's objects (globex,
seen from acme) and an ancestor's (reseller, provider, seen from a customer)
must look exactly like missing ones, and mutations on them must change nothing.
Administrators of a reseller administer its customers, never the provider."""

from __future__ import annotations

import re

import pytest
from tortoise import connections

from server.audit.models import AuditEvent
from server.tenancy.models import Organisation, OrganisationStatus
from tests.helpers.fixtures import PASSWORD
from tests.tenancy.scoping import (
    CREATE_ORGANISATION,
    LOGIN_DOC,
    MEMBERS,
    ORGANISATIONS,
    REACTIVATE,
    SUSPEND,
    VIEWER,
    missing_org_id,
    names,
    org_id,
    payload_of,
    snapshot,
)

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
