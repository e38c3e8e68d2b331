"""Rows written into a database migrated only part of the way, for tests that a
later migration applies to existing data. The current models may have columns
that database lacks, so rows go in as plain SQL: the values given, and a
neutral value (0, false, '', now) for each other NOT NULL column without a
default, as the schema of that moment requires."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise import connections


def _neutral(kind: str) -> Any:
    kind = kind.lower()
    if "bool" in kind:
        return False
    if "int" in kind or "numeric" in kind or "real" in kind or "double" in kind:
        return 0
    if "timestamp" in kind or "datetime" in kind or "date" in kind:
        return datetime.now(UTC)
    if "json" in kind:
        return "{}"
    return ""


async def _required(table: str) -> dict[str, str]:
    """Columns that need a value: NOT NULL, no default, not the id; with their type."""
    client = connections.get("default")
    if client.capabilities.dialect == "sqlite":
        rows = await client.execute_query_dict(f'PRAGMA table_info("{table}")')
        return {
            r["name"]: r["type"]
            for r in rows
            if r["notnull"] and r["dflt_value"] is None and not r["pk"]
        }
    rows = await client.execute_query_dict(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 "
        "AND table_schema = current_schema() AND is_nullable = 'NO' AND column_default IS NULL",
        [table],
    )
    return {r["column_name"]: r["data_type"] for r in rows if r["column_name"] != "id"}


async def insert_row(table: str, **values: Any) -> int:
    """Insert one row into `table` as the schema of the moment has it; its id."""
    client = connections.get("default")
    row = {name: _neutral(kind) for name, kind in (await _required(table)).items()}
    row.update(values)
    names = ", ".join(f'"{name}"' for name in row)
    if client.capabilities.dialect == "sqlite":
        marks = ", ".join("?" for _ in row)
        params = [v.isoformat() if isinstance(v, datetime) else v for v in row.values()]
    else:
        marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
        params = list(row.values())
    [inserted] = await client.execute_query_dict(
        f'INSERT INTO "{table}" ({names}) VALUES ({marks}) RETURNING "id"', params
    )
    return int(inserted["id"])
