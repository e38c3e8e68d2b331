"""Issue 5 at scale: `frontdesk seed-scale` (10,000 organisations, 100,000
users), then the latency of members searches and pages across a reseller's
(and the provider's) descendants, with SQL statements per request and the
database's query plans.

    python -m bench.scale OUT.json WORKDIR SECONDS USERS ORGANISATIONS
    (FRONTDESK_DATABASE_URL set by the caller)
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from strawberry.relay import GlobalID

from bench.common import PYTHON, ROOT, Server, server_env, stop_on_sigterm, wrk
from bench.statements import StatementCounter, app_client
from server import db
from server.accounts.models import Membership
from server.auth.sessions import create_session
from server.core.actor import RequestMeta
from server.core.pagination import encode_cursor
from server.core.permissions import Role
from server.settings import get_settings
from server.tenancy.models import Organisation

SEARCH = "sofia"
# Since migration 0012 search matches inside words and across fields.
SUBSTRING = "ofia"
FULL_NAME = "Sofia Abbott"
MEMBERS = (
    "query($org: ID!, $first: Int!, $search: String, $after: String) { members("
    "organisationId: $org, includeDescendants: true, search: $search, first: $first, "
    "after: $after) { totalCount "
    "pageInfo { hasNextPage endCursor } nodes { id role status user { email displayName } "
    "organisation { name } } } }"
)
# The same page without its count: what an infinite-scrolling list asks.
MEMBERS_UNCOUNTED = MEMBERS.replace("totalCount ", "")
PAGE_SIZES = [5, 10, 25, 50, 100]


async def prepare() -> dict[str, Any]:
    """Sessions for the owners of the first reseller and of the provider."""
    await db.init_db(get_settings().database_url)
    try:
        found = {}
        # a cursor into the middle of the table, for a page deep in the list
        halfway = encode_cursor(await Membership.all().count() // 2)
        for label, name in (
            ("reseller", "Scale Reseller 1"),
            ("provider", "Scale Provider"),
            ("customer", "Customer 1 of Reseller 1"),
        ):
            organisation = await Organisation.get(name=name)
            owner = (
                await Membership.filter(organisation_id=organisation.id, role=Role.OWNER)
                .select_related("user")
                .first()
            )
            assert owner is not None
            token, _ = await create_session(owner.user, RequestMeta(client_ip="127.0.0.1"))
            found[label] = {
                "org": str(GlobalID("Organisation", str(organisation.id))),
                "token": token,
                "path": organisation.path,
                "halfway": halfway,
            }
        return found
    finally:
        await db.close_db()


def queries(scopes: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any], str]]:
    """name: (token, variables, query), at first=50."""
    found = {}
    for scope in ("reseller", "provider"):
        s = scopes[scope]
        found[f"{scope}: search '{SEARCH}' across descendants, first 50"] = (
            s["token"], {"org": s["org"], "first": 50, "search": SEARCH}, MEMBERS,
        )  # fmt: skip
        for term in (SUBSTRING, FULL_NAME):
            found[f"{scope}: search '{term}' across descendants, first 50"] = (
                s["token"], {"org": s["org"], "first": 50, "search": term}, MEMBERS,
            )  # fmt: skip
        found[f"{scope}: search '{SUBSTRING}' across descendants, first 50 without totalCount"] = (
            s["token"], {"org": s["org"], "first": 50, "search": SUBSTRING}, MEMBERS_UNCOUNTED,
        )  # fmt: skip
        found[f"{scope}: page of 50 across descendants"] = (
            s["token"], {"org": s["org"], "first": 50, "search": None}, MEMBERS,
        )  # fmt: skip
        # Any page reached by cursor costs the same as the first (keyset on id).
        found[f"{scope}: page of 50 across descendants, halfway by cursor"] = (
            s["token"], {"org": s["org"], "first": 50, "search": None, "after": s["halfway"]},
            MEMBERS,
        )  # fmt: skip
    # A small organisation (ten people) below the reseller: its subtree is found
    # by index, not by walking the table in id order (migration 0022).
    s = scopes["customer"]
    for search in (None, SEARCH):
        what = f"search '{search}'" if search else "page of 50"
        found[f"customer: {what} across descendants"] = (
            s["token"], {"org": s["org"], "first": 50, "search": search}, MEMBERS,
        )  # fmt: skip
    return found


async def count_statements(
    scopes: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, list[tuple[str, Any]]]]:
    counter = StatementCounter()
    await db.init_db(get_settings().database_url)
    counter.install()
    counts: dict[str, Any] = {}
    captured: dict[str, list[tuple[str, Any]]] = {}
    try:
        async with await app_client() as client:
            for name, (token, variables, query) in queries(scopes).items():
                per_size = {}
                for size in PAGE_SIZES:
                    body = {"query": query, "variables": {**variables, "first": size}}
                    per_size[size] = await counter.count(client, body, token)
                    if size == 50:
                        captured[name] = list(
                            zip(counter.statements, counter.parameters, strict=True)
                        )
                counts[name] = per_size
    finally:
        await db.close_db()
    return counts, captured


async def explain(captured: dict[str, list[tuple[str, Any]]]) -> dict[str, list[str]]:
    """The database's plan for every SELECT of the search and page requests."""
    await db.init_db(get_settings().database_url)
    from tortoise import connections

    conn = connections.get("default")
    postgres = db.is_postgres(get_settings().database_url)
    prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    plans: dict[str, list[str]] = {}
    try:
        for name, statements in captured.items():
            lines = []
            for sql, values in statements:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                rows = await conn.execute_query_dict(prefix + sql, list(values or []))
                lines.append(sql[:200] + ("..." if len(sql) > 200 else ""))
                lines.extend(
                    "    " + str(r.get("QUERY PLAN") or r.get("detail") or r) for r in rows
                )
            plans[name] = lines
    finally:
        await db.close_db()
    return plans


