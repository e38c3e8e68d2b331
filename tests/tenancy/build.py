"""Writing a world to the database, and reading it back for the checks."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from strawberry.relay import GlobalID
from tortoise import Tortoise, connections

from server import db
from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.api_tokens.models import ApiToken
from server.audit import service as audit
from server.audit.models import AuditEvent
from server.auth.models import Passkey, Session
from server.auth.sessions import create_session
from server.contacts.models import Contact
from server.core import clock
from server.core.actor import RequestMeta
from server.core.passwords import hash_password
from server.core.permissions import Role, TicketAccess
from server.core.tokens import hash_token, new_token
from server.invitations.models import Invitation
from server.oidc.models import OidcClient
from server.organisations import service as organisations
from server.scim.models import ScimToken
from server.telephony.models import CallDirection, CallRecord, Extension
from server.tenancy.models import Organisation, OrganisationKind, OrganisationStatus
from server.tickets.models import Ticket, TicketComment, TicketKind
from server.webhooks.events import EVENTS as WEBHOOK_EVENTS
from server.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.helpers.fixtures import PASSWORD, gid
from tests.tenancy.world import World

# --- building the world ---------------------------------------------------------------------

_PASSWORD_HASH: list[str] = []


async def empty_database() -> None:
    """What tests/conftest.py's clean_database does before every test, per example."""
    conn = connections.get("default")
    tables = [model._meta.db_table for model in Tortoise.apps["models"].values()]
    if db.is_postgres(db_url()):
        quoted = ", ".join(f'"{t}"' for t in tables)
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    else:
        await conn.execute_script(
            "PRAGMA foreign_keys = OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + "PRAGMA foreign_keys = ON;"
        )
    clock.reset()


def db_url() -> str:
    return os.environ["FRONTDESK_DATABASE_URL"]


@dataclass
class Built:
    """The world in the database: primary keys by model index, and back."""

    world: World
    orgs: list[Organisation] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    tokens: list[ApiToken] = field(default_factory=list)
    token_secrets: list[str] = field(default_factory=list)
    scim_tokens: list[ScimToken] = field(default_factory=list)  # one per organisation
    oidc_clients: list[OidcClient] = field(default_factory=list)  # one per organisation
    invitations: list[Invitation] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    comments: list[TicketComment] = field(default_factory=list)  # one per ticket
    extensions: list[Extension] = field(default_factory=list)
    calls: list[tuple[int, CallRecord]] = field(default_factory=list)  # (extension, call)
    events: list[AuditEvent] = field(default_factory=list)  # one per organisation
    sessions: list[tuple[int, Session]] = field(default_factory=list)  # (person, session)
    passkeys: list[tuple[int, Passkey]] = field(default_factory=list)  # (person, passkey)
    endpoints: list[WebhookEndpoint] = field(default_factory=list)
    # (endpoint, organisation of the event, delivery)
    deliveries: list[tuple[int, int, WebhookDelivery]] = field(default_factory=list)

    def index(self) -> dict[tuple[str, int], int]:
        """(GraphQL type name, primary key) → model index."""
        found: dict[tuple[str, int], int] = {}
        for name, rows in (
            ("Organisation", self.orgs),
            ("User", self.users),
            ("Membership", self.memberships),
            ("ApiToken", self.tokens),
            ("ScimToken", self.scim_tokens),
            ("OidcClient", self.oidc_clients),
            ("Invitation", self.invitations),
            ("Contact", self.contacts),
            ("Ticket", self.tickets),
            ("TicketComment", self.comments),
            ("Extension", self.extensions),
            ("AuditEvent", self.events),
            ("WebhookEndpoint", self.endpoints),
        ):
            for i, row in enumerate(rows):
                found[(name, row.id)] = i
        for i, (_, call) in enumerate(self.calls):
            found[("CallRecord", call.id)] = i
        for i, (_, session) in enumerate(self.sessions):
            found[("Session", session.id)] = i
        for i, (_, passkey) in enumerate(self.passkeys):
            found[("Passkey", passkey.id)] = i
        for i, (_, _, delivery) in enumerate(self.deliveries):
            found[("WebhookDelivery", delivery.id)] = i
        return found


