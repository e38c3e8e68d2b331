"""A members search on PostgreSQL reads its page rank by rank (server/members/search.py).

Ranking every match of a common name ("sofia", 25,000 of a million people) cost
more than the page: the matches were all read and sorted. The page now reads
the people whose whole name or email is the search, then those whose name, last
name or email starts with it, then the other matches, each in id order and only
as far as the page needs. The first two come from these btree indexes
(`text_pattern_ops`: equality and prefixes under any collation).

And each membership carries its organisation's path (`organisation_path`, kept
by migration 0016's triggers, extended here), so "in the reseller's subtree" is
a test of the row itself, not a join per row to `organisation`.

Existing memberships get their path in one UPDATE (about 40 s for a million
rows). The SQL is written out here (not imported) so that this migration keeps
meaning what it meant.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

# Migration 0016's search columns over the rows "m", "u" and "o", and the path.
_PERSON = (
    "frontdesk_fold(u.first_name || ' ' || u.last_name || ' ' || u.email || ' ' || "
    "u.office_phone || ' ' || u.mobile_phone || ' ' || u.fax) || ' ' || "
    "frontdesk_digits(u.office_phone) || ' ' || frontdesk_digits(u.mobile_phone) || ' ' || "
    "frontdesk_digits(u.fax)"
)
_DOCUMENT = (
    f"CASE WHEN m.status = 'INVITED' THEN frontdesk_fold(u.email) ELSE {_PERSON} END "
    "|| ' ' || frontdesk_fold(o.name)"
)
_NAME = "CASE WHEN m.status = 'INVITED' THEN NULL ELSE frontdesk_fold(trim(u.first_name || ' ' || u.last_name)) END"
_LAST_NAME = "CASE WHEN m.status = 'INVITED' THEN NULL ELSE frontdesk_fold(u.last_name) END"
_EMAIL = "frontdesk_fold(u.email)"
_SET = (
    f"search_document = {_DOCUMENT}, search_name = {_NAME}, "
    f"search_last_name = {_LAST_NAME}, search_email = {_EMAIL}, organisation_path = o.path"
)

POSTGRES = (
    "ALTER TABLE membership ADD COLUMN organisation_path text",
    f"""CREATE OR REPLACE FUNCTION frontdesk_member_search() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT {_DOCUMENT}, {_NAME}, {_LAST_NAME}, {_EMAIL}, o.path
          INTO NEW.search_document, NEW.search_name, NEW.search_last_name, NEW.search_email,
               NEW.organisation_path
          FROM (SELECT NEW.status AS status) AS m, "user" u, organisation o
         WHERE u.id = NEW.user_id AND o.id = NEW.organisation_id;
        RETURN NEW;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION frontdesk_member_search_refresh() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'user' THEN
            UPDATE membership m SET {_SET} FROM "user" u, organisation o
             WHERE m.user_id = NEW.id AND u.id = m.user_id AND o.id = m.organisation_id;
        ELSE
            UPDATE membership m SET {_SET} FROM "user" u, organisation o
             WHERE m.organisation_id = NEW.id AND u.id = m.user_id AND o.id = m.organisation_id;
        END IF;
        RETURN NULL;
    END $$""",
    # An organisation's path is set once, just after it is created; follow it anyway.
    "DROP TRIGGER organisation_member_search ON organisation",
    "CREATE TRIGGER organisation_member_search AFTER UPDATE ON organisation FOR EACH ROW "
    "WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.path IS DISTINCT FROM NEW.path) "
    "EXECUTE FUNCTION frontdesk_member_search_refresh()",
    # Not a column the update triggers watch: one statement, no trigger per row.
    "UPDATE membership m SET organisation_path = o.path FROM organisation o "
    "WHERE o.id = m.organisation_id",
    "CREATE INDEX membership_search_name ON membership (search_name text_pattern_ops)",
    "CREATE INDEX membership_search_last_name ON membership (search_last_name text_pattern_ops)",
    "CREATE INDEX membership_search_email ON membership (search_email text_pattern_ops)",
)


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        return
    for statement in POSTGRES:
        await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("models", "0019_subtree_member_counts")]

    initial = False

    operations = [ops.RunPython(forward)]
