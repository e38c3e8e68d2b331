"""The members search reads one row on PostgreSQL (server/members/search.py).

Migration 0012 indexed a person's text on `user` and an organisation's name on
`organisation`; a members search then had to find the matching people, the
matching organisations and every membership of either, and rank each match by
looking its person up again. At a million memberships a common name ("sofia",
30,000 people) took seconds: PostgreSQL read every membership to test it
against the sets of matches.

Here each membership carries what its list row shows, folded as search folds it
(`frontdesk_fold`), kept by triggers in the transaction that changes it:

- `search_document`: the person's text (names, email, phones, and the phones'
  digits) and the organisation's name; for a pending invitation (INVITED) only
  the email and the organisation's name, as the list shows no more of them;
- `search_name`, `search_last_name`, `search_email`: what the rank compares
  (the names NULL for a pending invitation, so they never rank).

One trigram GIN index on `search_document` answers every word of a search, and
the rank is read from the same row. The person's own indexes of migration 0012
(`user_search`, `user_email_search`) answered nothing else and go. SQLite keeps
migration 0012's FTS5 tables (its search is not the large-provider path; see
the README).

The SQL is written out here (not imported) so that this migration keeps meaning
what it meant.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

# Migration 0012's person text over the row "u", then the organisation's name.
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
    f"search_last_name = {_LAST_NAME}, search_email = {_EMAIL}"
)

POSTGRES = (
    "ALTER TABLE membership ADD COLUMN search_document text, ADD COLUMN search_name text, "
    "ADD COLUMN search_last_name text, ADD COLUMN search_email text",
    # Before a membership is written: its own row's search columns.
    f"""CREATE FUNCTION frontdesk_member_search() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT {_DOCUMENT}, {_NAME}, {_LAST_NAME}, {_EMAIL}
          INTO NEW.search_document, NEW.search_name, NEW.search_last_name, NEW.search_email
          FROM (SELECT NEW.status AS status) AS m, "user" u, organisation o
         WHERE u.id = NEW.user_id AND o.id = NEW.organisation_id;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER membership_search_insert BEFORE INSERT ON membership "
    "FOR EACH ROW EXECUTE FUNCTION frontdesk_member_search()",
    "CREATE TRIGGER membership_search_update BEFORE UPDATE OF user_id, organisation_id, status "
    "ON membership FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id "
    "OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id "
    "OR OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION frontdesk_member_search()",
    # A person's or an organisation's text changed: rewrite their memberships' columns.
    f"""CREATE FUNCTION frontdesk_member_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
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
    'CREATE TRIGGER user_member_search AFTER UPDATE ON "user" FOR EACH ROW WHEN ('
    "OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name "
    "OR OLD.email IS DISTINCT FROM NEW.email OR OLD.office_phone IS DISTINCT FROM NEW.office_phone "
    "OR OLD.mobile_phone IS DISTINCT FROM NEW.mobile_phone OR OLD.fax IS DISTINCT FROM NEW.fax) "
    "EXECUTE FUNCTION frontdesk_member_search_refresh()",
    "CREATE TRIGGER organisation_member_search AFTER UPDATE ON organisation FOR EACH ROW "
    "WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION frontdesk_member_search_refresh()",
    # The rows there are already (one statement, not a trigger per row).
    f'UPDATE membership m SET {_SET} FROM "user" u, organisation o '
    "WHERE u.id = m.user_id AND o.id = m.organisation_id",
    "DROP INDEX IF EXISTS user_search, user_email_search",
)


async def forward(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        return
    for statement in POSTGRES:
        await client.execute_script(statement)
    # gin_trgm_ops lives in the schema pg_trgm was created in (migration 0012).
    [trgm] = await client.execute_query_dict(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    )
    await client.execute_script(
        "CREATE INDEX membership_search ON membership "
        f'USING gin (search_document "{trgm["nspname"]}".gin_trgm_ops)'
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0015_member_counts")]

    initial = False

    operations = [ops.RunPython(forward)]
