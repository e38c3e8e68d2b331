"""Search indexes (server/core/search.py).

PostgreSQL: the `pg_trgm` and `unaccent` extensions, the folding functions
and one trigram GIN index per searchable text. Both extensions are "trusted"
since PostgreSQL 13: a role with CREATE on the database (a managed database's
owner) may create them; otherwise someone who may must run
`CREATE EXTENSION pg_trgm; CREATE EXTENSION unaccent;` first, and this
migration says so and changes nothing.

SQLite: an FTS5 table with the trigram tokenizer per searchable text, filled
from the existing rows and kept in sync by triggers.

The SQL is written out here (not imported) so that this migration keeps
meaning what it meant; the PostgreSQL expressions equal those in
server/core/search.py (tests/core/test_search_plans.py checks that the
planner uses these indexes).
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from server.db import MigrationRefused

EXTENSIONS = ("pg_trgm", "unaccent")


PERSON = (
    "frontdesk_fold({p}first_name || ' ' || {p}last_name || ' ' || {p}email || ' ' || "
    "{p}office_phone || ' ' || {p}mobile_phone || ' ' || {p}fax) || ' ' || "
    "frontdesk_digits({p}office_phone) || ' ' || frontdesk_digits({p}mobile_phone) || ' ' || "
    "frontdesk_digits({p}fax)"
)
CONTACT = (
    "frontdesk_fold({p}first_name || ' ' || {p}last_name || ' ' || {p}email || ' ' || "
    "{p}title || ' ' || {p}office_phone || ' ' || {p}mobile_phone) || ' ' || "
    "frontdesk_digits({p}office_phone) || ' ' || frontdesk_digits({p}mobile_phone)"
)
ORGANISATION = "frontdesk_fold({p}name)"
TICKET = "frontdesk_fold({p}subject || ' ' || {p}description)"
AUDIT = (
    "frontdesk_fold({p}actor_label || ' ' || {p}impersonator_label || ' ' || "
    "{p}target_label || ' ' || {p}action)"
)

# table, FTS5 table, columns the texts are made of, (FTS column, expression) pairs
SQLITE_TABLES: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    (
        "user",
        "user_search",
        ("first_name", "last_name", "email", "office_phone", "mobile_phone", "fax"),
        (("doc", PERSON), ("email", "frontdesk_fold({p}email)")),
    ),
    ("organisation", "organisation_search", ("name",), (("doc", ORGANISATION),)),
    (
        "contact",
        "contact_search",
        ("first_name", "last_name", "email", "title", "office_phone", "mobile_phone"),
        (("doc", CONTACT),),
    ),
    ("ticket", "ticket_search", ("subject", "description"), (("doc", TICKET),)),
    (
        "audit_event",
        "audit_event_search",
        ("actor_label", "impersonator_label", "target_label", "action"),
        (("doc", AUDIT),),
    ),
)


def _columns(expression: str, prefix: str) -> str:
    """The expression with each {p}column written as prefix."column"."""
    out = []
    rest = expression
    while "{p}" in rest:
        before, _, after = rest.partition("{p}")
        name_end = 0
        while name_end < len(after) and (after[name_end].isalnum() or after[name_end] == "_"):
            name_end += 1
        out.append(f'{before}{prefix}"{after[:name_end]}"')
        rest = after[name_end:]
    out.append(rest)
    return "".join(out)


async def _postgres(client: Any) -> None:
    rows = await client.execute_query_dict(
        "SELECT e.extname, n.nspname FROM pg_extension e "
        "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = ANY($1::text[])",
        [list(EXTENSIONS)],
    )
    schemas = {row["extname"]: row["nspname"] for row in rows}
    missing = [name for name in EXTENSIONS if name not in schemas]
    if missing:
        may = await client.execute_query_dict(
            "SELECT has_database_privilege(current_database(), 'CREATE') AS may, "
            "current_database() AS db, current_user AS role"
        )
        if not may[0]["may"]:
            raise MigrationRefused(
                f"Search needs the PostgreSQL extensions {', '.join(missing)}, and the role "
                f"{may[0]['role']!r} may not create them in database {may[0]['db']!r}. Ask the "
                "database's owner (on a managed PostgreSQL: the admin user or the console) to "
                "run: "
                + " ".join(f"CREATE EXTENSION IF NOT EXISTS {name};" for name in missing)
                + " in that database, then run `frontdesk migrate` again (this step changed nothing)."
            )
        for name in missing:
            await client.execute_script(f"CREATE EXTENSION IF NOT EXISTS {name}")
        await _postgres(client)
        return
    trgm, unaccent = schemas["pg_trgm"], schemas["unaccent"]
    # unaccent() is STABLE (its dictionary could change); with the dictionary
    # named, the wrapper is as immutable as an index needs.
    await client.execute_script(
        "CREATE OR REPLACE FUNCTION frontdesk_fold(value text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
        f'$$ SELECT lower("{unaccent}".unaccent(\'"{unaccent}".unaccent\'::regdictionary, value)) $$;'
        "CREATE OR REPLACE FUNCTION frontdesk_digits(value text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
        "$$ SELECT regexp_replace(value, '[^0-9]+', '', 'g') $$;"
    )
    ops_class = f'"{trgm}".gin_trgm_ops'
    for index, table, expression in (
        ("user_search", "user", PERSON),
        ("user_email_search", "user", "frontdesk_fold({p}email)"),
        ("organisation_search", "organisation", ORGANISATION),
        ("contact_search", "contact", CONTACT),
        ("ticket_search", "ticket", TICKET),
        ("audit_event_search", "audit_event", AUDIT),
    ):
        await client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" '
            f"USING gin (({_columns(expression, '')}) {ops_class})"
        )


async def _sqlite(client: Any) -> None:
    for table, fts, columns, texts in SQLITE_TABLES:
        names = ", ".join(name for name, _ in texts)

        def values(prefix: str, texts: Any = texts) -> str:
            return ", ".join(_columns(expression, prefix) for _, expression in texts)

        watched = ", ".join(f'"{c}"' for c in columns)
        assignments = ", ".join(
            f"{name} = {_columns(expression, 'new.')}" for name, expression in texts
        )
        await client.execute_script(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, tokenize='trigram');"
            f'INSERT INTO {fts}(rowid, {names}) SELECT "id", {values("")} FROM "{table}";'
            f'CREATE TRIGGER {fts}_insert AFTER INSERT ON "{table}" BEGIN '
            f'INSERT INTO {fts}(rowid, {names}) VALUES (new."id", {values("new.")}); END;'
            f'CREATE TRIGGER {fts}_update AFTER UPDATE OF {watched} ON "{table}" BEGIN '
            f'UPDATE {fts} SET {assignments} WHERE rowid = new."id"; END;'
            f'CREATE TRIGGER {fts}_delete AFTER DELETE ON "{table}" BEGIN '
            f'DELETE FROM {fts} WHERE rowid = old."id"; END;'
        )


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        await _sqlite(client)
    else:
        await _postgres(client)


class Migration(migrations.Migration):
    dependencies = [("models", "0008_person_language")]

    initial = False

    operations = [ops.RunPython(forward)]
