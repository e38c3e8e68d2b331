"""README "For integrators" is checked against the server: every error code the
server can answer is listed, every webhook event is in the table with the
mutations that raise it, the example payload has a real payload's shape, the
query-cost figures are what the server computes, and the two signature
snippets (Python, run here; JavaScript, run by node) accept a delivery the
server signed and refuse a tampered or old one."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import time
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
)

from server.app import _REFUSAL_CODES
from server.core.cost import cost_of
from server.core.errors import ErrorCode
from server.core.policy import BAD_USER_INPUT
from server.schema import MAX_COST, build_schema
from server.webhooks.events import EVENTS
from server.webhooks.worker import signature
from tests.helpers.fixtures import GraphQLClient, gid
from tests.webhooks.test_webhook_payloads import MUTATIONS, RAISED_BY
from tests.webhooks.test_webhooks import Receiver, register, worker

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"


def readme_section(title: str) -> str:
    """The text of README's `### title` section, up to the next heading of any level ≤ 3."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n### {title}\n")
    end = re.compile(r"\n#{2,3} ").search(text, start + 1)
    assert end is not None
    return text[start : end.start()]


def code_blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def table_rows(section: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]


def backticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


# --- error codes ------------------------------------------------------------------------


def top_level_codes() -> set[str]:
    """Every `extensions.code` the server sets, found where it sets them."""
    codes = {BAD_USER_INPUT, *_REFUSAL_CODES.values()}
    for path in SERVER.rglob("*.py"):
        source = path.read_text()
        codes.update(re.findall(r"""extensions=\{"code": "([A-Z_]+)\"""", source))
        codes.update(re.findall(r'"([A-Z]+_LIMIT)"', source))  # cost.py's limits
    return codes


def test_every_error_code_is_in_the_readme() -> None:
    section = readme_section("Error codes")
    listed = {row[0].strip("`") for row in table_rows(section)}
    top = top_level_codes()
    # The search found the codes raised in core/errors.py and core/cost.py.
    assert {"UNAUTHENTICATED", "API_TOKEN_FORBIDDEN", "COST_LIMIT", "DEPTH_LIMIT"} <= top
    missing = sorted((top | {code.value for code in ErrorCode}) - listed)
    assert not missing, f"README 'Error codes' does not list: {', '.join(missing)}"


# --- webhook events ---------------------------------------------------------------------


def test_every_webhook_event_is_in_the_readme_with_its_mutations() -> None:
    rows = {
        row[0].strip("`"): set(backticked(row[1]))
        for row in table_rows(readme_section("Webhooks"))
        if row[0].strip("`") in EVENTS or "." in row[0]
    }
    missing = sorted(set(EVENTS) - set(rows))
    assert not missing, f"README 'Webhooks' has no row for: {', '.join(missing)}"
    assert set(rows) == set(EVENTS), f"README lists unknown events: {set(rows) - set(EVENTS)}"
    for event, mutations in RAISED_BY.items():
        assert rows[event] == set(mutations), f"README row of {event}: {rows[event]}"


def keys_of(value: Any, path: str = "") -> set[str]:
    if isinstance(value, dict):
        return {f"{path}.{k}" for k in value} | {
            key for k, v in value.items() for key in keys_of(v, f"{path}.{k}")
        }
    return set()


@pytest.fixture
def receiver() -> Any:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


async def delivered(tree: Any, sign_in: Any, receiver: Receiver) -> tuple[str, dict, bytes]:
    """(secret, headers, body) of a real member.role_changed delivery."""
    admin = await sign_in(tree["acme.admin"].email)
    secret = (await register(admin, tree.acme.id, receiver.url, ["member.role_changed"]))["secret"]
    await admin.ok(MUTATIONS["changeRole"], {"id": tree["acme.member"].membership_id})
    assert await worker().run_once() == 1
    [(headers, body)] = receiver.requests
    return secret, headers, body


async def test_the_example_payload_is_shaped_like_a_real_one(tree, sign_in, receiver):
    [example] = code_blocks(readme_section("Webhooks"), "json")
    _, headers, body = await delivered(tree, sign_in, receiver)
    real = json.loads(body)
    assert json.loads(example)["type"] == real["type"] == headers["Frontdesk-Event"]
    assert keys_of(json.loads(example)) == keys_of(real)


# --- signature snippets -----------------------------------------------------------------


def snippet(language: str, marker: str) -> str:
    [found] = [b for b in code_blocks(readme_section("Webhooks"), language) if marker in b]
    return found


def cases(secret: str, headers: dict[str, str], body: bytes) -> list[tuple[str, dict, bytes, bool]]:
    """(name, headers, body, whether a receiver must accept it)."""
    lower = {key.lower(): value for key, value in headers.items()}
    old = {
        **headers,
        "Frontdesk-Signature": signature(secret, int(time.time()) - 600, body.decode()),
    }
    return [
        ("as delivered", headers, body, True),
        ("header names lower-cased", lower, body, True),
        ("header names upper-cased", {k.upper(): v for k, v in headers.items()}, body, True),
        ("tampered body", headers, body.replace(b'"VIEWER"', b'"OWNER"'), False),
        ("one byte added", headers, body + b" ", False),
        ("signed ten minutes ago", old, body, False),
        (
            "no signature",
            {k: v for k, v in headers.items() if k != "Frontdesk-Signature"},
            body,
            False,
        ),
    ]


