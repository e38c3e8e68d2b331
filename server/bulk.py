"""Loading many rows at once, the fastest way each database offers (seed-scale).

PostgreSQL takes them through ``COPY`` (asyncpg's ``copy_records_to_table``),
SQLite through one prepared INSERT run with ``executemany``. The caller gives
the columns that vary from row to row, as database values (enums by their
value); every other column gets the model's own default, converted once
through the model's fields, so a column added to a model later needs no change
here. Call inside ``in_transaction()``: the rows commit or vanish together.

Reads Tortoise's model metadata (``_meta.fields_db_projection``,
``_meta.fields_map``, ``_meta.db_table``); ``tests/test_library_internals.py``
names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from tortoise import connections
from tortoise.models import Model

from server.db import is_postgres
from server.settings import get_settings

FLUSH_ROWS = 50_000


class BulkTable:
    """Rows for one model's table, written in chunks of ``FLUSH_ROWS``.

    ``placeholder`` gives values for the required fields without a default (they are
    needed to build the one instance the defaults are read from), e.g.
    ``BulkTable(User, ["id", "email"], email="x@example.test")``.
    """

    def __init__(self, model: type[Model], given: Sequence[str], **placeholder: Any) -> None:
        meta = model._meta
        self.table = meta.db_table
        fields = list(meta.fields_db_projection)
        unknown = set(given) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no column for {sorted(unknown)}")
        self.columns = [meta.fields_db_projection[name] for name in fields]
        instance = model(**placeholder)
        self._defaults = [
            meta.fields_map[name].to_db_value(getattr(instance, name), instance) for name in fields
        ]
        self._positions = [fields.index(name) for name in given]
        self._rows: list[list[Any]] = []
        self.written = 0

    async def add(self, *values: Any) -> None:
        row = self._defaults.copy()
        for position, value in zip(self._positions, values, strict=True):
            row[position] = value.value if isinstance(value, Enum) else value
        self._rows.append(row)
        if len(self._rows) >= FLUSH_ROWS:
            await self.flush()

    async def flush(self) -> None:
        if not self._rows:
            return
        connection = connections.get("default")
        if is_postgres(get_settings().database_url):
            async with connection.acquire_connection() as raw:
                await raw.copy_records_to_table(
                    self.table, records=self._rows, columns=self.columns
                )
        else:
            names = ", ".join(f'"{column}"' for column in self.columns)
            marks = ", ".join("?" for _ in self.columns)
            await connection.execute_many(
                f'INSERT INTO "{self.table}" ({names}) VALUES ({marks})',  # noqa: S608 - model metadata
                self._rows,
            )
        self.written += len(self._rows)
        self._rows = []
