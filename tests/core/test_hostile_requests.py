"""Requests that must never become a 500 (issue 14): a subscription, variables
nested thousands of levels deep, huge numbers, invalid UTF-8, odd operation
names. Each gets a GraphQL error as JSON with a request id and the security
headers, the connection stays usable, and `frontdesk_graphql_errors_total`
counts INTERNAL for real faults only (a client's mistake is not one).

The first tests go through the ASGI app (the `http` fixture); the last ones
through a real `frontdesk serve` on 127.0.0.1 and the test database, over raw
keep-alive connections, with a Hypothesis property test of generated hostile
bodies. Both engines run them (FRONTDESK_GRAPHQL_ENGINE, scripts/test.sh).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from server import app as app_module
from server.organisations import service as organisations_service
from tests.helpers.fixtures import GraphQLClient
from tests.helpers.instance import Instance, serving

SUBSCRIPTION = "subscription { viewer { user { id } } }"
NODE = "query Node($id: ID!) { node(id: $id) { id } }"
CALLS_SINCE = "query Calls($since: DateTime) { ownCallRecords(since: $since) { totalCount } }"
FOLLOW_UP = b'{"query": "{ __typename }"}'


def nested(levels: int, *, opening: bytes = b'{"a":', closing: bytes = b"}") -> bytes:
    """A JSON value `levels` deep, built as bytes (Python's json would recurse)."""
    return opening * levels + b"1" + closing * levels


def body_with_variable(query: str, value: bytes) -> bytes:
    return b'{"query": ' + json.dumps(query).encode() + b', "variables": {"id": ' + value + b"}}"


def internal_faults() -> float:
    return REGISTRY.get_sample_value("frontdesk_graphql_errors_total", {"code": "INTERNAL"}) or 0.0


def errors_counted(code: str) -> float:
    return REGISTRY.get_sample_value("frontdesk_graphql_errors_total", {"code": code}) or 0.0


def assert_well_formed(response: httpx.Response) -> list[dict]:
    """A GraphQL answer: JSON with `errors`, a request id and the security headers."""
    assert response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"
    errors = response.json()["errors"]
    assert errors and all(isinstance(error["message"], str) for error in errors)
    return errors


async def post(http: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await http.post("/graphql", content=body, headers={"content-type": "application/json"})


# --- through the ASGI app -------------------------------------------------------------------


async def test_a_subscription_is_a_graphql_error(http):
    before = internal_faults()
    for query in (SUBSCRIPTION, "subscription { __typename }"):
        response = await post(http, json.dumps({"query": query}).encode())
        [error] = assert_well_formed(response)
        assert response.status_code == 200 and response.json()["data"] is None
        assert "subscription" in error["message"]
    assert internal_faults() == before


@pytest.mark.parametrize("levels", [1_100, 5_000, 100_000])
@pytest.mark.parametrize("kind", ["objects", "lists"])
async def test_variables_nested_too_deep_are_refused(http, levels, kind):
    before = internal_faults()
    value = nested(levels) if kind == "objects" else nested(levels, opening=b"[", closing=b"]")
    response = await post(http, body_with_variable(NODE, value))
    [error] = assert_well_formed(response)
    assert response.status_code == 400
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert internal_faults() == before


async def test_variables_nested_within_the_limit_are_the_clients_mistake(http):
    before = internal_faults()
    response = await post(http, body_with_variable(NODE, nested(1_000)))
    [error] = assert_well_formed(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert internal_faults() == before


@pytest.mark.parametrize(
    ("query", "value"),
    [
        (NODE, {"id": {"x": 1}}),
        ("query($n: Int) { ownCallRecords(first: $n) { totalCount } }", {"n": 10**400}),
        ("query($n: Int) { ownCallRecords(first: $n) { totalCount } }", {"n": 1.5}),
        (CALLS_SINCE, {"since": "garbage"}),  # the scalar raises a ValueError inside
        ("query($d: CallDirection) { ownCallRecords(direction: $d) { totalCount } }", {"d": "IN"}),
    ],
    ids=["object-as-id", "huge-int", "float-as-int", "bad-datetime", "bad-enum"],
)
async def test_a_variable_of_the_wrong_type_is_not_a_fault(http, caplog, query, value):
    internal, bad_input = internal_faults(), errors_counted("BAD_USER_INPUT")
    with caplog.at_level(logging.ERROR):
        response = await post(http, json.dumps({"query": query, "variables": value}).encode())
    [error] = assert_well_formed(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith("Variable '$") and "Did you mean" not in error["message"]
    assert internal_faults() == internal
    assert errors_counted("BAD_USER_INPUT") == bad_input + 1
    assert not [record for record in caplog.records if record.exc_info]


def _explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError('relation "user" failed: SELECT password_hash FROM "user"')


async def test_a_fault_in_a_field_is_masked_and_counted(tree, sign_in, monkeypatch):
    client = await sign_in(tree["acme.admin"].email)
    monkeypatch.setattr(organisations_service, "administered_by", _explode)
    before = internal_faults()
    response = await client.post("{ organisations { totalCount } }")
    [error] = assert_well_formed(response)
    assert error["message"] == "Unexpected error."
    assert internal_faults() == before + 1


async def test_a_fault_outside_graphql_is_a_json_500_counted_and_logged(http, monkeypatch, caplog):
    monkeypatch.setattr(app_module, "authenticate", _explode)
    before = internal_faults()
    with caplog.at_level(logging.ERROR):
        response = await GraphQLClient(http).post("{ __typename }", **{"x-request-id": "req-500"})
    assert response.status_code == 500
    assert response.json() == {"errors": [{"message": "Unexpected error."}]}
    assert response.headers["x-request-id"] == "req-500"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "password_hash" not in response.text
    assert internal_faults() == before + 1
    [record] = [record for record in caplog.records if record.exc_info]
    assert isinstance(record.exc_info[1], RuntimeError)  # type: ignore[index]
    monkeypatch.undo()
    assert (await GraphQLClient(http).data("{ __typename }")) == {"__typename": "Query"}


# --- through a real server, on raw keep-alive connections -------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One HTTP/1.1 keep-alive connection, read exactly as sent: httpx would
    open a new one behind our back when the server closed it."""

    def __init__(self, base: str) -> None:
        url = urlsplit(base)
        self.host = f"{url.hostname}:{url.port}"
        self.socket = socket.create_connection((url.hostname, url.port), timeout=20)
        self.buffer = b""

    def close(self) -> None:
        self.socket.close()

    def _read(self) -> bytes:
        chunk = self.socket.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def request(self, method: str, path: str, body: bytes = b"") -> Answer:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.socket.sendall(head.encode() + body)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._read()
        raw_head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = raw_head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])  # every answer here has one
        while len(self.buffer) < length:
            self.buffer += self._read()
        content, self.buffer = self.buffer[:length], self.buffer[length:]
        return Answer(int(status_line.split()[1]), headers, content)


@pytest.fixture(scope="module")
def server(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`frontdesk serve` (uvicorn) on 127.0.0.1, on the test database, with the
    engine this run tests (FRONTDESK_GRAPHQL_ENGINE passes through)."""
    instance = Instance(tmp_path_factory.mktemp("hostile"), {"FRONTDESK_DATABASE_URL": database})
    with serving(instance) as base:
        yield base


def check_answer(answer: Answer) -> None:
    assert answer.status < 500, answer
    assert answer.headers["content-type"] == "application/json", answer
    assert answer.headers["x-request-id"] and answer.headers["x-content-type-options"]
    errors = json.loads(answer.body)["errors"]
    assert errors and all(isinstance(error["message"], str) for error in errors), answer


def check_still_served(connection: Connection) -> None:
    answer = connection.request("POST", "/graphql", FOLLOW_UP)
    assert (answer.status, json.loads(answer.body)) == (200, {"data": {"__typename": "Query"}})


def server_internal_faults(connection: Connection) -> float:
    text = connection.request("GET", "/metrics").body.decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "frontdesk_graphql_errors_total" and sample.labels == {
                "code": "INTERNAL"
            }:
                return sample.value
    return 0.0


# What used to answer a plain-text 500 and reset the connection (measured before the fix).
REGRESSIONS = {
    "subscription": json.dumps({"query": SUBSCRIPTION}).encode(),
    "variables 5,000 deep": body_with_variable(NODE, nested(5_000)),
    "a list 100,000 deep": body_with_variable(NODE, nested(100_000, opening=b"[", closing=b"]")),
}


@pytest.mark.parametrize("name", REGRESSIONS)
def test_the_connection_survives_what_used_to_break_it(server, name):
    connection = Connection(server)
    try:
        check_answer(connection.request("POST", "/graphql", REGRESSIONS[name]))
        check_still_served(connection)
        assert server_internal_faults(connection) == 0
    finally:
        connection.close()


# Documents that are wrong whatever the variables and operation name: every
# operation type, several operations, none, limits, literals out of range.
DOCUMENTS = [
    SUBSCRIPTION,
    "subscription S { __typename }",
    "query Q($id: ID!) { node(id: $id) { id } } subscription S { viewer { user { id } } }",
    "mutation M($id: String!) { login(input: {email: $id, password: $id}) { token } } "
    "query Q { viewr { user { id } } }",
    "fragment F on Query { __typename }",
    "query A { __typename } query A { __typename }",
    "{ organisations(first: 99999999999999999999) { totalCount } }",
    "query Q($n: Int = 1e999) { ownCallRecords(first: $n) { totalCount } }",
    "query Q($id: [[ID!]!]) { node(id: $id) { id } }",
    "{ node(id: $undeclared) { id } }",
    "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }",
    "{ " + "viewer { " * 40 + "}" * 40 + " }",
    "{ " + "__typename " * 2_100 + "}",
    "{ viewer { user { id ",
    "{ __typename \u0000 }",
    "query \ud800 { __typename }",
]
NAMES = st.one_of(
    st.none(),
    st.sampled_from(["", "A", "Q", "S", "M", "__proto__", "constructor", "\u0000", "a" * 5_000]),
    st.text(max_size=50),
    st.integers(),
    st.lists(st.text(max_size=5), max_size=3),
)
NUMBERS = st.sampled_from(
    [b"1e999", b"-1e999", b"1" + b"0" * 400, b"-0", b"1.5e-400", b"123456789012345678901.5"]
)
DEPTHS = st.integers(min_value=0, max_value=6_000)


@st.composite
def variables(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["none", "deep-object", "deep-list", "number", "text", "json"]))
    if kind == "none":
        return b"null"
    if kind == "number":
        return b'{"id": ' + draw(NUMBERS) + b', "n": ' + draw(NUMBERS) + b"}"
    if kind == "text":
        return json.dumps({"id": draw(st.text(max_size=200))}).encode()
    if kind == "json":
        return json.dumps(draw(st.recursive(st.none() | st.booleans() | st.text(max_size=5),
                                            lambda inner: st.lists(inner) | st.dictionaries(st.text(max_size=3), inner),
                                            max_leaves=20))).encode()  # fmt: skip
    depth = draw(DEPTHS)
    if kind == "deep-object":
        return b'{"id": ' + nested(depth) + b"}"
    return b'{"id": ' + nested(depth, opening=b"[", closing=b"]") + b"}"


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    query = draw(st.one_of(st.sampled_from(DOCUMENTS), st.integers(), st.lists(st.integers())))
    fields = [
        b'"query": ' + json.dumps(query).encode(),
        b'"variables": ' + draw(variables()),
        b'"operationName": ' + json.dumps(draw(NAMES)).encode(),
    ]
    if draw(st.booleans()):
        fields.append(b'"extensions": ' + draw(st.sampled_from([b"[]", b'"x"', nested(2_000)])))
    body = b"{" + b", ".join(draw(st.permutations(fields))) + b"}"
    damage = draw(st.sampled_from(["none", "invalid utf-8", "truncated", "array", "scalar"]))
    if damage == "invalid utf-8":
        at = draw(st.integers(min_value=0, max_value=len(body)))
        bad = draw(
            st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
        )
        body = body[:at] + bad + body[at:]
    elif damage == "truncated":
        body = body[: draw(st.integers(min_value=0, max_value=len(body) - 1))]
    elif damage == "array":
        body = b"[" + body + b"]"
    elif damage == "scalar":
        body = draw(st.sampled_from([b"null", b"1e999", b'"query"', b"true", b""]))
    return body


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=hostile_bodies())
def test_no_hostile_body_makes_a_fault(server, body):
    """Never a 5xx, always JSON with `errors` (a request id and the security
    headers), the connection still answers the next request, and the server
    counts no INTERNAL fault."""
    connection = Connection(server)
    try:
        check_answer(connection.request("POST", "/graphql", body))
        check_still_served(connection)
        assert server_internal_faults(connection) == 0
    finally:
        connection.close()
