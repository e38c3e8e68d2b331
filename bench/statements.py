"""SQL statements per request, counted in-process.

Statements are counted where Tortoise hands them to the driver (the
`execute_*` methods of every Tortoise client class, as in
tests/core/test_queries_count.py); the request goes through the real ASGI app
(httpx + ASGITransport), so get_context, guards and loaders all count.

    python -m bench.statements DATA.json     (FRONTDESK_DATABASE_URL set by the caller)
    prints JSON: {label: statements}
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import httpx
from tortoise.backends.base.client import BaseDBAsyncClient

from bench.common import MEMBERS_QUERY, VIEWER_QUERY
from server import db
from server.settings import get_settings

_METHODS = (
    "execute_insert",
    "execute_query",
    "execute_query_dict",
    "execute_query_dict_with_affected",
    "execute_many",
    "execute_script",
)
_inside = contextvars.ContextVar("_inside", default=False)


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.parameters: list[Any] = []
        self.recording = False

    def _wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        async def counted(client: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            if not self.recording or _inside.get():
                return await original(client, query, *args, **kwargs)
            token = _inside.set(True)
            try:
                self.statements.append(query)
                self.parameters.append(args[0] if args else kwargs.get("values"))
                return await original(client, query, *args, **kwargs)
            finally:
                _inside.reset(token)

        return counted

    def install(self) -> None:
        classes: list[type] = []
        pending: list[type] = [BaseDBAsyncClient]
        while pending:
            cls = pending.pop()
            if cls not in classes:
                classes.append(cls)
                pending.extend(cls.__subclasses__())
        # With the mixins they inherit from (server/sqlite.py's DirectChanges defines execute_query).
        classes = list(dict.fromkeys(base for cls in classes for base in cls.__mro__))
        for cls in classes:
            for name in _METHODS:
                if name in cls.__dict__:
                    setattr(cls, name, self._wrap(cls.__dict__[name]))

    async def count(self, client: httpx.AsyncClient, body: dict[str, Any], token: str) -> int:
        # Warm once (DataLoader and prepared-statement caches are per process).
        await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
        self.statements, self.parameters = [], []
        self.recording = True
        try:
            response = await client.post(
                "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        finally:
            self.recording = False
        payload = response.json()
        if response.status_code != 200 or payload.get("errors"):
            raise RuntimeError(f"query failed: {response.status_code} {payload}")
        return len(self.statements)


async def app_client() -> httpx.AsyncClient:
    # Tortoise is imported with its client classes loaded before counting starts.
    import tortoise.backends.sqlite  # noqa: F401

    from server.app import create_app

    with_pg = db.is_postgres(get_settings().database_url)
    if with_pg:
        import tortoise.backends.asyncpg  # noqa: F401
    app = create_app(manage_database=False)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://portal.bench.example"
    )


async def measure(data: dict[str, Any], page_sizes: list[int]) -> dict[str, int]:
    counter = StatementCounter()
    await db.init_db(get_settings().database_url)
    counter.install()
    results: dict[str, int] = {}
    try:
        async with await app_client() as client:
            token = data["viewer_token"]
            results["viewer"] = await counter.count(client, {"query": VIEWER_QUERY}, token)
            for size in page_sizes:
                body = {
                    "query": MEMBERS_QUERY,
                    "variables": {"org": data["customer_id"], "first": size},
                }
                results[f"members first={size}"] = await counter.count(client, body, token)
    finally:
        await db.close_db()
    return results


def main() -> None:
    with open(sys.argv[1]) as handle:
        data = json.load(handle)
    print(json.dumps(asyncio.run(measure(data, [5, 10, 25, 50, 100]))))


if __name__ == "__main__":
    main()
