"""Per-organisation member counts (migration 0015) and per-subtree ones
(migration 0019): kept by the database in the transaction that adds, removes or
moves a membership, whatever the path; the members list's unfiltered totalCount
read from them, for the viewer's reach only; a search counting up to SEARCH_COUNT_LIMIT and then saying so."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from tortoise.transactions import in_transaction

from server import db
from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.core.pagination import SEARCH_COUNT_LIMIT
from server.core.permissions import DEFAULT_TICKET_ACCESS, Role
from server.tenancy.models import Organisation
from tests.api_tokens.test_api_tokens import create_token
from tests.conftest import DATABASE_URL
from tests.helpers.fixtures import GraphQLClient, gid

ROOT = Path(__file__).resolve().parents[2]

INVITE = """mutation($org: ID!, $email: String!) { inviteUser(input: {organisationId: $org,
  email: $email, role: MEMBER}) { invitation { membership { id } } errors { code } } }"""
CREATE_USER = """mutation($org: ID!, $email: String!) { createUser(input: {organisationId: $org,
  email: $email, role: MEMBER, sendSetPasswordLink: true}) { membership { id } errors { code } } }"""
REMOVE = """mutation($id: ID!) { removeMember(input: {membershipId: $id}) {
  removedMembershipId errors { code } } }"""
DELETE_USER = """mutation($id: ID!) { deleteUser(input: {membershipId: $id}) {
  removedMembershipId errors { code } } }"""
MEMBERS = """query($org: ID!, $descendants: Boolean!, $search: String, $status: MembershipStatus) {
  members(organisationId: $org, includeDescendants: $descendants, search: $search,
          status: $status, first: 5) { totalCount totalCountIsExact } }"""


async def assert_counts_true() -> None:
    """Every organisation's counters equal its memberships, and its subtree's, counted."""
    for organisation in await Organisation.all():
        actual = await Membership.filter(organisation_id=organisation.id).count()
        assert organisation.member_count == actual, organisation.name
        below = await Membership.filter(organisation__path__startswith=organisation.path).count()
        assert organisation.subtree_member_count == below, organisation.name


async def test_counts_follow_every_way_a_membership_comes_and_goes(tree, sign_in, smtp_server):
    await assert_counts_true()
    assert (await Organisation.get(id=tree.acme.id)).member_count == 3
    everyone = await Membership.all().count()
    assert (await Organisation.get(id=tree.provider.id)).subtree_member_count == everyone
    admin = await sign_in(tree["reseller.admin"].email)
    acme = gid("Organisation", tree.acme.id)
    invited = await admin.ok(INVITE, {"org": acme, "email": "inv@acme.example.com"})
    created = await admin.ok(CREATE_USER, {"org": acme, "email": "new@acme.example.com"})
    await assert_counts_true()
    assert (await Organisation.get(id=tree.acme.id)).member_count == 5

    await admin.ok(REMOVE, {"id": invited["invitation"]["membership"]["id"]})
    await admin.ok(DELETE_USER, {"id": created["membership"]["id"]})
    await assert_counts_true()

    # Several rows in one statement (the seed-scale path), and a move between organisations.
    users = await User.bulk_create(
        [User(email=f"bulk{i}@globex.example.com", status=UserStatus.ACTIVE) for i in range(7)]
    )
    users = await User.filter(email__startswith="bulk").order_by("id")
    await Membership.bulk_create(
        [
            Membership(
                organisation_id=tree.globex.id,
                user_id=user.id,
                role=Role.MEMBER,
                status=MembershipStatus.ACTIVE,
                ticket_access=DEFAULT_TICKET_ACCESS[Role.MEMBER],
            )
            for user in users
        ]
    )
    await Membership.filter(user_id=users[0].id).update(organisation_id=tree.acme.id)
    await Membership.filter(user_id=users[1].id).update(role=Role.VIEWER)  # not a move
    await assert_counts_true()

    # A transaction rolled back leaves the counts as they were.
    before = (await Organisation.get(id=tree.globex.id)).member_count
    try:
        async with in_transaction():
            await Membership.filter(organisation_id=tree.globex.id).delete()
            assert (await Organisation.get(id=tree.globex.id)).member_count == 0
            await assert_counts_true()
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert (await Organisation.get(id=tree.globex.id)).member_count == before
    await assert_counts_true()


async def test_unfiltered_totals_come_from_the_counters_within_the_viewers_reach(
    tree, sign_in, http
):
    reseller = gid("Organisation", tree.reseller.id)
    admin = await sign_in(tree["reseller.admin"].email)
    everyone = await Membership.filter(
        organisation_id__in=[tree.reseller.id, tree.acme.id, tree.globex.id]
    ).count()
    listed = (await admin.data(MEMBERS, {"org": reseller, "descendants": True}))["members"]
    assert listed == {"totalCount": everyone, "totalCountIsExact": True}
    own = (await admin.data(MEMBERS, {"org": reseller, "descendants": False}))["members"]
    assert own["totalCount"] == 3
    # The admin may list the whole subtree: its total is the reseller's subtree
    # counter, read as it is (a counter set off by 1,000 shows).
    await Organisation.filter(id=tree.reseller.id).update(subtree_member_count=everyone + 1000)
    off = (await admin.data(MEMBERS, {"org": reseller, "descendants": True}))["members"]
    assert off["totalCount"] == everyone + 1000
    await Organisation.filter(id=tree.reseller.id).update(subtree_member_count=everyone)

    # A token that may list the reseller's own people only: its customers do not count.
    created = await create_token(admin, tree.reseller.id, ["MEMBERS_VIEW"])
    token = GraphQLClient(http, created["secret"])
    reach = (await token.data(MEMBERS, {"org": reseller, "descendants": True}))["members"]
    rows = await token.data(
        """query($org: ID!) { members(organisationId: $org, includeDescendants: true, first: 100) {
        nodes { organisation { name } } } }""",
        {"org": reseller},
    )
    assert reach["totalCount"] == len(rows["members"]["nodes"])

    # A filter counts the rows themselves.
    await Membership.filter(id=tree["acme.member"].membership.id).update(
        status=MembershipStatus.DISABLED
    )
    disabled = await admin.data(
        MEMBERS, {"org": reseller, "descendants": True, "status": "DISABLED"}
    )
    assert disabled["members"] == {"totalCount": 1, "totalCountIsExact": True}


async def test_a_search_counts_up_to_the_limit_and_says_when_there_are_more(tree, sign_in):
    many = SEARCH_COUNT_LIMIT + 5
    await User.bulk_create(
        [
            User(email=f"crowd{i}@acme.example.com", first_name="Crowd", status=UserStatus.ACTIVE)
            for i in range(many)
        ]
    )
    users = await User.filter(email__startswith="crowd").values_list("id", flat=True)
    await Membership.bulk_create(
        [
            Membership(
                organisation_id=tree.acme.id,
                user_id=user_id,
                role=Role.MEMBER,
                status=MembershipStatus.ACTIVE,
                ticket_access=DEFAULT_TICKET_ACCESS[Role.MEMBER],
            )
            for user_id in users
        ]
    )
    admin = await sign_in(tree["acme.admin"].email)
    acme = gid("Organisation", tree.acme.id)
    crowd = await admin.data(MEMBERS, {"org": acme, "descendants": False, "search": "crowd"})
    assert crowd["members"] == {"totalCount": SEARCH_COUNT_LIMIT, "totalCountIsExact": False}
    narrow = await admin.data(MEMBERS, {"org": acme, "descendants": False, "search": "crowd1"})
    # crowd1, crowd10…19, crowd100…199, crowd1000…
    expected = sum(1 for i in range(many) if str(i).startswith("1"))
    assert narrow["members"] == {"totalCount": expected, "totalCountIsExact": True}
    everyone = await admin.data(MEMBERS, {"org": acme, "descendants": False})
    assert everyone["members"] == {"totalCount": many + 3, "totalCountIsExact": True}


# Rows written before 0015, then migrated: the counters start right, and search finds them.
SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from tortoise import Tortoise, connections
    from tortoise.migrations.api.migrate import migrate
    from server import db
    from server.accounts.models import Membership
    from server.core.search import search_words
    from server.members.search import search_members
    from server.members.service import members_below, members_by_own_path_below
    from server.tenancy.models import Organisation
    from tests.helpers.old_rows import insert_row

    async def main(url):
        await migrate(config=db.tortoise_config(url), target="models.0012_search")
        await Tortoise.close_connections()
        await db.init_db(url)
        try:
            orgs = [await insert_row("organisation", name=f"Org {i}", path="/", kind="CUSTOMER",
                                     status="ACTIVE") for i in range(3)]
            # A chain: Org 0 above Org 1 above Org 2.
            for depth, org in enumerate(orgs):
                path = "/" + "/".join(str(o) for o in orgs[: depth + 1]) + "/"
                await connections.get("default").execute_script(
                    f"UPDATE organisation SET path = '{path}' WHERE id = {org}")
            for i in range(5):
                user = await insert_row("user", email=f"p{i}@example.com", status="ACTIVE")
                for org in orgs[: i % 3 + 1]:
                    await insert_row("membership", organisation_id=org, user_id=user,
                                     role="MEMBER", status="ACTIVE", ticket_access="OWN")
        finally:
            await Tortoise.close_connections()
        await db.migrate(url)
        await Tortoise.close_connections()
        await db.init_db(url)
        try:
            print(sorted((o.name, o.member_count, o.subtree_member_count)
                         for o in await Organisation.all()))
            # ...and the members search (0016 on PostgreSQL) finds the rows there were.
            for search in ("p4@", "p4 org 1", "p2@ 2", "nobody"):
                found = search_members(Membership.all(), search_words(search))
                print(search, await found.count())
            # ...and the memberships below Org 0 (0020 on PostgreSQL: each row's own path).
            top = await Organisation.get(name="Org 0")
            below = members_by_own_path_below if db.is_postgres(url) else members_below
            print("below", await below(top).count())
        finally:
            await db.close_db()

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_the_migration_counts_existing_members(database):
    if db.is_postgres(DATABASE_URL):
        import asyncpg

        name = "frontdesk_count_migration"
        base = DATABASE_URL.rsplit("/", 1)[0]
        admin = await asyncpg.connect(base.replace("postgres://", "postgresql://") + "/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = f"{base}/{name}"
    else:
        url = f"sqlite://{tempfile.mkdtemp(prefix='frontdesk-counts-')}/old.sqlite3"
    env = {**os.environ, "FRONTDESK_DATABASE_URL": url}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SCRIPT, url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    # Five people: in the first organisation all, the second 3, the third 1; each
    # organisation's subtree counts those below it too.
    assert done.stdout.strip().splitlines()[-6:] == [
        "[('Org 0', 5, 9), ('Org 1', 3, 4), ('Org 2', 1, 1)]",
        "p4@ 2",
        "p4 org 1 1",
        "p2@ 2 1",
        "nobody 0",
        "below 9",
    ]
