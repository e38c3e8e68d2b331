"""The limits, masking and metrics are the schema's (core/policy.py), not the
pipeline's: Strawberry's own `Schema.execute` (FRONTDESK_GRAPHQL_ENGINE=stock)
answers every refused, misspelled or malformed request exactly as the
hand-built pipeline does. scripts/test.sh also runs the whole API suite
through the stock engine; this checks the two side by side in one process."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from graphql import GraphQLError
from prometheus_client import REGISTRY

from server.app import create_app
from server.core.policy import MASKED_MESSAGE
from server.schema import POLICY
from server.settings import get_settings
from tests.core.test_cost import ABUSE, ABUSE_WITH_FRAGMENTS
from tests.helpers.fixtures import ORIGIN

DEEP = "{ viewer { user { memberships { organisation { " + "parent { " * 8 + "name" + " }" * 12
REQUESTS = {
    "valid": {"query": "{ __typename }"},
    "depth": {"query": DEEP},
    "aliases": {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"},
    "tokens": {"query": "{ " + "__typename " * 2_100 + "}"},
    "cost": {"query": ABUSE},
    "cost-through-fragments": {"query": ABUSE_WITH_FRAGMENTS},
    "field-suggestion": {"query": "{ viewr { user { email } } }"},
    "argument-suggestion": {"query": '{ members(organisationID: "x") { totalCount } }'},
    "enum-suggestion": {"query": "{ organisations(kind: CUSTOMR) { totalCount } }"},
    "type-suggestion": {"query": "{ viewer { ... on Viewr { user { email } } } }"},
    "variable-enum-suggestion": {
        "query": "query($k: OrganisationKind) { organisations(kind: $k) { totalCount } }",
        "variables": {"k": "CUSTOMR"},
    },
    "variable-type": {
        "query": "query($s: DateTime) { ownCallRecords(since: $s) { totalCount } }",
        "variables": {"s": "garbage"},
    },
    "subscription": {"query": "subscription { viewer { user { id } } }"},
    "syntax": {"query": "{ viewer { "},
    "two-unnamed": {"query": "query A { __typename } query B { __typename }"},
    "unknown-name": {"query": "query A { __typename }", "operationName": "B"},
    "fragment-only": {"query": "fragment F on Query { __typename }"},
    "unauthenticated": {"query": "{ organisations { totalCount } }"},
}


@pytest.fixture
async def engines(database: str) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    settings = get_settings()
    clients = {}
    for engine in ("fast", "stock"):
        app = create_app(
            dataclasses.replace(settings, graphql_engine=engine), manage_database=False
        )
        clients[engine] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ORIGIN, headers={"origin": ORIGIN}
        )
    yield clients
    for client in clients.values():
        await client.aclose()


@pytest.mark.parametrize("name", REQUESTS)
async def test_both_engines_answer_alike(engines, name):
    answers = {}
    for engine, client in engines.items():
        response = await client.post("/graphql", json=REQUESTS[name])
        answers[engine] = (response.status_code, response.json())
    assert answers["fast"] == answers["stock"]
    status, body = answers["fast"]
    if name != "valid":
        assert body["errors"], body
    assert "Did you mean" not in json.dumps(body)


def _count(code: str) -> float:
    return REGISTRY.get_sample_value("frontdesk_graphql_errors_total", {"code": code}) or 0.0


def test_the_policy_masks_and_counts_as_internal_the_faults_only(caplog):
    fault = GraphQLError("SELECT password_hash", path=["a"], original_error=RuntimeError("db"))
    forbidden = GraphQLError("No.", path=["b"], extensions={"code": "FORBIDDEN"})
    invalid = GraphQLError("Cannot query field 'viewr' on type 'Query'. Did you mean 'viewer'?")
    rejected = GraphQLError("Int cannot represent 1.5", original_error=GraphQLError("x"))
    before = {code: _count(code) for code in ("INTERNAL", "FORBIDDEN", "GRAPHQL_VALIDATION_FAILED")}
    with caplog.at_level(logging.ERROR):
        shown = POLICY.finish(
            "Op", "query", time.perf_counter(), [fault, forbidden, invalid, rejected]
        )
    assert shown is not None
    assert [error.message for error in shown] == [
        MASKED_MESSAGE,
        "No.",
        "Cannot query field 'viewr' on type 'Query'.",
        "Int cannot represent 1.5",
    ]
    assert shown[0].path == ["a"] and shown[0].original_error is None
    assert _count("INTERNAL") == before["INTERNAL"] + 1
    assert _count("FORBIDDEN") == before["FORBIDDEN"] + 1
    assert _count("GRAPHQL_VALIDATION_FAILED") == before["GRAPHQL_VALIDATION_FAILED"] + 2
    [record] = [record for record in caplog.records if record.exc_info]
    assert isinstance(record.exc_info[1], RuntimeError)  # type: ignore[index]