async def build(world: World) -> Built:
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(await hash_password(PASSWORD))
    now = clock.now()
    built = Built(world)
    for i, spec in enumerate(world.orgs):
        if spec.parent is None:
            org = await organisations.create_root(f"Org {i}")
        else:
            org = await organisations.create_child(
                actor=None,
                parent=built.orgs[spec.parent],
                name=f"Org {i}",
                kind=OrganisationKind(spec.kind),
            )
        changes = {
            "status": OrganisationStatus.SUSPENDED if spec.suspended else OrganisationStatus.ACTIVE,
            "require_two_factor": spec.require_two_factor,
            "require_totp_for_admins": spec.require_totp_for_admins,
        }
        if spec.suspended or spec.require_two_factor or spec.require_totp_for_admins:
            await Organisation.filter(id=org.id).update(**changes)
            org = await Organisation.get(id=org.id)
        built.orgs.append(org)
    for p, active in enumerate(world.people_active):
        built.users.append(
            await User.create(
                email=f"p{p}@example.com",
                first_name=f"Person{p}",
                last_name="Test",
                status=UserStatus.ACTIVE if active else UserStatus.DISABLED,
                password_hash=_PASSWORD_HASH[0],
                last_login_at=now,
            )
        )
    for m in world.memberships:
        built.memberships.append(
            await Membership.create(
                organisation=built.orgs[m.org],
                user=built.users[m.person],
                role=Role(m.role),
                status=MembershipStatus(m.status),
                ticket_access=TicketAccess(m.ticket_access),
                can_impersonate=m.can_impersonate,
            )
        )
    for t in world.tokens:
        raw, digest = new_token("fdt_")
        expires = now + timedelta(days=30) if t.state != "expired" else now - timedelta(days=1)
        built.tokens.append(
            await ApiToken.create(
                organisation=built.orgs[t.org],
                name="integration",
                token_hash=digest,
                hint=raw[:10],
                permissions=sorted(t.permissions),
                created_by=built.users[t.creator],
                created_at=now - timedelta(days=40),
                expires_at=expires,
                revoked_at=now if t.state == "revoked" else None,
            )
        )
        built.token_secrets.append(raw)
    for organisation in built.orgs:
        raw, digest = new_token("fdscim_")
        built.scim_tokens.append(
            await ScimToken.create(
                organisation=organisation,
                name="identity provider",
                token_hash=digest,
                hint=raw[:13],
                created_at=now - timedelta(days=40),
                expires_at=now + timedelta(days=30),
            )
        )
    for k, organisation in enumerate(built.orgs):
        built.oidc_clients.append(
            await OidcClient.create(
                organisation=organisation,
                name="wiki",
                client_id=f"fdc_world{k}",
                secret_hash=hash_token(new_token("fdcs_")[0]),
                redirect_uris=["https://rp.example.net/cb"],
                created_at=now - timedelta(days=40),
                updated_at=now - timedelta(days=40),
            )
        )
    for k, (org, inviter) in enumerate(world.invitations):
        built.invitations.append(
            await Invitation.create(
                organisation=built.orgs[org],
                email=f"invitee{k}@example.com",
                token_hash=hash_token(new_token("fdi_")[0]),
                invited_by=built.users[inviter],
                expires_at=now + timedelta(days=7),
            )
        )
    for k, org in enumerate(world.contacts):
        built.contacts.append(
            await Contact.create(
                organisation=built.orgs[org], first_name=f"Contact{k}", email=f"c{k}@example.com"
            )
        )
    numbers: dict[int, int] = {}
    for k, t in enumerate(world.tickets):
        numbers[t.org] = numbers.get(t.org, 0) + 1
        ticket = await Ticket.create(
            organisation=built.orgs[t.org],
            number=numbers[t.org],
            kind=TicketKind.INCIDENT,
            subject=f"Ticket {k}",
            reporter=built.users[t.reporter] if t.reporter is not None else None,
            created_at=now,
            updated_at=now,
        )
        built.tickets.append(ticket)
        built.comments.append(
            await TicketComment.create(
                organisation=built.orgs[t.org],
                ticket=ticket,
                author=built.users[t.reporter] if t.reporter is not None else None,
                body="It is broken.",
                created_at=now,
            )
        )
    for k, e in enumerate(world.extensions):
        member = built.memberships[e.membership] if e.membership is not None else None
        extension = await Extension.create(
            organisation=built.orgs[e.org], number=f"{100 + k}", label=f"Ext {k}", membership=member
        )
        built.extensions.append(extension)
        if e.with_call:
            call = await CallRecord.create(
                organisation=built.orgs[e.org],
                extension=extension,
                membership=member,
                started_at=now,
                direction=CallDirection.INBOUND,
                remote_number="+441234567890",
                duration_seconds=30,
            )
            built.calls.append((k, call))
    for o in world.webhooks:
        built.endpoints.append(
            await WebhookEndpoint.create(
                organisation=built.orgs[o],
                url=f"https://hooks.example.com/org{o}",
                events=list(WEBHOOK_EVENTS),
                secret="not used",
                created_at=now,
            )
        )
    # One audited change per organisation, through the audit service: it also queues the
    # webhook deliveries (to endpoints of the organisation and of its ancestors).
    for i, org in enumerate(built.orgs):
        built.events.append(
            await audit.record(
                "organisation.updated", organisation_id=org.id, target=org, target_label=f"Org {i}"
            )
        )
    endpoint_of = {e.id: k for k, e in enumerate(built.endpoints)}
    org_of = {org.id: o for o, org in enumerate(built.orgs)}
    for delivery in await WebhookDelivery.all().order_by("id"):
        about = GlobalID.from_id(orjson.loads(delivery.payload)["organisation"]["id"])
        built.deliveries.append(
            (endpoint_of[delivery.endpoint_id], org_of[int(about.node_id)], delivery)
        )
    for person in world.other_sessions:
        _, session = await create_session(built.users[person], RequestMeta())
        built.sessions.append((person, session))
        # ...and a passkey (only its person may rename or remove it).
        passkey = await Passkey.create(
            user=built.users[person],
            credential_id=f"credential-{person}",
            public_key="pQECAyYgASFYIA",
            name=f"Passkey of {person}",
            created_at=clock.now(),
        )
        built.passkeys.append((person, passkey))
    return built


