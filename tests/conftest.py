"""Test fixtures: a real database (SQLite file, or PostgreSQL when
FRONTDESK_TEST_DATABASE_URL points at one), migrated once per run and emptied
before every test, and the real ASGI app driven over HTTP by httpx."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise import Tortoise, connections

_TMP = Path(tempfile.mkdtemp(prefix="frontdesk-test-"))
os.environ.setdefault("FRONTDESK_MAIL_DIR", str(_TMP / "mail"))
os.environ.setdefault("FRONTDESK_PUBLIC_URL", "https://portal.example.test")
os.environ.setdefault("FRONTDESK_RUN_WORKER", "false")
# Cheap hashing in tests: the production parameters are exercised by the benchmarks.
os.environ.setdefault("FRONTDESK_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("FRONTDESK_ARGON2_TIME_COST", "1")

DATABASE_URL = os.environ.get("FRONTDESK_TEST_DATABASE_URL") or f"sqlite://{_TMP / 'test.sqlite3'}"
os.environ["FRONTDESK_DATABASE_URL"] = DATABASE_URL

from server import db  # noqa: E402
from server.core import clock  # noqa: E402

pytest_plugins = ["tests.helpers.fixtures", "tests.helpers.smtp", "tests.helpers.instance"]


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    if db.is_postgres(DATABASE_URL):
        await _recreate_postgres_database(DATABASE_URL)
    await db.migrate(DATABASE_URL)
    await Tortoise.close_connections()
    await db.init_db(DATABASE_URL)
    yield DATABASE_URL
    await db.close_db()


async def _recreate_postgres_database(url: str) -> None:
    import asyncpg

    base, name = url.rsplit("/", 1)
    name = name.split("?", 1)[0]
    conn = await asyncpg.connect(base.replace("postgres://", "postgresql://") + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(autouse=True)
async def clean_database(database: str) -> AsyncIterator[None]:
    """Every test starts from empty tables and an unmoved clock."""
    conn = connections.get("default")
    tables = [model._meta.db_table for model in Tortoise.apps["models"].values()]
    if db.is_postgres(database):
        quoted = ", ".join(f'"{t}"' for t in tables)
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    else:
        await conn.execute_script(
            "PRAGMA foreign_keys = OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + "PRAGMA foreign_keys = ON;"
        )
    clock.reset()
    yield
    clock.reset()
