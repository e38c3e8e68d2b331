"""Tortoise's SQLite backend, with write transactions that wait their turn.

Several processes may share one SQLite file (`frontdesk serve` beside a
`frontdesk worker`, or `serve --workers N`). SQLite lets one of them write at
a time; the others wait for the lock up to the busy timeout
(`server.db.BUSY_TIMEOUT_MS`). That wait does not help a transaction begun
with a plain (deferred) `BEGIN`: it starts as a reader, and if another
process commits before its first write, SQLite refuses the upgrade at once
with "database is locked" (SQLITE_BUSY_SNAPSHOT in WAL mode) — the request
failed with "Unexpected error." and the user's action was lost. Transactions
here begin with `BEGIN IMMEDIATE`: they take the write lock first, waiting
for it like any other writer, and never need an upgrade. Tortoise already
runs one transaction at a time per process (one connection behind a lock),
so this only orders them across processes.

Every connection also gets `frontdesk_fold` and `frontdesk_digits`, the
functions the search triggers of migration 0012 index with
(server/core/search.py); a tool opening the file without them can read but
not change the searchable tables. Those triggers write to FTS5 tables, so the
number of rows a statement changed is SQLite's `changes()` (the statement's
own rows), not Tortoise's difference of `total_changes` (which counts every
row the triggers and FTS5 touched too: pruning 4 audit events said 20).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient as _TortoiseSqliteClient,
)
from tortoise.backends.sqlite.client import (
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.exceptions import TransactionManagementError

from server.core.search import digits, fold


class DirectChanges:
    """`execute_query` counting only the rows the statement itself changed."""

    log: Any

    if TYPE_CHECKING:  # provided by Tortoise's client, which comes after this in the MRO

        def acquire_connection(self) -> Any: ...

    @translate_exceptions
    async def execute_query(
        self, query: str, values: list[Any] | None = None
    ) -> tuple[int, Sequence[dict[str, Any]]]:
        query = query.replace("\x00", "'||CHAR(0)||'")  # as Tortoise does
        async with self.acquire_connection() as connection:
            self.log.debug("%s: %s", query, values)
            async with connection.execute(query, values) as cursor:
                rows = await cursor.fetchall()
                changed = cursor.rowcount
            return (changed if changed > 0 else 0) or len(rows), rows


class ImmediateTransactionWrapper(DirectChanges, SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class SqliteClient(DirectChanges, _TortoiseSqliteClient):
    async def create_connection(self, with_db: bool) -> None:
        await super().create_connection(with_db)
        if self._connection is not None:
            for name, function in (("frontdesk_fold", fold), ("frontdesk_digits", digits)):
                await self._connection.create_function(name, 1, function, deterministic=True)

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)

    @translate_exceptions
    async def execute_many(self, query: str, values: list[list[Any]]) -> None:
        """Tortoise's bulk insert, in an immediate transaction too."""
        async with self.acquire_connection() as connection:
            self.log.debug("%s: %s", query, values)
            await connection.execute("BEGIN IMMEDIATE")
            try:
                await connection.executemany(query, values)
            except Exception:
                await connection.rollback()
                raise
            else:
                await connection.commit()


# What Tortoise looks for in an engine module (`"engine": "server.sqlite"`).
client_class = SqliteClient