async def impersonation_session(built: Built) -> str:
    """A live impersonation session for the world's caller (as the service makes one)."""
    c = built.world.caller
    raw, session = await create_session(built.users[c.person], RequestMeta())
    session.impersonator_id = built.users[c.impersonator].id
    session.impersonation_reason = "property test"
    session.impersonation_scope = built.orgs[c.scope].path
    session.impersonation_organisation_id = built.orgs[c.scope].id
    session.expires_at = clock.now() + timedelta(minutes=30)
    await session.save()
    return raw


# Columns that reads legitimately touch.
VOLATILE = {"last_seen_at", "last_used_at"}


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (a breach would change one)."""
    result = {}
    for model in Tortoise.apps["models"].values():
        rows = await model.all().order_by("id").values()
        result[model._meta.db_table] = [
            {k: v for k, v in row.items() if k not in VOLATILE} for row in rows
        ]
    return result


def decode(value: str) -> tuple[str, int] | None:
    try:
        global_id = GlobalID.from_id(value)
        return global_id.type_name, int(global_id.node_id)
    except ValueError:
        return None


def org_gid(built: Built, org: int) -> str:
    return gid("Organisation", built.orgs[org].id)


def pick(sampler: random.Random | None, items: list[Any], k: int) -> list[Any]:
    if sampler is None or len(items) <= k:
        return items
    return sampler.sample(items, k)
