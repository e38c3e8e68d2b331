"""Migration 0012 (search indexes): it applies to a database that already has
rows (and finds them), PostgreSQL answers searches from its trigram indexes,
and a role that may not create the extensions gets a clear message.

Migrations run in a child process (`python -m server migrate`, or a small
script) on a database of their own, so the test session's Tortoise state and
database stay untouched."""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import asyncpg
import pytest
from tortoise.transactions import in_transaction

from server import db
from server.core.search import AUDIT_EVENT, CONTACT, ORGANISATION, TICKET, Document
from tests.conftest import DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = db.is_postgres(DATABASE_URL)
BEFORE = ".".join(
    importlib.import_module("server.migrations.0012_search").Migration.dependencies[0]
)

# Rows written before 0012, then migrated, then searched.
SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from tortoise import Tortoise
    from tortoise.migrations.api.migrate import migrate
    from server import db
    from server.accounts.models import Membership
    from server.core.permissions import Role
    from server.core.search import search_words
    from server.members.search import search_members
    from tests.helpers.old_rows import insert_row

    async def main(url, before):
        await migrate(config=db.tortoise_config(url), target=before)
        await Tortoise.close_connections()
        await db.init_db(url)
        org = await insert_row("organisation", name="Ærøskøbing Fähre", path="/", kind="PROVIDER",
                               status="ACTIVE")
        user = await insert_row("user", email="jm@example.com", first_name="José",
                                last_name="Müller", status="ACTIVE")
        await insert_row("membership", organisation_id=org, user_id=user, role=Role.MEMBER.value,
                         status="ACTIVE", ticket_access="OWN")
        await Tortoise.close_connections()
        await db.migrate(url)
        await Tortoise.close_connections()
        await db.init_db(url)
        for search in ("jose mull", "aeroskobing", "fahre jm@"):
            found = await search_members(Membership.all(), search_words(search)).count()
            print(search, found)
        await db.close_db()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def _run(args: list[str], url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FRONTDESK_DATABASE_URL": url}
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


async def _admin_sql(statements: list[str], database: str = "postgres") -> None:
    base = DATABASE_URL.rsplit("/", 1)[0].replace("postgres://", "postgresql://")
    conn = await asyncpg.connect(f"{base}/{database}")
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


def _url(database: str, user: str = "postgres") -> str:
    base = DATABASE_URL.rsplit("/", 1)[0]
    host = base.split("@", 1)[1]
    return f"postgres://{user}@{host}/{database}"


async def test_applies_to_a_database_with_rows(database):
    if POSTGRES:
        name = "frontdesk_search_migration"
        await _admin_sql(
            [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"']
        )
        url = _url(name)
    else:
        url = f"sqlite://{tempfile.mkdtemp(prefix='frontdesk-search-')}/old.sqlite3"
    done = await asyncio.to_thread(_run, ["-c", SCRIPT, url, BEFORE], url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["jose mull 1", "aeroskobing 1", "fahre jm@ 1"]
    if POSTGRES:
        await _admin_sql([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's indexes and roles")
async def test_postgres_answers_each_search_from_its_trigram_index(database):
    members = Document("membership", '"search_document"', "", "")  # migration 0016
    for document, index in (
        (members, "membership_search"),
        (ORGANISATION, "organisation_search"),
        (CONTACT, "contact_search"),
        (TICKET, "ticket_search"),
        (AUDIT_EVENT, "audit_event_search"),
    ):
        # Empty tables: tell the planner that a full scan is out of the question
        # (SET LOCAL, in a transaction: the EXPLAIN must run on the same connection).
        async with in_transaction() as conn:
            await conn.execute_script("SET LOCAL enable_seqscan = off")
            rows = await conn.execute_query_dict(
                f'EXPLAIN SELECT "id" FROM "{document.table}" WHERE {document.expression} LIKE $1',
                ["%abc%"],
            )
        plan = "\n".join(row["QUERY PLAN"] for row in rows)
        assert f"Bitmap Index Scan on {index}" in plan, plan


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's extensions and roles")
async def test_a_role_that_may_not_create_the_extensions_is_told_what_to_do(database):
    name, role = "frontdesk_search_restricted", "frontdesk_search_migrator"
    await _admin_sql(
        [
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'DROP ROLE IF EXISTS "{role}"',
            f'CREATE ROLE "{role}" LOGIN',
            f'CREATE DATABASE "{name}"',  # owned by postgres: the role has no CREATE on it
        ]
    )
    try:
        await _admin_sql(
            [
                "DROP EXTENSION IF EXISTS pg_trgm",
                "DROP EXTENSION IF EXISTS unaccent",
                f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"',
            ],
            name,
        )
        url = _url(name, role)
        refused = await asyncio.to_thread(_run, ["-m", "server", "migrate"], url)
        assert refused.returncode == 1
        message = refused.stderr.strip().splitlines()[-1]
        assert message.startswith("frontdesk migrate: Search needs the PostgreSQL extensions")
        assert (
            "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS unaccent;"
            in message
        )
        assert "Traceback" not in refused.stderr
        # The owner enables them; the same role then migrates.
        await _admin_sql(["CREATE EXTENSION pg_trgm", "CREATE EXTENSION unaccent"], name)
        done = await asyncio.to_thread(_run, ["-m", "server", "migrate"], url)
        assert done.returncode == 0, done.stderr
        assert "Database migrated." in done.stdout
    finally:
        await _admin_sql(
            [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{role}"']
        )