async def test_the_python_snippet_checks_a_real_delivery(tree, sign_in, receiver):
    secret, headers, body = await delivered(tree, sign_in, receiver)
    namespace: dict[str, Any] = {}
    exec(snippet("python", "def verify"), namespace)  # noqa: S102 - README's own snippet
    verify = namespace["verify"]
    assert b'"VIEWER"' in body
    for name, sent, content, accepted in cases(secret, headers, body):
        assert verify(secret, sent, content) is accepted, name
    assert verify("whsec_not-the-secret", headers, body) is False


async def test_the_node_snippet_checks_a_real_delivery(tree, sign_in, receiver, tmp_path):
    node = shutil.which("node")
    assert node, "node is needed to run README's JavaScript snippet"
    secret, headers, body = await delivered(tree, sign_in, receiver)
    (tmp_path / "verify.js").write_text(snippet("javascript", "function verify"))
    (tmp_path / "run.js").write_text(
        """const { verify } = require("./verify.js");
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const results = JSON.parse(input).map(({ secret, headers, body }) =>
    verify(secret, headers, Buffer.from(body, "base64")));
  process.stdout.write(JSON.stringify(results));
});
"""
    )
    checks = [*cases(secret, headers, body), ("wrong secret", headers, body, False)]
    secrets = [secret] * (len(checks) - 1) + ["whsec_not-the-secret"]
    sent = [
        {"secret": s, "headers": h, "body": base64.b64encode(b).decode()}
        for s, (_, h, b, _) in zip(secrets, checks, strict=True)
    ]
    process = await asyncio.create_subprocess_exec(
        node, "run.js", cwd=tmp_path, stdin=PIPE, stdout=PIPE, stderr=PIPE
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate(json.dumps(sent).encode())
    assert process.returncode == 0, err.decode()
    answers = json.loads(out)
    assert {name: answer for (name, *_), answer in zip(checks, answers, strict=True)} == {
        name: accepted for name, _, _, accepted in checks
    }


# --- query cost -------------------------------------------------------------------------


def cost_examples() -> list[tuple[str, int, bool]]:
    """(query, cost, refused) of each GraphQL example of README's "Query cost"."""
    examples = []
    for block in code_blocks(readme_section("Query cost"), "graphql"):
        match = re.match(r"# cost: ([\d,]+)( \(refused\))?\n", block)
        assert match, block
        examples.append((block, int(match.group(1).replace(",", "")), bool(match.group(2))))
    return examples


def copies(query: str, times: int) -> str:
    """The operation with its root field asked `times` times under aliases."""
    document = parse(query)
    [operation] = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    [root] = operation.selection_set.selections
    assert isinstance(root, FieldNode)
    aliased = tuple(
        FieldNode(
            alias=NameNode(value=f"c{i}"),
            name=root.name,
            arguments=root.arguments,
            directives=root.directives,
            selection_set=root.selection_set,
        )
        for i in range(times)
    )
    return print_ast(
        DocumentNode(
            definitions=(
                OperationDefinitionNode(
                    operation=operation.operation,
                    name=operation.name,
                    variable_definitions=operation.variable_definitions,
                    directives=operation.directives,
                    selection_set=SelectionSetNode(selections=aliased),
                ),
            )
        )
    )


async def server_cost(client: GraphQLClient, query: str, variables: dict[str, str]) -> int:
    """The cost the server states when it refuses the query."""
    body = await client(query, variables)
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "COST_LIMIT"}, error
    match = re.fullmatch(rf"Query cost (\d+) exceeds the limit of {MAX_COST}\.", error["message"])
    assert match, error["message"]
    return int(match.group(1))


async def test_the_cost_examples_are_what_the_server_computes(tree, sign_in):
    examples = cost_examples()
    assert [refused for _, _, refused in examples] == [True, False]
    admin = await sign_in(tree["acme.admin"].email)
    endpoint = await register(
        admin, tree.acme.id, "https://hooks.example.com/in", ["member.invited"]
    )
    variables = {"org": gid("Organisation", tree.acme.id), "endpoint": endpoint["endpoint"]["id"]}
    schema = build_schema()._schema
    section = readme_section("Query cost")
    for query, figure, refused in examples:
        used = {k: v for k, v in variables.items() if f"${k}" in query}
        assert cost_of(list(parse(query).definitions), schema) == {
            parse(query).definitions[0].name.value: figure  # type: ignore[attr-defined]
        }
        if refused:
            assert await server_cost(admin, query, used) == figure
        else:
            assert "errors" not in await admin(query, used)
            # The server states a cost only over the limit: ask for enough copies.
            times = MAX_COST // figure + 1
            assert await server_cost(admin, copies(query, times), used) == times * figure
        assert f"{figure:,}" in section
    # The variant the text gives in words: the first example with `first: 10`.
    [(log, _, _)] = [e for e in examples if e[2]]
    ten = log.replace(
        "webhookEndpoints(organisationId: $org)",
        "webhookEndpoints(organisationId: $org, first: 10)",
    )
    assert "first: 10" in ten and "**8,051**" in section
    assert await server_cost(admin, copies(ten, 2), {"org": variables["org"]}) == 2 * 8_051
