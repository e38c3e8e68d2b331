"""A reseller's console (issue 19 point 10): each customer's people, seats,
status, two-step policy and last activity; searched and sorted, paged in that
order; bad input refused; the same number of statements for 3 customers as
for 30."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from server.audit.models import AuditEvent
from server.core import clock
from server.core.permissions import Role
from server.organisations import service as organisations
from server.tenancy.models import Organisation, OrganisationKind, OrganisationStatus
from tests.core.test_queries_count import StatementLog
from tests.helpers.fixtures import add_person, gid

CUSTOMERS = """
query($org: ID!, $search: String, $sort: CustomerOrder, $first: Int, $after: String) {
  organisation(id: $org) {
    children(search: $search, sort: $sort, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        name status requireTwoFactor requireTotpForAdmins memberCount lastActivityAt
        seats { used limit }
      }
    }
  }
}"""


async def _customers(client, org: Organisation, **variables):  # type: ignore[no-untyped-def]
    data = await client.data(CUSTOMERS, {"org": gid("Organisation", org.id), **variables})
    return data["organisation"]["children"]


def _names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [node["name"] for node in page["nodes"]]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatementLog]:
    log = StatementLog()
    log.install(monkeypatch)
    yield log


async def test_each_customer_shows_people_seats_status_policy_and_activity(tree, sign_in):
    reseller = await sign_in(tree["reseller.admin"].email)
    await add_person(tree.globex, "extra@globex.example.com", Role.MEMBER)
    await Organisation.filter(id=tree.globex.id).update(
        require_two_factor=True, status=OrganisationStatus.SUSPENDED, seat_limit=10
    )
    # A sign-in is an event in the trail of each organisation of that person.
    await sign_in(tree["acme.member"].email)

    page = await _customers(reseller, tree.reseller, sort="NAME")
    acme, globex = page["nodes"]
    assert acme["name"] == "Acme" and acme["memberCount"] == 3
    assert acme["seats"] == {"used": 3, "limit": None}
    assert acme["status"] == "ACTIVE" and acme["requireTwoFactor"] is False
    assert acme["lastActivityAt"] is not None
    newest = await AuditEvent.filter(organisation_id=tree.acme.id).order_by("-id").first()
    assert newest is not None
    assert acme["lastActivityAt"] == newest.created_at.isoformat()
    assert globex["memberCount"] == 4 and globex["seats"] == {"used": 4, "limit": 10}
    assert globex["status"] == "SUSPENDED" and globex["requireTwoFactor"] is True
    assert globex["lastActivityAt"] is None  # nothing in its trail yet


async def test_search_narrows_and_sort_orders(tree, sign_in):
    reseller = await sign_in(tree["reseller.admin"].email)
    for name in ("Initech", "Acme Labs"):
        await organisations.create_child(
            actor=None, parent=tree.reseller, name=name, kind=OrganisationKind.CUSTOMER
        )
    await add_person(tree.globex, "extra@globex.example.com", Role.MEMBER)
    await AuditEvent.create(created_at=clock.now(), organisation_id=tree.globex.id, action="x.y")

    assert _names(await _customers(reseller, tree.reseller, sort="NAME")) == [
        "Acme", "Acme Labs", "Globex", "Initech",
    ]  # fmt: skip
    assert _names(await _customers(reseller, tree.reseller, sort="PEOPLE"))[:1] == ["Globex"]
    # Globex's event is the newest; the others by their newest event, none last.
    await AuditEvent.filter(organisation_id=tree.acme.id).delete()
    by_activity = _names(await _customers(reseller, tree.reseller, sort="LAST_ACTIVITY"))
    assert by_activity == ["Globex", "Acme Labs", "Initech", "Acme"]
    assert _names(await _customers(reseller, tree.reseller, sort="NEWEST"))[:2] == [
        "Acme Labs", "Initech",
    ]  # fmt: skip

    found = await _customers(reseller, tree.reseller, search="acme", sort="NAME")
    assert _names(found) == ["Acme", "Acme Labs"] and found["totalCount"] == 2
    assert _names(await _customers(reseller, tree.reseller, search="labs acme")) == ["Acme Labs"]
    assert _names(await _customers(reseller, tree.reseller, search="nothing")) == []
    # Only direct customers: the reseller itself is not below the provider's search here.
    provider = await sign_in(tree["provider.admin"].email)
    assert _names(await _customers(provider, tree.provider, search="acme")) == []


@pytest.mark.parametrize("sort", ["NAME", "PEOPLE", "LAST_ACTIVITY", "NEWEST"])
async def test_pages_follow_the_sort_without_repeats(tree, sign_in, sort):
    reseller = await sign_in(tree["reseller.admin"].email)
    for i in range(5):
        await organisations.create_child(
            actor=None, parent=tree.reseller, name=f"Co: {i % 3}", kind=OrganisationKind.CUSTOMER
        )
    everything = _names(await _customers(reseller, tree.reseller, sort=sort))
    paged, after = [], None
    while True:
        page = await _customers(reseller, tree.reseller, sort=sort, first=2, after=after)
        paged += _names(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == everything and len(paged) == 7


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"search": "x" * 201}, "TOO_LONG", "search"),
        ({"search": "a b c d e f g h i"}, "INVALID", "search"),
        ({"sort": "NAME", "after": _cursor("k:people:3:1")}, "INVALID", "after"),  # another's
        ({"sort": "PEOPLE", "after": _cursor("k:people:x:1")}, "INVALID", "after"),
        ({"sort": "NAME", "after": _cursor("k:name:Acme")}, "INVALID", "after"),
        ({"sort": "NAME", "after": "not a cursor"}, "INVALID", "after"),
        ({"first": 101}, "INVALID", "first"),
    ],
)
async def test_bad_arguments_are_refused_clearly(tree, sign_in, variables, code, field):
    reseller = await sign_in(tree["reseller.admin"].email)
    body = await reseller(CUSTOMERS, {"org": gid("Organisation", tree.reseller.id), **variables})
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["field"] == field, error


async def test_an_unknown_sort_is_a_validation_error(tree, sign_in):
    reseller = await sign_in(tree["reseller.admin"].email)
    body = await reseller(CUSTOMERS, {"org": gid("Organisation", tree.reseller.id), "sort": "SIZE"})
    assert body["errors"] and body.get("data") is None


async def test_a_customer_sees_no_customers_and_others_none_of_the_resellers(tree, sign_in):
    acme = await sign_in(tree["acme.owner"].email)
    assert _names(await _customers(acme, tree.acme, sort="NAME")) == []
    above = await acme.data(
        CUSTOMERS, {"org": gid("Organisation", tree.reseller.id), "sort": "NAME"}
    )
    assert above == {"organisation": None}  # out of reach


@pytest.mark.parametrize("sort", [None, "NAME", "LAST_ACTIVITY"])
async def test_the_console_costs_the_same_for_3_and_30_customers(tree, sign_in, statements, sort):
    reseller = await sign_in(tree["reseller.admin"].email)
    for i in range(28):
        child = await organisations.create_child(
            actor=None,
            parent=tree.reseller,
            name=f"Customer {i:02d}",
            kind=OrganisationKind.CUSTOMER,
        )
        await AuditEvent.create(created_at=clock.now(), organisation_id=child.id, action="x.y")
    await _customers(reseller, tree.reseller, sort=sort, first=1)  # warm-up: caches
    counts = {}
    for first in (3, 30):
        async with statements.recording_one_request():
            page = await _customers(reseller, tree.reseller, sort=sort, first=first)
        assert len(page["nodes"]) == first
        counts[first] = len(statements.statements)
    assert counts[3] == counts[30], counts
