"""The HTTP surface of /graphql: what reaches GraphQL and the limits on the document.

Everything goes through the `http` fixture (httpx on the real ASGI app) so
that the middleware runs exactly as in production."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from server.settings import get_settings
from tests.core.http_calls import (
    LOGOUT,
    MAX_BODY,
    TYPENAME,
    aliases,
    graphql_body,
    messages,
    nested_parents,
    post_json,
)
from tests.helpers.fixtures import ORIGIN, GraphQLClient, gid

# --- what reaches GraphQL ---------------------------------------------------------------


def refusal_code(response: httpx.Response) -> str:
    """The code of a request refused before any GraphQL ran: a JSON GraphQL error."""
    assert response.headers["content-type"] == "application/json", response.text
    [error] = response.json()["errors"]
    return error["extensions"]["code"]


async def test_query_via_get_is_refused(http):
    response = await http.get("/graphql", params={"query": TYPENAME})
    assert response.status_code == 405
    assert refusal_code(response) == "METHOD_NOT_ALLOWED"
    assert "__typename" not in response.text


async def test_mutation_via_get_is_refused(tree, http):
    response = await http.get("/graphql", params={"query": LOGOUT})
    assert response.status_code == 405
    assert "data" not in response.json()


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_are_refused(http, method):
    response = await http.request(method, "/graphql", content=graphql_body(TYPENAME))
    assert response.status_code == 405
    assert refusal_code(response) == "METHOD_NOT_ALLOWED"
    assert "POST" in response.headers["allow"]


async def test_graphiql_is_served_to_a_browser_in_development(http):
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
    ids=["text", "form", "multipart", "none"],
)
async def test_non_json_post_is_unsupported_media_type(http, content_type):
    request = http.build_request("POST", "/graphql", content=graphql_body(TYPENAME))
    if content_type is None:
        request.headers.pop("content-type", None)
    else:
        request.headers["content-type"] = content_type
    response = await http.send(request)
    assert response.status_code == 415
    assert refusal_code(response) == "UNSUPPORTED_MEDIA_TYPE"
    assert "__typename" not in response.text


async def test_json_post_with_charset_is_accepted(http):
    response = await post_json(http, graphql_body(TYPENAME))
    assert response.json() == {"data": {"__typename": "Query"}}
    response = await http.post(
        "/graphql",
        content=graphql_body(TYPENAME),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_batched_array_is_refused(http):
    batch = json.dumps([{"query": TYPENAME}, {"query": TYPENAME}]).encode()
    response = await post_json(http, batch)
    assert response.status_code == 400
    assert refusal_code(response) == "BAD_REQUEST"
    assert "Query" not in response.text


@pytest.mark.parametrize(
    "body", [b"not json", b'{"query": 5}', b'{"query": "{ __typename }", "variables": []}']
)
async def test_malformed_json_is_a_client_error(http, body):
    response = await post_json(http, body)
    assert response.status_code == 400
    assert refusal_code(response) == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{}", "No GraphQL query found"),
        (b'{"query": ""}', "No GraphQL query found"),
        (b'{"query": "{ __typename }", "operationName": 7}', "`operationName` must be a string"),
        (b'{"query": "{ __typename }", "extensions": "x"}', "`extensions` must be an object"),
        (b'{"query": "query A { __typename } query B { __typename }"}', "operation type"),
        (b'{"query": "query A { __typename }", "operationName": "B"}', "operation type"),
    ],
    ids=["no-query", "empty-query", "name-type", "extensions-type", "two-unnamed", "unknown-name"],
)
async def test_malformed_operation_request_is_a_client_error(http, body, message):
    response = await post_json(http, body)
    assert response.status_code == 400
    assert refusal_code(response) == "BAD_REQUEST"
    assert message in response.json()["errors"][0]["message"]


async def test_named_operation_out_of_several_runs(http):
    body = {"query": "query A { a: __typename } query B { b: __typename }", "operationName": "B"}
    response = await post_json(http, json.dumps(body).encode())
    assert response.json() == {"data": {"b": "Query"}}


async def test_syntax_error_is_a_graphql_error(http):
    response = await post_json(http, graphql_body("{ viewer { "))
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("Syntax Error")


@pytest.mark.parametrize("body", [b'"a string"', b"null", b"42"])
async def test_json_body_that_is_not_an_object_is_a_client_error(body):
    from server.app import create_app

    app = create_app(get_settings(), manage_database=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        response = await post_json(client, body)
    assert response.status_code == 400


async def test_body_over_the_limit_is_refused_by_its_length(http):
    padding = "a" * (MAX_BODY + 100_000)
    response = await post_json(http, graphql_body(TYPENAME, {"padding": padding}))
    assert response.status_code == 413
    assert refusal_code(response) == "PAYLOAD_TOO_LARGE"


async def test_streamed_body_over_the_limit_is_refused(http):
    """Without a Content-Length the limit is enforced while reading."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"padding": "'
        for _ in range(11):
            yield b"a" * 100_000
        yield b'"}}'

    response = await post_json(http, chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert refusal_code(response) == "PAYLOAD_TOO_LARGE"


async def test_body_under_the_limit_is_served(http):
    padding = "a" * (MAX_BODY - 10_000)
    response = await post_json(http, graphql_body(TYPENAME, {"padding": padding}))
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


# --- limits on the document -------------------------------------------------------------


async def test_depth_limit(tree, sign_in):
    client = await sign_in(tree["acme.admin"].email)
    acme = {"id": gid("Organisation", tree.acme.id)}
    assert await client.data(nested_parents(9), acme) == {"organisation": {"parent": None}}
    too_deep = await client.post(nested_parents(10), acme)
    assert any("exceeds maximum operation depth" in m for m in messages(too_deep))
    assert too_deep.json()["data"] is None


async def test_depth_limit_counts_through_fragments(tree, sign_in):
    client = await sign_in(tree["acme.admin"].email)
    query = (
        "query($id: ID!) { organisation(id: $id) { ...A } }"
        " fragment A on Organisation { parent { ...B } }"
        " fragment B on Organisation { parent { ...C } }"
        " fragment C on Organisation { " + "parent { " * 8 + "name" + " }" * 8 + " }"
    )
    response = await client.post(query, {"id": gid("Organisation", tree.acme.id)})
    assert any("exceeds maximum operation depth" in m for m in messages(response))


async def test_alias_limit(http):
    client = GraphQLClient(http)
    assert len(await client.data(aliases(30))) == 30
    response = await client.post(aliases(31))
    assert messages(response) == ["31 aliases found. Allowed: 30"]
    assert response.json()["data"] is None


async def test_alias_limit_counts_through_fragments(http):
    query = "query { ...F } fragment F on Query " + aliases(31)
    response = await GraphQLClient(http).post(query)
    assert messages(response) == ["31 aliases found. Allowed: 30"]


async def test_aliased_logins_count_against_the_alias_limit(tree, http):
    email = tree["acme.owner"].email
    attempt = f'login(input: {{email: "{email}", password: "guess"}}) {{ token }}'
    query = "mutation { " + " ".join(f"a{i}: {attempt}" for i in range(31)) + " }"
    response = await GraphQLClient(http).post(query)
    assert messages(response) == ["31 aliases found. Allowed: 30"]


async def test_token_limit(http):
    query = "{ " + "__typename " * 2100 + "}"
    response = await GraphQLClient(http).post(query)
    assert response.json()["data"] is None
    assert messages(response)


@pytest.mark.parametrize(
    "query",
    ["{ viewr { user { email } } }", "{ viewer { usr { email } } }"],
    ids=["root", "nested"],
)
async def test_misspelled_field_gets_no_suggestion(http, query):
    [message] = messages(await GraphQLClient(http).post(query))
    assert message.startswith("Cannot query field")
    assert "Did you mean" not in message


@pytest.mark.parametrize(
    "query",
    [
        '{ members(organisationID: "x") { totalCount } }',
        'mutation { login(input: {emial: "a", password: "b"}) { token } }',
        "{ organisations(kind: CUSTOMR) { totalCount } }",
        "{ viewer { ... on Viewr { user { email } } } }",
    ],
    ids=["argument", "input-field", "enum-value", "type"],
)
async def test_other_misspellings_get_no_suggestion(http, query):
    for message in messages(await GraphQLClient(http).post(query)):
        assert "Did you mean" not in message
