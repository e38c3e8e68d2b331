"""No N+1: a page of members with nested users, memberships and organisations
costs the same number of SQL statements whether it holds 5 rows or 50.

Statements are counted where Tortoise hands them to the database driver (the
`execute_*` methods of every Tortoise client class, transaction wrappers
included, for SQLite and asyncpg alike: server/ops/statements.py, where traces
open their SQL spans too); on SQLite, sqlite3's trace callback
counts what the engine itself ran as a cross-check.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tortoise import connections

from server.core.permissions import Role
from server.ops.statements import execute_methods, load_backends
from server.settings import get_settings
from tests.helpers.fixtures import add_person, gid

MEMBERS = """
query($org: ID!, $first: Int!, $search: String) {
  members(organisationId: $org, includeDescendants: true, first: $first, search: $search) {
    totalCount
    nodes {
      role
      user { email memberships { role organisation { name } } }
      organisation { name parent { name } }
    }
  }
}"""

# Set while one statement runs, so that an execute_* calling another counts once.
_inside = contextvars.ContextVar("_inside", default=False)


class StatementLog:
    def __init__(self) -> None:
        self.recording = False
        self.statements: list[str] = []
        self.traced: list[str] = []

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        async def counted(client: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            if not self.recording or _inside.get():
                return await original(client, query, *args, **kwargs)
            token = _inside.set(True)
            try:
                self.statements.append(query)
                return await original(client, query, *args, **kwargs)
            finally:
                _inside.reset(token)

        return counted

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        load_backends()
        for cls, name, function in execute_methods():
            monkeypatch.setattr(cls, name, self.wrap(function))

    @contextlib.asynccontextmanager
    async def recording_one_request(self) -> Any:
        self.statements, self.traced = [], []
        sqlite = _sqlite_connection()
        if sqlite is not None:
            await sqlite.set_trace_callback(self.traced.append)
        self.recording = True
        try:
            yield self
        finally:
            self.recording = False
            if sqlite is not None:
                await sqlite.set_trace_callback(None)


def _sqlite_connection() -> Any:
    """The aiosqlite connection under the default Tortoise client, if SQLite."""
    from tortoise.backends.sqlite.client import SqliteClient

    client = connections.get("default")
    if isinstance(client, SqliteClient):
        return client._connection
    return None


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatementLog]:
    log = StatementLog()
    log.install(monkeypatch)
    yield log


# A search (ranked, matching inside the email) costs what the plain list costs.
@pytest.mark.parametrize(("search", "total"), [(None, 3 + 3 + 3 + 60 + 20), ("erson", 60 + 20)])
async def test_member_list_costs_the_same_for_5_and_50_rows(
    tree, sign_in, statements, search, total
):
    # 60 more people, spread over Acme and Globex; every third one is in both.
    for i in range(60):
        home, other = (tree.acme, tree.globex) if i % 2 else (tree.globex, tree.acme)
        role = (Role.MEMBER, Role.ADMIN, Role.VIEWER, Role.SUPPORT_ONLY)[i % 4]
        person = await add_person(home, f"person{i:02d}@example.com", role)
        if i % 3 == 0:
            await add_person(other, person.email, Role.MEMBER)
    admin = await sign_in(tree["reseller.admin"].email)
    org = gid("Organisation", tree.reseller.id)
    # Warm-up: parser and validation caches (and FTS5's own statements).
    await admin.data(MEMBERS, {"org": org, "first": 1, "search": search})

    counts: dict[int, int] = {}
    traced: dict[int, int] = {}
    for first in (5, 50):
        async with statements.recording_one_request():
            data = await admin.data(MEMBERS, {"org": org, "first": first, "search": search})
        nodes = data["members"]["nodes"]
        assert len(nodes) == first
        # The reseller's 3 plus Acme's and Globex's 3 each, plus 60 people with 20 second homes.
        assert data["members"]["totalCount"] == total
        names = {n["organisation"]["name"] for n in nodes}
        assert names <= {"Reseller", "Acme", "Globex"}
        if first == 50:
            assert names >= {"Acme", "Globex"}
        assert all(n["user"]["memberships"] for n in nodes)
        counts[first] = len(statements.statements)
        traced[first] = len(statements.traced)
        print(f"\nfirst={first}: {counts[first]} statements via Tortoise")
        for sql in statements.statements:
            print("   ", " ".join(sql.split())[:160])
        if _sqlite_connection() is not None:
            print(f"first={first}: {traced[first]} statements traced by sqlite3")

    assert counts[5] == counts[50], counts
    assert counts[5] > 0  # the counter does see the queries
    if _sqlite_connection() is not None:
        assert traced[5] == traced[50], traced
        assert traced[5] >= counts[5], (traced, counts)


VIEWER_ONLY = "{ viewer { user { id email displayName } mustChangePassword } }"
VIEWER_WITH_MEMBERSHIPS = """
fragment Who on Viewer { user { email } }
query { viewer { ...Who memberships { role organisation { name } } } }"""


@pytest.mark.skipif(
    get_settings().graphql_engine != "fast",
    reason="the pipeline's lazy memberships: the stock engine loads them up front",
)
async def test_who_is_signed_in_costs_one_statement(tree, sign_in, statements):
    """`viewer { user }` needs no memberships: only the session lookup runs. Any
    field beyond who is asking (here through a fragment) loads them first."""
    owner = await sign_in(tree["acme.owner"].email)
    for query in (VIEWER_ONLY, VIEWER_WITH_MEMBERSHIPS):
        await owner.data(query)  # warm-up: parser, validation and plan caches

    async with statements.recording_one_request():
        data = await owner.data(VIEWER_ONLY)
    assert data["viewer"]["user"]["email"] == tree["acme.owner"].email
    assert len(statements.statements) == 1, statements.statements

    async with statements.recording_one_request():
        data = await owner.data(VIEWER_WITH_MEMBERSHIPS)
    assert [(m["role"], m["organisation"]["name"]) for m in data["viewer"]["memberships"]] == [
        ("OWNER", "Acme")
    ]
    assert len(statements.statements) > 1


PAGE_OF_SEARCH = """
query($org: ID!, $search: String!) {
  members(organisationId: $org, includeDescendants: true, search: $search, first: 2) {
    %s
    pageInfo { hasNextPage }
    nodes { user { email } }
  }
}"""
COUNTED = PAGE_OF_SEARCH % "...Count"
UNCOUNTED = PAGE_OF_SEARCH % ""
COUNT = "fragment Count on MembershipConnection { totalCount totalCountIsExact }"


async def test_a_search_counts_only_when_asked_how_many(tree, sign_in, statements):
    """Counting a search's matches is a statement of its own (on a million rows
    the dearest one): a page that does not select totalCount does not run it,
    and the page is the same."""
    admin = await sign_in(tree["reseller.admin"].email)
    org = gid("Organisation", tree.reseller.id)
    pages, counts = {}, {}
    for with_count in (True, False):
        query = COUNTED + COUNT if with_count else UNCOUNTED
        variables = {"org": org, "search": "example"}
        await admin.data(query, variables)  # warm-up
        async with statements.recording_one_request():
            data = await admin.data(query, variables)
        pages[with_count] = (data["members"]["nodes"], data["members"]["pageInfo"])
        counts[with_count] = len(statements.statements)
        if with_count:
            assert data["members"]["totalCount"] > 2
            assert data["members"]["totalCountIsExact"] is True
        else:
            assert "totalCount" not in data["members"]
    assert pages[True] == pages[False]
    assert counts[False] == counts[True] - 1, counts


MEMBER_COUNT = "query($org: ID!) { members(organisationId: $org) { totalCount } }"


async def test_the_viewers_own_organisation_is_not_loaded_twice(tree, sign_in, statements):
    """The actor's memberships bring their organisations: a field naming one of
    them finds it loaded; an organisation below needs its own statement."""
    admin = await sign_in(tree["reseller.admin"].email)
    costs = {}
    for label, organisation in (("own", tree.reseller), ("below", tree.acme)):
        variables = {"org": gid("Organisation", organisation.id)}
        await admin.data(MEMBER_COUNT, variables)  # warm-up
        async with statements.recording_one_request():
            data = await admin.data(MEMBER_COUNT, variables)
        assert data["members"]["totalCount"] > 0
        costs[label] = len(statements.statements)
    assert costs["own"] == costs["below"] - 1, costs
