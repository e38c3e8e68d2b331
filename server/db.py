"""Tortoise ORM configuration: one app holding every domain's models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

if TYPE_CHECKING:
    import asyncpg

MODEL_MODULES = [
    "server.tenancy.models",
    "server.accounts.models",
    "server.invitations.models",
    "server.auth.models",
    "server.audit.models",
    "server.branding.models",
    "server.mail.models",
    "server.api_tokens.models",
    "server.contacts.models",
    "server.tickets.models",
    "server.telephony.models",
    "server.webhooks.models",
    "server.scim.models",
    "server.oidc.models",
]


class MigrationRefused(RuntimeError):
    """A migration cannot run on this database as it is; the message tells the
    operator what to do (`frontdesk migrate` prints it)."""


# How long an SQLite write waits for another process's write to finish.
BUSY_TIMEOUT_MS = 10_000


def with_sqlite_defaults(database_url: str) -> str:
    """SQLite runs in WAL mode (Tortoise's default). There `synchronous=NORMAL`
    commits without waiting for fsync: a power cut may lose the last commits but
    never corrupts the file, and a commit costs microseconds instead of
    milliseconds under SQLite's single connection lock (BENCHMARKS.md). Add
    `?synchronous=FULL` to the URL to wait for the disk on every commit.
    A write waits up to `BUSY_TIMEOUT_MS` for another process's write
    (`?busy_timeout=` in milliseconds to change it)."""
    if not database_url.startswith("sqlite://"):
        return database_url
    for pragma, value in (("synchronous", "NORMAL"), ("busy_timeout", str(BUSY_TIMEOUT_MS))):
        if f"{pragma}=" not in database_url:
            database_url += ("&" if "?" in database_url else "?") + f"{pragma}={value}"
    return database_url


async def end_transaction_only(connection: asyncpg.Connection) -> None:
    """What a pooled connection needs between two users here: no transaction
    left open. asyncpg's default reset sends `pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL` after every statement outside a transaction, a
    round trip each; Frontdesk holds no session-level locks, cursors, listeners
    or settings (a setting it changes is `SET LOCAL`)."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


def _connection(database_url: str) -> str | dict[str, Any]:
    """Tortoise's connection settings; SQLite through our backend, whose
    transactions take the write lock first (server/sqlite.py). PostgreSQL runs
    without JIT compilation: a search's plan looks expensive to the planner
    (it cannot tell how few rows a trigram match leaves), and compiling it
    took 13 s for a query that runs in under one (BENCHMARKS.md, "Search").
    And it plans every statement with its values (`force_custom_plan`): after
    five runs of a prepared statement PostgreSQL may keep one generic plan,
    and a generic plan cannot use an index for `LIKE $1` (a search's page went
    from 3 ms to 80 ms; BENCHMARKS.md, "A million users")."""
    database_url = with_sqlite_defaults(database_url)
    if is_postgres(database_url):
        config = expand_db_url(database_url)
        settings = config["credentials"].setdefault("server_settings", {})
        settings.update(jit="off", plan_cache_mode="force_custom_plan")
        config["credentials"]["reset"] = end_transaction_only
        return config
    if not database_url.startswith("sqlite://"):
        return database_url
    config = expand_db_url(database_url)
    config["engine"] = "server.sqlite"
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "server.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://", "asyncpg://"))


async def init_db(database_url: str) -> None:
    # Global fallback: uvicorn serves requests outside the context that ran init.
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def migrate(database_url: str) -> None:
    from tortoise.migrations.api import migrate as run_migrations

    await run_migrations(config=tortoise_config(database_url))


async def close_db() -> None:
    await Tortoise.close_connections()


# For the `tortoise` CLI (makemigrations): pyproject.toml points here.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
