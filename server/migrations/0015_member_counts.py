"""Member counts per organisation, and a subtree index for any collation.

`organisation.member_count` is the number of its memberships of every status
(pending invitations included): the members list's unfiltered `totalCount` and
the seats in use. Database triggers keep it, so it changes in the transaction
that adds, removes or moves a membership, whatever path the rows take (the
services, `frontdesk seed-scale`'s COPY, a cascade when a user is deleted).
PostgreSQL counts per statement from the transition tables (a COPY of a million
memberships updates each organisation once); SQLite has row triggers only.

PostgreSQL answers the subtree filter (`path LIKE '/1/4/%'`) from a btree index
only under the "C" collation; `varchar_pattern_ops` does under any, and the
included columns let the subtree's member counts be summed from the index alone.

The SQL is written out here (not imported) so that this migration keeps meaning
what it meant.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

BACKFILL = (
    "UPDATE organisation SET member_count = (SELECT COUNT(*) FROM membership "
    "WHERE membership.organisation_id = organisation.id)"
)

POSTGRES = (
    """CREATE FUNCTION frontdesk_count_members() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE organisation o SET member_count = o.member_count - gone.n
            FROM (SELECT organisation_id, COUNT(*) AS n FROM old_rows GROUP BY organisation_id) gone
            WHERE o.id = gone.organisation_id;
        ELSE
            UPDATE organisation o SET member_count = o.member_count + came.n
            FROM (SELECT organisation_id, COUNT(*) AS n FROM new_rows GROUP BY organisation_id) came
            WHERE o.id = came.organisation_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION frontdesk_move_member() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE organisation SET member_count = member_count - 1 WHERE id = OLD.organisation_id;
        UPDATE organisation SET member_count = member_count + 1 WHERE id = NEW.organisation_id;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER membership_counted_insert AFTER INSERT ON membership "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION frontdesk_count_members()",
    "CREATE TRIGGER membership_counted_delete AFTER DELETE ON membership "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION frontdesk_count_members()",
    # Only a change of organisation moves a count: other updates fire nothing.
    "CREATE TRIGGER membership_counted_update AFTER UPDATE OF organisation_id ON membership "
    "FOR EACH ROW WHEN (OLD.organisation_id IS DISTINCT FROM NEW.organisation_id) "
    "EXECUTE FUNCTION frontdesk_move_member()",
    "CREATE INDEX organisation_path_subtree ON organisation "
    "(path varchar_pattern_ops) INCLUDE (id, member_count)",
)

SQLITE = (
    "CREATE TRIGGER membership_counted_insert AFTER INSERT ON membership BEGIN "
    "UPDATE organisation SET member_count = member_count + 1 WHERE id = NEW.organisation_id; END",
    "CREATE TRIGGER membership_counted_delete AFTER DELETE ON membership BEGIN "
    "UPDATE organisation SET member_count = member_count - 1 WHERE id = OLD.organisation_id; END",
    "CREATE TRIGGER membership_counted_update AFTER UPDATE OF organisation_id ON membership "
    "WHEN OLD.organisation_id IS NOT NEW.organisation_id BEGIN "
    "UPDATE organisation SET member_count = member_count - 1 WHERE id = OLD.organisation_id; "
    "UPDATE organisation SET member_count = member_count + 1 WHERE id = NEW.organisation_id; END",
)


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    statements = SQLITE if client.capabilities.dialect == "sqlite" else POSTGRES
    for statement in statements:
        await client.execute_script(statement)
    await client.execute_script(BACKFILL)


class Migration(migrations.Migration):
    dependencies = [("models", "0014_scim")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Organisation",
            name="member_count",
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.RunPython(forward),
    ]
