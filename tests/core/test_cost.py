"""The query cost limit: nested connections multiply, abuse is refused before
anything runs, fragments do not hide cost, and ordinary pages pass."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import parse

from server.core.cost import cost_of
from server.organisations import service as organisations_service
from server.schema import MAX_COST, build_schema
from tests.helpers.fixtures import GraphQLClient, gid

ABUSE = """
{ organisations(first: 100) { nodes {
    members(first: 100) { nodes {
      user { memberships { organisation { children(first: 100) { totalCount } } } }
    } }
} } }"""
ABUSE_WITH_FRAGMENTS = """
query Abuse { ...Roots }
fragment Roots on Query {
  organisations(first: 100) { nodes { ... on Organisation { members(first: 100) { ...Page } } } }
}
fragment Page on MembershipConnection { nodes { ...Person } }
fragment Person on Membership {
  user { memberships { organisation { children(first: 100) { totalCount } } } }
}"""
ABUSE_WITH_VARIABLES = """
query($a: Int!, $b: Int!, $c: Int!) {
  organisations(first: $a) { nodes { members(first: $b) { nodes {
    user { memberships { organisation { children(first: $c) { totalCount } } } }
  } } } }
}"""
FULL_PAGE = """
query($org: ID!) {
  members(organisationId: $org, includeDescendants: true, first: 100) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      role status
      user { email displayName memberships { role organisation { name parent { name } } } }
      organisation { name }
    }
  }
}"""


def cost(query: str) -> dict[str | None, int]:
    return cost_of(list(parse(query).definitions), build_schema()._schema)


def refused_for_cost(body: dict[str, Any]) -> None:
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "COST_LIMIT"}
    assert error["message"].startswith("Query cost ")
    assert error["message"].endswith(f" exceeds the limit of {MAX_COST}.")


@pytest.fixture
def resolver_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records calls of the `organisations` resolver's service: none means nothing ran."""
    calls: list[Any] = []
    original = organisations_service.administered_by

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(organisations_service, "administered_by", recording)
    return calls


# --- the cost model ---------------------------------------------------------------------


def test_cost_of_a_small_document():
    # organisations 1 + 20 × (totalCount 1 + nodes 1 + name 1 + parent 1 + name 1) = 101
    assert cost("{ organisations(first: 20) { totalCount nodes { name parent { name } } } }") == {
        None: 101
    }
    # No `first`: the default page size of 50; lists such as `memberships` count once.
    assert cost("query Me { viewer { memberships { role organisation { name } } } }") == {"Me": 5}
    assert cost("{ organisations { nodes { name } } }") == {None: 1 + 50 * 2}


def test_page_size_is_capped_and_variables_count_as_the_default_page():
    assert cost("{ organisations(first: 5000) { totalCount } }") == {None: 1 + 100}
    assert cost("query($n: Int) { organisations(first: $n) { totalCount } }") == {None: 1 + 50}
    assert cost("query($n: Int = 7) { organisations(first: $n) { totalCount } }") == {None: 1 + 7}


def test_fragments_count_where_they_are_spread():
    spread_twice = """
    query Twice { viewer { ...Me } again: viewer { ...Me } }
    fragment Me on Viewer { user { email } }"""
    assert cost(spread_twice) == {"Twice": 2 * (1 + 2)}
    assert cost(ABUSE_WITH_FRAGMENTS) == cost(ABUSE.replace("{", "query Abuse {", 1))


def test_fragment_cycles_and_unknown_fragments_end():
    cyclic = "query Loop { ...A } fragment A on Query { viewer { user { email } } ...B } fragment B on Query { ...A }"
    assert cost(cyclic) == {"Loop": 3}
    assert cost("query Missing { ...Nowhere }") == {"Missing": 0}


def test_many_nested_spreads_are_costed_quickly():
    levels = 60
    query = (
        "query Fan { ...F0 } "
        + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
        + f" fragment F{levels} on Query {{ __typename }}"
    )
    assert cost(query) == {"Fan": 2**levels}


# --- over HTTP --------------------------------------------------------------------------


async def test_nested_connection_abuse_is_refused_before_execution(tree, sign_in, resolver_calls):
    client = await sign_in(tree["provider.owner"].email)
    refused_for_cost(await client(ABUSE))
    assert resolver_calls == []


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (ABUSE_WITH_FRAGMENTS, {}),
        (ABUSE_WITH_VARIABLES, {"a": 100, "b": 100, "c": 100}),
    ],
    ids=["fragments", "variables"],
)
async def test_hidden_abuse_is_refused_too(tree, sign_in, resolver_calls, query, variables):
    client = await sign_in(tree["provider.owner"].email)
    refused_for_cost(await client(query, variables))
    assert resolver_calls == []


async def test_abuse_is_refused_for_anonymous_callers_too(http, resolver_calls):
    refused_for_cost(await GraphQLClient(http)(ABUSE))
    assert resolver_calls == []


async def test_a_full_page_with_nested_lists_passes(tree, sign_in):
    assert cost(FULL_PAGE)[None] <= MAX_COST
    client = await sign_in(tree["provider.owner"].email)
    data = await client.data(FULL_PAGE, {"org": gid("Organisation", tree.provider.id)})
    page = data["members"]
    assert page["totalCount"] == len(page["nodes"]) == 12
    assert all(node["user"]["memberships"] for node in page["nodes"])


async def test_a_normal_organisation_list_passes(tree, sign_in, resolver_calls):
    client = await sign_in(tree["reseller.admin"].email)
    data = await client.data(
        "{ organisations(first: 100) { totalCount nodes { name children(first: 10) { totalCount } } } }"
    )
    assert data["organisations"]["totalCount"] >= 3
    assert resolver_calls


async def test_fragments_spread_twice_per_level_are_measured_in_linear_time(http):
    # Each fragment spreads the next twice: walked naively that is 2**30 visits
    # (hours, blocking the event loop); measured once per fragment it is instant,
    # and the expanded document is refused for what it would cost.
    levels = 30
    fragments = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    document = f"query {{ ...F0 }} {fragments} fragment F{levels} on Query {{ __typename }}"
    response = await asyncio.wait_for(GraphQLClient(http).post(document), timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["COST_LIMIT"]
