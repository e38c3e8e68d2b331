"""Seat limits: "how many users can I add to my account?"."""

from __future__ import annotations

import asyncio

from server.accounts.models import Membership
from tests.helpers.fixtures import gid

SET_LIMIT = """mutation($org: ID!, $limit: Int) {
  setSeatLimit(input: {organisationId: $org, limit: $limit}) {
    organisation { seats { limit used available } } errors { field code } } }"""
SEATS = "query($org: ID!) { organisation(id: $org) { seats { limit used available } } }"
INVITE = """mutation($org: ID!, $email: String!) {
  inviteUser(input: {organisationId: $org, email: $email, role: MEMBER}) { errors { code } } }"""
CREATE_USER = """mutation($org: ID!, $email: String!) {
  createUser(input: {organisationId: $org, email: $email, role: MEMBER, password: "initial passphrase 9"}) {
    errors { code } } }"""


async def test_reseller_limits_a_customer_and_pending_invitations_count(tree, sign_in):
    reseller = await sign_in(tree["reseller.admin"].email)
    acme = gid("Organisation", tree.acme.id)
    limited = await reseller.ok(SET_LIMIT, {"org": acme, "limit": 5})
    assert limited["organisation"]["seats"] == {"limit": 5, "used": 3, "available": 2}

    admin = await sign_in(tree["acme.admin"].email)
    await admin.ok(INVITE, {"org": acme, "email": "four@example.com"})
    await admin.ok(CREATE_USER, {"org": acme, "email": "five@example.com"})
    assert await admin.refused(INVITE, {"org": acme, "email": "six@example.com"}) == ["SEAT_LIMIT"]
    assert await admin.refused(CREATE_USER, {"org": acme, "email": "six@example.com"}) == [
        "SEAT_LIMIT"
    ]
    assert (await admin.data(SEATS, {"org": acme}))["organisation"]["seats"] == {
        "limit": 5,
        "used": 5,
        "available": 0,
    }
    assert await Membership.filter(organisation_id=tree.acme.id).count() == 5

    await reseller.ok(SET_LIMIT, {"org": acme, "limit": None})
    await admin.ok(INVITE, {"org": acme, "email": "six@example.com"})


async def test_only_a_parent_sets_the_limit(tree, sign_in):
    owner = await sign_in(tree["acme.owner"].email)
    acme = gid("Organisation", tree.acme.id)
    assert await owner.refused(SET_LIMIT, {"org": acme, "limit": 100}) == ["INVALID_STATE"]
    reseller = await sign_in(tree["reseller.admin"].email)
    assert await reseller.refused(SET_LIMIT, {"org": acme, "limit": -1}) == ["INVALID"]
    assert (await owner.data(SEATS, {"org": acme}))["organisation"]["seats"]["limit"] is None


async def test_concurrent_invitations_never_exceed_the_limit(tree, sign_in):
    reseller = await sign_in(tree["reseller.admin"].email)
    acme = gid("Organisation", tree.acme.id)
    await reseller.ok(SET_LIMIT, {"org": acme, "limit": 5})
    admin = await sign_in(tree["acme.admin"].email)
    results = await asyncio.gather(
        *(admin(INVITE, {"org": acme, "email": f"racer{i}@example.com"}) for i in range(6))
    )
    outcomes = [r["data"]["inviteUser"]["errors"] for r in results]
    assert sum(1 for errors in outcomes if not errors) == 2
    assert await Membership.filter(organisation_id=tree.acme.id).count() == 5
