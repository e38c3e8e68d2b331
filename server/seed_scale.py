"""`frontdesk seed-scale`: a large tree for load and scale tests.

A provider, `resellers` resellers and customers spread evenly below them
(10,000 organisations in all by default), and 100,000 people spread evenly
over the organisations, each with one membership: the first of each
organisation its owner, the second an admin, every 17th an invitation still
pending, every 29th disabled, every 7th with emailed two-factor codes. Names
come from short lists, so a search such as "sofia" finds about one person in
40. Every active person gets one generated password (hashed once).

Rows go in through `server/bulk.py` (COPY on PostgreSQL, one prepared INSERT
with executemany on SQLite) inside one transaction, with their ids chosen up
front (the organisation paths need them); PostgreSQL's id sequences are moved
past them afterwards, and both databases' planner statistics refreshed
(ANALYZE). A million people and 100,000 organisations take about
BENCHMARKS.md's "seed-scale" figure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tortoise import connections
from tortoise.transactions import in_transaction

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.bulk import BulkTable
from server.core import clock
from server.core.passwords import hash_password
from server.core.permissions import DEFAULT_TICKET_ACCESS, Role
from server.db import is_postgres
from server.settings import get_settings
from server.tenancy.models import Organisation, OrganisationKind

SCALE_PROVIDER = "Scale Provider"

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Anna",
    "Ben",
    "Carla",
    "Chen",
    "David",
    "Elena",
    "Emil",
    "Eva",
    "Farid",
    "Grace",
    "Hana",
    "Ivan",
    "Jana",
    "Jonas",
    "Karim",
    "Lea",
    "Liam",
    "Lina",
    "Marco",
    "Maria",
    "Mei",
    "Nadia",
    "Noah",
    "Omar",
    "Paula",
    "Priya",
    "Rosa",
    "Sam",
    "Sara",
    "Sofia",
    "Tariq",
    "Theo",
    "Uma",
    "Vera",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Abbott",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Meyer",
    "Nakamura",
    "Novak",
    "Olsen",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zimmermann",
    "Brandt",
    "Castillo",
    "Daly",
    "Engel",
    "Ferreira",
    "Gomez",
    "Horvat",
    "Ivanova",
    "Jovanovic",
    "Keller",
    "Larsen",
    "Moreau",
]


@dataclass
class ScaleSummary:
    organisations: int
    users: int
    provider: str
    reseller: str
    reseller_owner: str
    provider_owner: str
    password: str
    seconds: float


async def _next_id(table: str) -> int:
    rows = await connections.get("default").execute_query_dict(
        f'SELECT COALESCE(MAX("id"), 0) AS top FROM "{table}"'  # noqa: S608 - fixed table names
    )
    return int(rows[0]["top"]) + 1


async def _move_sequences() -> None:
    if not is_postgres(get_settings().database_url):
        return  # SQLite's AUTOINCREMENT follows explicit ids by itself
    conn = connections.get("default")
    for table in ("organisation", "user", "membership"):
        await conn.execute_script(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f'(SELECT MAX("id") FROM "{table}"))'
        )


async def _analyze() -> None:
    """Fresh planner statistics after a bulk load (both databases plan by them).
    PostgreSQL vacuums too: the search indexes' pending entries (GIN keeps new
    rows in a list that every search reads through) are merged, the visibility
    map allows index-only scans, and autovacuum does not start on a million
    fresh rows in the middle of whatever runs next."""
    conn = connections.get("default")
    command = "VACUUM (ANALYZE)" if is_postgres(get_settings().database_url) else "ANALYZE"
    for table in ("organisation", "user", "membership"):
        await conn.execute_script(f'{command} "{table}"')


async def seed_scale(
    password: str,
    *,
    organisations: int = 10_000,
    users: int = 100_000,
    resellers: int = 9,
) -> ScaleSummary:
    """Create the tree (refuses to run twice: the provider's name is taken)."""
    if organisations < resellers + 2 or users < organisations:
        raise SystemExit("seed-scale: need a provider, the resellers, a customer, and a user each.")
    if await Organisation.exists(name=SCALE_PROVIDER, parent_id=None):
        raise SystemExit(f"seed-scale: '{SCALE_PROVIDER}' already exists.")
    started = time.perf_counter()
    now = clock.now()
    password_hash = await hash_password(password)
    async with in_transaction() as conn:
        if is_postgres(get_settings().database_url):
            # The membership triggers run a query per row: let PostgreSQL keep their
            # plans (the server's connections plan every statement afresh, server/db.py).
            await conn.execute_script("SET LOCAL plan_cache_mode = auto")
        org_id = await _next_id("organisation")
        user_id = await _next_id("user")
        membership_id = await _next_id("membership")
        provider_path = f"/{org_id}/"
        reseller_paths = [f"{provider_path}{org_id + 1 + r}/" for r in range(resellers)]

        # The tree: provider, resellers, then customers spread over the resellers.
        orgs = BulkTable(
            Organisation,
            ["id", "parent_id", "path", "kind", "name", "created_at", "updated_at"],
            kind=OrganisationKind.CUSTOMER,
            name="-",
        )
        tree: list[tuple[int, str]] = [(org_id, provider_path)]
        await orgs.add(
            org_id, None, provider_path, OrganisationKind.PROVIDER, SCALE_PROVIDER, now, now
        )
        for r, path in enumerate(reseller_paths):
            i = org_id + 1 + r
            tree.append((i, path))
            await orgs.add(
                i, org_id, path, OrganisationKind.RESELLER, f"Scale Reseller {r + 1}", now, now
            )
        for c in range(organisations - 1 - resellers):
            i = org_id + 1 + resellers + c
            parent = c % resellers
            path = f"{reseller_paths[parent]}{i}/"
            tree.append((i, path))
            name = f"Customer {c + 1} of Reseller {parent + 1}"
            await orgs.add(i, org_id + 1 + parent, path, OrganisationKind.CUSTOMER, name, now, now)
        await orgs.flush()

        # People: `users` spread evenly, the first ones of each organisation owner and admin.
        people = BulkTable(
            User,
            ["id", "email", "first_name", "last_name", "status", "password_hash",
             "email_two_factor", "last_login_at", "created_at", "updated_at"],
            email="-",
        )  # fmt: skip
        memberships = BulkTable(
            Membership,
            ["id", "organisation_id", "user_id", "role", "status", "ticket_access",
             "created_at", "updated_at"],
            organisation_id=org_id,
            user_id=user_id,
            role=Role.MEMBER,
        )  # fmt: skip
        per_org, extra = divmod(users, organisations)
        n = 0
        for index, (organisation_id, _) in enumerate(tree):
            for seat in range(per_org + (1 if index < extra else 0)):
                uid = user_id + n
                first = FIRST_NAMES[n % len(FIRST_NAMES)]
                last = LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
                role = Role.OWNER if seat == 0 else Role.ADMIN if seat == 1 else Role.MEMBER
                invited = seat > 1 and n % 17 == 0
                status = (
                    MembershipStatus.INVITED
                    if invited
                    else MembershipStatus.DISABLED
                    if seat > 1 and n % 29 == 0
                    else MembershipStatus.ACTIVE
                )
                email = f"{first}.{last}.{uid}@org{organisation_id}.scale.example".lower()
                await people.add(
                    uid, email, first, last,
                    UserStatus.INVITED if invited else UserStatus.ACTIVE,
                    None if invited else password_hash,
                    n % 7 == 0 and not invited,
                    None if invited else now, now, now,
                )  # fmt: skip
                await memberships.add(
                    membership_id + n, organisation_id, uid, role, status,
                    DEFAULT_TICKET_ACCESS[role], now, now,
                )  # fmt: skip
                n += 1
        await people.flush()
        await memberships.flush()
        await _move_sequences()
    await _analyze()

    provider_id, reseller_id = org_id, org_id + 1
    owners = {
        m.organisation_id: m.user_id
        for m in await Membership.filter(
            organisation_id__in=[provider_id, reseller_id], role=Role.OWNER
        )
    }
    emails = dict(await User.filter(id__in=list(owners.values())).values_list("id", "email"))
    return ScaleSummary(
        organisations=orgs.written,
        users=n,
        provider=SCALE_PROVIDER,
        reseller="Scale Reseller 1",
        reseller_owner=emails[owners[reseller_id]],
        provider_owner=emails[owners[provider_id]],
        password=password,
        seconds=time.perf_counter() - started,
    )
