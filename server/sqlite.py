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
not change the searchable tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

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


async def _execute_counting_own_rows(
    client: _TortoiseSqliteClient, query: str, values: list[Any] | None
) -> tuple[int, Sequence[Any]]:
    """Tortoise counts the rows a statement changed as the connection's
    `total_changes` difference, which includes rows changed by triggers: with
    migration 0012's search triggers a DELETE of 4 audit events "changed" 20.
    The cursor's `rowcount` counts the statement's own rows (SQLite's
    `sqlite3_changes`); a SELECT reports its rows."""
    query = query.replace("\x00", "'||CHAR(0)||'")
    async with client.acquire_connection() as connection:
        client.log.debug("%s: %s", query, values)
        cursor = await connection.execute(query, values)
        try:
            rows = await cursor.fetchall()
            return (cursor.rowcount if cursor.rowcount >= 0 else len(rows)), rows
        finally:
            await cursor.close()


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    @translate_exceptions
    async def execute_query(
        self, query: str, values: list[Any] | None = None
    ) -> tuple[int, Sequence[Any]]:
        return await _execute_counting_own_rows(self, query, values)

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class SqliteClient(_TortoiseSqliteClient):
    async def create_connection(self, with_db: bool) -> None:
        await super().create_connection(with_db)
        if self._connection is not None:
            for name, function in (("frontdesk_fold", fold), ("frontdesk_digits", digits)):
                await self._connection.create_function(name, 1, function, deterministic=True)

    @translate_exceptions
    async def execute_query(
        self, query: str, values: list[Any] | None = None
    ) -> tuple[int, Sequence[Any]]:
        return await _execute_counting_own_rows(self, query, values)

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
