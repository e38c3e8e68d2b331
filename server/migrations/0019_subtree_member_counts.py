"""Member counts per subtree: a provider's whole tree counted in one read.

`organisation.subtree_member_count` is the number of memberships of every status
of the organisation and of every organisation below it. The triggers of
migration 0015 that keep `member_count` keep it too, in the same transaction:
each change adds to the organisation and to every ancestor its path names
("/1/4/9/": 1, 4 and 9). The members list across descendants reads it when the
viewer may list the whole subtree, instead of summing 100,000 counters.

Every membership change now also writes its ancestors' rows, so concurrent
changes anywhere below a provider queue briefly on the provider's row (the
row lock is held until commit); Frontdesk's member changes are one person at
a time, and a bulk COPY updates each ancestor once.

Organisations are never deleted by Frontdesk; a membership removed together
with its organisation would find no path to subtract from.

The SQL is written out here (not imported) so that this migration keeps meaning
what it meant.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# PostgreSQL: the ids an organisation's path names, itself last.
_PG_ANCESTORS = "unnest(string_to_array(trim(both '/' from o.path), '/')::int[])"


def _pg_subtree(rows: str, sign: str) -> str:
    """Add (or subtract) the memberships of a transition table to every ancestor."""
    return (
        f"UPDATE organisation t SET subtree_member_count = t.subtree_member_count {sign} up.n "
        f"FROM (SELECT a.id, SUM(c.n) AS n FROM "
        f"(SELECT organisation_id, COUNT(*) AS n FROM {rows} GROUP BY organisation_id) c "
        f"JOIN organisation o ON o.id = c.organisation_id "
        f"CROSS JOIN LATERAL {_PG_ANCESTORS} AS a(id) GROUP BY a.id) up "
        "WHERE t.id = up.id;"
    )


def _pg_one(organisation_id: str, sign: str) -> str:
    return (
        f"UPDATE organisation t SET subtree_member_count = t.subtree_member_count {sign} 1 "
        f"FROM organisation o CROSS JOIN LATERAL {_PG_ANCESTORS} AS a(id) "
        f"WHERE o.id = {organisation_id} AND t.id = a.id;"
    )


POSTGRES = (
    f"""CREATE OR REPLACE FUNCTION frontdesk_count_members() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE organisation o SET member_count = o.member_count - gone.n
            FROM (SELECT organisation_id, COUNT(*) AS n FROM old_rows GROUP BY organisation_id) gone
            WHERE o.id = gone.organisation_id;
            {_pg_subtree("old_rows", "-")}
        ELSE
            UPDATE organisation o SET member_count = o.member_count + came.n
            FROM (SELECT organisation_id, COUNT(*) AS n FROM new_rows GROUP BY organisation_id) came
            WHERE o.id = came.organisation_id;
            {_pg_subtree("new_rows", "+")}
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION frontdesk_move_member() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE organisation SET member_count = member_count - 1 WHERE id = OLD.organisation_id;
        UPDATE organisation SET member_count = member_count + 1 WHERE id = NEW.organisation_id;
        {_pg_one("OLD.organisation_id", "-")}
        {_pg_one("NEW.organisation_id", "+")}
        RETURN NULL;
    END $$""",
    "UPDATE organisation t SET subtree_member_count = s.n FROM ("
    f"SELECT a.id, SUM(o.member_count) AS n FROM organisation o CROSS JOIN LATERAL {_PG_ANCESTORS} "
    "AS a(id) GROUP BY a.id) s WHERE t.id = s.id",
)

# SQLite: the ids an organisation's path names, as rows of json_each (triggers
# may not use a WITH clause).
_SQLITE_PATH = "(SELECT path FROM organisation WHERE id = {})"


def _sqlite_ancestors(path: str) -> str:
    return f"SELECT value FROM json_each('[' || replace(trim({path}, '/'), '/', ',') || ']')"


def _sqlite_one(organisation_id: str, sign: str) -> str:
    ancestors = _sqlite_ancestors(_SQLITE_PATH.format(organisation_id))
    return (
        f"UPDATE organisation SET subtree_member_count = subtree_member_count {sign} 1 "
        f"WHERE id IN ({ancestors});"
    )


SQLITE = (
    "CREATE TRIGGER membership_subtree_insert AFTER INSERT ON membership BEGIN "
    f"{_sqlite_one('NEW.organisation_id', '+')} END",
    "CREATE TRIGGER membership_subtree_delete AFTER DELETE ON membership BEGIN "
    f"{_sqlite_one('OLD.organisation_id', '-')} END",
    "CREATE TRIGGER membership_subtree_update AFTER UPDATE OF organisation_id ON membership "
    "WHEN OLD.organisation_id IS NOT NEW.organisation_id BEGIN "
    f"{_sqlite_one('OLD.organisation_id', '-')} {_sqlite_one('NEW.organisation_id', '+')} END",
    "UPDATE organisation SET subtree_member_count = s.n FROM ("
    "SELECT a.value AS id, SUM(o.member_count) AS n FROM organisation o, "
    "json_each('[' || replace(trim(o.path, '/'), '/', ',') || ']') a GROUP BY a.value) s "
    "WHERE organisation.id = s.id",
)


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    statements = SQLITE if client.capabilities.dialect == "sqlite" else POSTGRES
    for statement in statements:
        await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("models", "0018_oidc")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Organisation",
            name="subtree_member_count",
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.RunPython(forward),
    ]
