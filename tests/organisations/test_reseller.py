"""A reseller's day: create a customer, invite its people, list everyone
across its customers, with the company each belongs to."""

from __future__ import annotations

import asyncio

from server.accounts.models import User
from server.invitations.models import Invitation
from server.tenancy.models import Organisation
from tests.helpers.fixtures import gid
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import CONFIRM, INVITE, token_from

CREATE_ORGANISATION = """
mutation($parent: ID!, $name: String!) {
  createOrganisation(input: {parentId: $parent, name: $name}) {
    organisation { id name kind status parent { name } viewerPermissions }
    errors { field code }
  }
}"""
ALL_USERS = """
query($org: ID!, $search: String) {
  members(organisationId: $org, includeDescendants: true, search: $search, first: 100) {
    totalCount
    nodes { role status user { email } organisation { name } }
  }
}"""


async def test_reseller_creates_a_customer_invites_and_lists_everyone(
    tree, sign_in, anonymous, smtp_server
):
    reseller = await sign_in(tree["reseller.admin"].email)
    created = await reseller.ok(
        CREATE_ORGANISATION, {"parent": gid("Organisation", tree.reseller.id), "name": "Initech"}
    )
    customer = created["organisation"]
    assert customer["kind"] == "CUSTOMER" and customer["status"] == "ACTIVE"
    assert customer["parent"] == {"name": "Reseller"}
    assert "MEMBERS_MANAGE" in customer["viewerPermissions"]
    stored = await Organisation.get(name="Initech")
    assert stored.path == f"{tree.reseller.path}{stored.id}/"

    # The reseller invites the customer's first owner, who then invites a colleague.
    await reseller.ok(
        INVITE, {"org": customer["id"], "email": "boss@initech.example.com", "role": "OWNER"}
    )
    [mail] = await smtp_server.deliver()
    await anonymous.ok(
        CONFIRM, {"token": token_from(links_in(mail)[0]), "password": "initech owner passphrase"}
    )
    boss = await sign_in("boss@initech.example.com", "initech owner passphrase")
    await boss.ok(
        INVITE, {"org": customer["id"], "email": "peter@initech.example.com", "role": "MEMBER"}
    )
    [mail] = await smtp_server.deliver()
    await anonymous.ok(
        CONFIRM, {"token": token_from(links_in(mail)[0]), "password": "peter's passphrase"}
    )

    everyone = (await reseller.data(ALL_USERS, {"org": gid("Organisation", tree.reseller.id)}))[
        "members"
    ]
    companies = {(n["user"]["email"], n["organisation"]["name"]) for n in everyone["nodes"]}
    assert ("boss@initech.example.com", "Initech") in companies
    assert ("peter@initech.example.com", "Initech") in companies
    assert ("member@acme.example.com", "Acme") in companies
    assert ("member@globex.example.com", "Globex") in companies
    assert not any(name == "Provider" for _, name in companies)
    assert everyone["totalCount"] == 3 * 3 + 2  # reseller, acme, globex + initech's two

    found = await reseller.data(
        ALL_USERS, {"org": gid("Organisation", tree.reseller.id), "search": "pet"}
    )
    assert [n["user"]["email"] for n in found["members"]["nodes"]] == ["peter@initech.example.com"]

    # The new customer's owner sees only Initech, not the reseller above it.
    own = await boss.data("{ organisations { nodes { name } } }")
    assert own["organisations"]["nodes"] == [{"name": "Initech"}]


async def test_a_customer_cannot_have_customers(tree, sign_in):
    reseller = await sign_in(tree["reseller.admin"].email)
    refused = await reseller.refused(
        CREATE_ORGANISATION, {"parent": gid("Organisation", tree.acme.id), "name": "Sub"}
    )
    assert refused == ["NOT_RESELLER"]
    assert not await Organisation.exists(name="Sub")


async def test_concurrent_invitations_of_one_person_create_one(tree, sign_in, http):
    admin = await sign_in(tree["acme.admin"].email)
    variables = {
        "org": gid("Organisation", tree.acme.id),
        "email": "twin@example.com",
        "role": "MEMBER",
    }
    results = await asyncio.gather(*(admin(INVITE, variables) for _ in range(5)))
    payloads = [r["data"]["inviteUser"] for r in results]
    assert all("errors" not in r for r in results), results
    assert sum(1 for p in payloads if not p["errors"]) == 1
    assert {e["code"] for p in payloads for e in p["errors"]} == {"INVITE_PENDING"}
    assert await User.filter(email="twin@example.com").count() == 1
    assert await Invitation.filter(email="twin@example.com").count() == 1


async def test_filters_for_two_factor_and_pending_invitations(tree, sign_in):
    await User.filter(id=tree["acme.member"].user.id).update(email_two_factor=True)
    reseller = await sign_in(tree["reseller.admin"].email)
    await reseller.ok(
        INVITE,
        {
            "org": gid("Organisation", tree.globex.id),
            "email": "new@globex.example.com",
            "role": "MEMBER",
        },
    )
    query = """query($org: ID!, $tf: Boolean, $status: MembershipStatus) {
      members(organisationId: $org, includeDescendants: true, twoFactor: $tf, status: $status) {
        nodes { status user { email twoFactorEnabled } } } }"""
    org = gid("Organisation", tree.reseller.id)
    enrolled = (await reseller.data(query, {"org": org, "tf": True}))["members"]["nodes"]
    assert [n["user"] for n in enrolled] == [
        {"email": "member@acme.example.com", "twoFactorEnabled": True}
    ]
    pending = (await reseller.data(query, {"org": org, "status": "INVITED"}))["members"]["nodes"]
    assert [n["user"]["email"] for n in pending] == ["new@globex.example.com"]
    without = (await reseller.data(query, {"org": org, "tf": False}))["members"]["nodes"]
    assert "member@acme.example.com" not in [n["user"]["email"] for n in without]