def measure(
    env: dict[str, str], work: Path, scopes: dict[str, Any], counts: dict[str, Any], seconds: float
) -> tuple[dict[str, Any], dict[str, int]]:
    """p50/p95 of each query, one client after another (wrk -c1), and the
    server's peak and current resident memory (KiB) after them."""
    server = Server.frontdesk(env, work)
    results: dict[str, Any] = {}
    try:
        for name, (token, variables, query) in queries(scopes).items():
            body = json.dumps({"query": query, "variables": variables})
            check = httpx.post(
                server.url + "/graphql",
                content=body,
                timeout=60,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ).json()
            if check.get("errors"):
                raise RuntimeError(f"{name}: {check['errors']}")
            wrk(server.url + "/graphql", body, token, seconds=1, connections=1)  # warm
            load = wrk(server.url + "/graphql", body, token, seconds=seconds, connections=1)
            results[name] = {
                "p50": load.percentiles["50"],
                "p95": load.percentiles["95"],
                "p99": load.percentiles["99"],
                "requests": load.requests,
                "total_count": check["data"]["members"].get("totalCount"),
                "statements": counts[name][50],
            }
        memory = server.status()
    finally:
        server.stop()
    return results, memory


def main() -> None:
    stop_on_sigterm()
    out, work, seconds = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    users, organisations = sys.argv[4], sys.argv[5]
    url = get_settings().database_url
    env = server_env(url)
    subprocess.run(  # noqa: S603
        [PYTHON, "-m", "server", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,  # noqa: S603
        capture_output=True,
        timeout=300,
    )
    started = time.perf_counter()
    seeded = subprocess.run(  # noqa: S603
        [PYTHON, "-m", "server", "seed-scale", "--users", users, "--organisations", organisations],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seed_seconds = time.perf_counter() - started
    scopes = asyncio.run(prepare())
    counts, captured = asyncio.run(count_statements(scopes))
    plans = asyncio.run(explain(captured))

    label = "postgres" if db.is_postgres(url) else "sqlite"
    results, memory = measure(env, work, scopes, counts, seconds)
    out.write_text(json.dumps({
        "backend": label,
        "seed_seconds": seed_seconds,
        "seed_output": seeded.stdout.splitlines()[:1],
        "queries": results,
        "server_memory": memory,
        "statements": {k: {str(s): n for s, n in v.items()} for k, v in counts.items()},
        "plans": plans,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
