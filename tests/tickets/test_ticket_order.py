"""Ticket lists in order: newest first by default, oldest first, last updated,
by status (workflow order); paging by keyset in each order, with cursors that
page only the order they came from."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from server.core import clock
from server.core.permissions import Role, TicketAccess
from server.tickets.models import Ticket
from tests.helpers.fixtures import GraphQLClient, add_person, gid
from tests.tickets.test_tickets import COMMENT, STATUS, raise_ticket, set_access

ORDERED = """
query($org: ID!, $order: TicketOrder, $desc: Boolean! = false, $first: Int, $after: String,
      $search: String) {
  tickets(organisationId: $org, order: $order, includeDescendants: $desc, first: $first,
          after: $after, search: $search) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { subject status }
  }
}"""


async def listed(client: GraphQLClient, org_id: int, **variables) -> list[str]:  # type: ignore[no-untyped-def]
    data = await client.data(ORDERED, {"org": gid("Organisation", org_id), **variables})
    return [node["subject"] for node in data["tickets"]["nodes"]]


async def paged(client: GraphQLClient, org_id: int, **variables) -> list[str]:  # type: ignore[no-untyped-def]
    """Every ticket, one per page, following the cursors."""
    seen: list[str] = []
    after = None
    while True:
        data = await client.data(
            ORDERED, {"org": gid("Organisation", org_id), "first": 1, "after": after, **variables}
        )
        seen += [node["subject"] for node in data["tickets"]["nodes"]]
        page = data["tickets"]["pageInfo"]
        if not page["hasNextPage"]:
            return seen
        after = page["endCursor"]
        assert len(seen) < 20


@pytest.fixture
async def desk_queue(tree, sign_in):  # type: ignore[no-untyped-def]
    """Five tickets a minute apart, in Acme and Globex; the reseller's desk handles them."""
    acme = await sign_in(tree["acme.member"].email)
    globex = await sign_in(tree["globex.member"].email)
    desk = await add_person(tree.reseller, "desk@reseller.example.com", Role.MEMBER)
    await set_access(desk, TicketAccess.ACCOUNT)
    ids = {}
    for subject, client, org in (
        ("one", acme, tree.acme),
        ("two", globex, tree.globex),
        ("three", acme, tree.acme),
        ("four", globex, tree.globex),
        ("five", acme, tree.acme),
    ):
        ids[subject] = (await raise_ticket(client, org.id, subject))["id"]
        clock.advance(timedelta(minutes=1))
    return await sign_in(desk.email), ids


async def test_newest_first_by_default_and_oldest_first_on_request(tree, desk_queue):
    desk, _ = desk_queue
    everything = {"desc": True}
    assert await listed(desk, tree.reseller.id, **everything) == [
        "five",
        "four",
        "three",
        "two",
        "one",
    ]
    assert await listed(desk, tree.reseller.id, order="OLDEST_FIRST", **everything) == [
        "one",
        "two",
        "three",
        "four",
        "five",
    ]
    assert await paged(desk, tree.reseller.id, **everything) == [
        "five",
        "four",
        "three",
        "two",
        "one",
    ]
    assert await paged(desk, tree.reseller.id, order="OLDEST_FIRST", **everything) == [
        "one",
        "two",
        "three",
        "four",
        "five",
    ]


async def test_last_updated_and_status_orders_page_without_repeats(tree, sign_in, desk_queue):
    desk, ids = desk_queue
    await desk.ok(COMMENT, {"id": ids["two"], "body": "Looking at it."})
    clock.advance(timedelta(minutes=1))
    await desk.ok(STATUS, {"id": ids["one"], "status": "RESOLVED"})
    clock.advance(timedelta(minutes=1))
    await desk.ok(STATUS, {"id": ids["four"], "status": "IN_PROGRESS"})
    # Two tickets updated at the same instant still page in a fixed order (newest first).
    same = clock.now()
    await Ticket.filter(subject__in=["three", "five"]).update(updated_at=same)
    clock.advance(timedelta(minutes=1))

    expected_updated = ["five", "three", "four", "one", "two"]
    assert await listed(desk, tree.reseller.id, desc=True, order="LAST_UPDATED") == (
        expected_updated
    )
    assert await paged(desk, tree.reseller.id, desc=True, order="LAST_UPDATED") == (
        expected_updated
    )
    # NEW (five, three, two), IN_PROGRESS (four), RESOLVED (one); newest first within one.
    expected_status = ["five", "three", "two", "four", "one"]
    assert await listed(desk, tree.reseller.id, desc=True, order="STATUS") == expected_status
    assert await paged(desk, tree.reseller.id, desc=True, order="STATUS") == expected_status

    # A row added meanwhile does not shift a page already reached.
    first = await desk.data(
        ORDERED,
        {"org": gid("Organisation", tree.reseller.id), "desc": True, "order": "STATUS", "first": 2},
    )
    member = await sign_in(tree["acme.member"].email)
    await raise_ticket(member, tree.acme.id, "six")
    rest = await listed(
        desk,
        tree.reseller.id,
        desc=True,
        order="STATUS",
        after=first["tickets"]["pageInfo"]["endCursor"],
    )
    assert rest == ["two", "four", "one"]


async def test_a_reporter_sees_only_their_own_in_each_order(tree, sign_in, desk_queue):
    member = await sign_in(tree["acme.member"].email)
    for order in ("NEWEST_FIRST", "LAST_UPDATED", "STATUS"):
        assert await listed(member, tree.acme.id, order=order) == ["five", "three", "one"]
    assert await listed(member, tree.acme.id, order="OLDEST_FIRST") == ["one", "three", "five"]


async def test_a_search_lists_its_best_matches_whatever_the_order(tree, desk_queue):
    desk, _ = desk_queue
    found = await listed(desk, tree.reseller.id, desc=True, order="STATUS", search="five")
    assert found == ["five"]


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def query_error(client: GraphQLClient, variables: dict) -> dict:  # type: ignore[type-arg]
    body = await client(ORDERED, variables)
    assert body.get("errors"), body
    [error] = body["errors"]
    return error["extensions"]


async def test_a_cursor_pages_only_the_order_it_came_from(tree, desk_queue):
    desk, _ = desk_queue
    org = gid("Organisation", tree.reseller.id)
    pages = {}
    for order in ("NEWEST_FIRST", "LAST_UPDATED", "STATUS"):
        data = await desk.data(ORDERED, {"org": org, "desc": True, "order": order, "first": 1})
        pages[order] = data["tickets"]["pageInfo"]["endCursor"]
    mixes = [
        ("LAST_UPDATED", pages["STATUS"]),
        ("STATUS", pages["LAST_UPDATED"]),
        ("STATUS", pages["NEWEST_FIRST"]),
        ("NEWEST_FIRST", pages["STATUS"]),
        ("STATUS", cursor("k:status:9:1")),  # no such status
        ("STATUS", cursor("k:status:-1:1")),
        ("LAST_UPDATED", cursor(f"k:updated:{10**30}:1")),
        ("LAST_UPDATED", cursor("k:updated:1:0")),
        ("LAST_UPDATED", cursor("k:updated:x:1")),
        ("LAST_UPDATED", cursor("k:updated:1")),
    ]
    for order, after in mixes:
        extensions = await query_error(
            desk, {"org": org, "desc": True, "order": order, "after": after}
        )
        assert extensions == {"code": "INVALID", "field": "after"}, (order, after)
