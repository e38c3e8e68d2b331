"""GraphQL over HTTP to the letter: graphql-http's own audit (npm `graphql-http`,
pinned by `graphql_http_audit/package-lock.json`, installed by scripts/test.sh)
against the real server on this run's database, and the media types it asks for.

The audit's MUST checks fail as "error", its SHOULD checks as "warn", its MAY
checks as "notice". We pass every MUST and SHOULD; the MAYs we refuse are
listed in REFUSED and named in the README ("GraphQL over HTTP").
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.instance import Instance, serving

AUDIT = Path(__file__).resolve().parent / "graphql_http_audit"
# The audit's MAY checks we refuse on purpose: GraphQL over GET (queries only go by POST).
REFUSED = {
    "5A70": "MAY accept application/x-www-form-urlencoded formatted GET requests",
    "D6D5": "MAY allow URL-encoded JSON string {variables} parameter in GETs "
    "when accepting application/graphql-response+json",
    "6A70": "MAY allow URL-encoded JSON string {variables} parameter in GETs "
    "when accepting application/json",
}
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _run_audit(url: str) -> list[dict[str, str]]:
    node = shutil.which("node")
    assert node, "node is missing: scripts/test.sh installs it (apt-get install nodejs npm)"
    assert (AUDIT / "node_modules" / "graphql-http").is_dir(), (
        f"graphql-http is not installed: run `npm ci` in {AUDIT} (scripts/test.sh does)"
    )
    finished = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [node, "audit.mjs", url], cwd=AUDIT, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    results: list[dict[str, str]] = json.loads(finished.stdout)
    return results


def test_graphql_http_audit_finds_no_must_or_should_failure(database: str, tmp_path) -> None:
    with serving(Instance(tmp_path, extra_env={"FRONTDESK_DATABASE_URL": database})) as base:
        results = _run_audit(f"{base}/graphql")
    assert len(results) >= 60, "the audit ran fewer checks than graphql-http 1.23 has"
    failed = [f"{r['status']} {r['id']} {r['name']}: {r['reason']}" for r in results
              if r["status"] in ("error", "warn")]  # fmt: skip
    assert not failed, "GraphQL over HTTP MUST/SHOULD failures:\n" + "\n".join(failed)
    refused = {r["id"]: r["name"] for r in results if r["status"] == "notice"}
    assert refused == REFUSED, (
        "the MAY checks refused changed: update REFUSED and the README's GraphQL over HTTP list"
    )


async def _post(http, body: dict[str, object], accept: str | None):
    headers = {"content-type": "application/json"}
    if accept is not None:
        headers["accept"] = accept
    return await http.post("/graphql", content=json.dumps(body).encode(), headers=headers)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
    ],
)
async def test_the_answer_has_the_media_type_the_client_prefers(http, accept, expected) -> None:
    response = await _post(http, {"query": "{ __typename }"}, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ viewer { "},  # does not parse
        {"query": "{ nope }"},  # does not validate
        {"query": "query($n: Int!) { __typename @include(if: true) n: __typename }"},
        {"query": "query($a: Boolean!) { __typename @include(if: $a) }", "variables": {"a": 3}},
    ],
    ids=["syntax", "validation", "unused-variable", "variable-coercion"],
)
async def test_a_request_error_is_a_400_without_data_in_the_new_media_type(http, body) -> None:
    new = await _post(http, body, GRAPHQL_RESPONSE)
    assert new.status_code == 400 and new.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in new.json() and new.json()["errors"]
    # Clients that ask for application/json keep what they always got.
    old = await _post(http, body, "application/json")
    assert old.status_code == 200 and old.headers["content-type"] == "application/json"
    assert old.json()["data"] is None and old.json()["errors"]


async def test_an_error_during_execution_keeps_200_and_data(http) -> None:
    # Not signed in: the guarded field errors while the operation runs.
    response = await _post(http, {"query": "{ organisations { totalCount } }"}, GRAPHQL_RESPONSE)
    assert response.status_code == 200 and response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" in body and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_client_that_accepts_neither_type_gets_406(http) -> None:
    response = await _post(http, {"query": "{ __typename }"}, "text/html")
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_refusals_before_graphql_use_the_preferred_media_type(http) -> None:
    not_json = await http.post(
        "/graphql",
        content=b"{",
        headers={"content-type": "application/json", "accept": GRAPHQL_RESPONSE},
    )
    assert not_json.status_code == 400 and not_json.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in not_json.json()
    wrong_type = await http.post(
        "/graphql",
        content=b"{}",
        headers={"content-type": "text/plain", "accept": GRAPHQL_RESPONSE},
    )
    assert wrong_type.status_code == 415 and wrong_type.headers["content-type"] == GRAPHQL_RESPONSE
    mutation_by_get = await http.get(
        "/graphql",
        params={"query": "mutation { logout { ok } }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert mutation_by_get.status_code == 405
    assert mutation_by_get.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
