"""Create and fill the benchmark database; print what the load needs as JSON.

    python -m bench.setup_data OUT.json      (FRONTDESK_DATABASE_URL set by the caller)

A provider → reseller → customer tree; the customer has an owner (the
benchmark's viewer, with a live session), MEMBERS other members, and
LOGIN_USERS people with a real argon2id password for the log-in storm.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys

from strawberry.relay import GlobalID

from server import db
from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.auth.sessions import create_session
from server.core.actor import RequestMeta
from server.core.passwords import hash_password
from server.core.permissions import DEFAULT_TICKET_ACCESS, Role
from server.organisations import service as organisations
from server.settings import get_settings
from server.tenancy.models import OrganisationKind

MEMBERS = 150
LOGIN_USERS = 16


async def setup() -> dict[str, object]:
    settings = get_settings()
    await db.migrate(settings.database_url)
    await db.close_db()
    await db.init_db(settings.database_url)
    try:
        password = secrets.token_urlsafe(12)
        password_hash = await hash_password(password)  # production argon2 parameters
        provider = await organisations.create_root("Bench Provider")
        reseller = await organisations.create_child(
            actor=None, parent=provider, name="Bench Reseller", kind=OrganisationKind.RESELLER
        )
        customer = await organisations.create_child(
            actor=None, parent=reseller, name="Bench Customer", kind=OrganisationKind.CUSTOMER
        )
        people = [("bench-owner@bench.example", Role.OWNER)]
        people += [(f"member-{i:03d}@bench.example", Role.MEMBER) for i in range(MEMBERS)]
        people += [(f"login-{i:02d}@bench.example", Role.MEMBER) for i in range(LOGIN_USERS)]
        users = await User.bulk_create(
            [
                User(
                    email=email,
                    first_name=email.split("@")[0].title(),
                    last_name="Bench",
                    status=UserStatus.ACTIVE,
                    password_hash=password_hash,
                )
                for email, _ in people
            ]
        )
        by_email = {u.email: u for u in await User.filter(email__in=[e for e, _ in people])}
        del users
        await Membership.bulk_create(
            [
                Membership(
                    organisation_id=customer.id,
                    user_id=by_email[email].id,
                    role=role,
                    status=MembershipStatus.ACTIVE,
                    ticket_access=DEFAULT_TICKET_ACCESS[role],
                )
                for email, role in people
            ]
        )
        owner = by_email["bench-owner@bench.example"]
        meta = RequestMeta(client_ip="127.0.0.1", user_agent="bench")
        token, _ = await create_session(owner, meta)
        return {
            "viewer_token": token,
            "owner_id": owner.id,
            "owner_email": owner.email,
            "customer_id": str(GlobalID("Organisation", str(customer.id))),
            "customer_pk": customer.id,
            "login_emails": [e for e, _ in people if e.startswith("login-")],
            "password": password,
        }
    finally:
        await db.close_db()


def main() -> None:
    data = asyncio.run(setup())
    with open(sys.argv[1], "w") as handle:
        json.dump(data, handle)


if __name__ == "__main__":
    main()
