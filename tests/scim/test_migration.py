"""Migration 0014 on a database with organisations and members in it: they get
the default (invite) and no externalId."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import asyncpg

from server import db
from tests.conftest import DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from tortoise import Tortoise
    from tortoise.migrations.api.migrate import migrate
    from server import db
    from server.accounts.models import Membership
    from server.tenancy.models import Organisation
    from tests.helpers.old_rows import insert_row

    async def main(url):
        await migrate(config=db.tortoise_config(url), target="models.0012_search")
        await Tortoise.close_connections()
        await db.init_db(url)
        try:
            org = await insert_row("organisation", name="Old", path="/", kind="CUSTOMER",
                                   status="ACTIVE")
            user = await insert_row("user", email="old@example.com", status="ACTIVE")
            await insert_row("membership", organisation_id=org, user_id=user, role="MEMBER",
                             status="ACTIVE", ticket_access="OWN")
        finally:
            await Tortoise.close_connections()
        await db.migrate(url)
        await Tortoise.close_connections()
        await db.init_db(url)
        try:
            [organisation] = await Organisation.all()
            [membership] = await Membership.all()
            print(organisation.scim_new_people.value, membership.scim_external_id)
        finally:
            await db.close_db()

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_existing_organisations_invite_and_members_have_no_external_id(database):
    if db.is_postgres(DATABASE_URL):
        name = "frontdesk_scim_migration"
        base = DATABASE_URL.rsplit("/", 1)[0]
        admin = await asyncpg.connect(base.replace("postgres://", "postgresql://") + "/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = f"{base}/{name}"
    else:
        url = f"sqlite://{tempfile.mkdtemp(prefix='frontdesk-scim-')}/old.sqlite3"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SCRIPT, url],
        cwd=ROOT,
        env={**os.environ, "FRONTDESK_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "INVITE None"
