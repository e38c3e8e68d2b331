"""Random organisation trees for the tenant-isolation property
(tests/api/test_tenancy_properties.py): the world as plain data, a hypothesis
strategy that draws it, a pure-Python model of the scope rules that says what
a caller may see and do, and a builder that writes the world to the database.

The model restates the rules of SECURITY.md ("Tenancy"), the README and the
docstrings of server/core/permissions.py, server/api_tokens/service.py,
server/tickets/access.py and server/telephony/access.py. It never calls the
server's Actor (that would test the code against itself); even the role →
permission table is written out here.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import orjson
from hypothesis import strategies as st
from strawberry.relay import GlobalID
from tortoise import Tortoise, connections

from server import db
from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.api_tokens.models import ApiToken
from server.audit import service as audit
from server.audit.models import AuditEvent
from server.auth.models import Session
from server.auth.sessions import create_session
from server.contacts.models import Contact
from server.core import clock
from server.core.actor import RequestMeta
from server.core.passwords import hash_password
from server.core.permissions import Role, TicketAccess
from server.core.tokens import hash_token, new_token
from server.invitations.models import Invitation
from server.organisations import service as organisations
from server.telephony.models import CallDirection, CallRecord, Extension
from server.tenancy.models import Organisation, OrganisationKind, OrganisationStatus
from server.tickets.models import Ticket, TicketComment, TicketKind
from server.webhooks.events import EVENTS as WEBHOOK_EVENTS
from server.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.helpers.fixtures import PASSWORD, gid

# --- the rules, written out ---------------------------------------------------------------

PERMISSIONS = (
    "ORGANISATION_VIEW",
    "ORGANISATION_MANAGE",
    "MEMBERS_VIEW",
    "MEMBERS_MANAGE",
    "CUSTOMERS_MANAGE",
    "AUDIT_VIEW",
    "BILLING_MANAGE",
    "OWNERSHIP_MANAGE",
    "MEMBERS_IMPERSONATE",
    "API_TOKENS_MANAGE",
    "WEBHOOKS_MANAGE",
    "CONTACTS_VIEW",
    "CONTACTS_MANAGE",
    "TICKETS_USE",
    "EXTENSIONS_VIEW",
    "EXTENSIONS_MANAGE",
    "OWN_EXTENSION",
    "RECORDINGS_DELETE",
)
ALL = frozenset(PERMISSIONS)
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "OWNER": ALL,
    "ADMIN": ALL - {"OWNERSHIP_MANAGE"},
    "MEMBER": frozenset({"ORGANISATION_VIEW", "TICKETS_USE", "OWN_EXTENSION", "RECORDINGS_DELETE"}),
    "VIEWER": frozenset(
        {"ORGANISATION_VIEW", "MEMBERS_VIEW", "CONTACTS_VIEW", "TICKETS_USE", "EXTENSIONS_VIEW"}
    ),
    "SUPPORT_ONLY": frozenset({"TICKETS_USE"}),
}
# Roles holding CUSTOMERS_MANAGE administer every organisation below theirs, with all rights.
DELEGATING_ROLES = frozenset({"OWNER", "ADMIN"})
ROLES = ("OWNER", "ADMIN", "MEMBER", "VIEWER", "SUPPORT_ONLY")
TICKET_ACCESS_RANK = {"NONE": 0, "OWN": 1, "ACCOUNT": 2, "ADMIN": 3}


# Known bugs the model can be told to expect (see Model):
# an API token shows its creator's memberships (and their organisations) beyond its subtree,
TOKEN_OWN_MEMBERSHIPS = "token-own-memberships"
# an impersonation shows the member's memberships beyond the administrator's subtree.
IMPERSONATION_OWN_MEMBERSHIPS = "impersonation-own-memberships"
KNOWN_BUGS = frozenset({TOKEN_OWN_MEMBERSHIPS, IMPERSONATION_OWN_MEMBERSHIPS})


# --- the world ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    parent: int | None
    kind: str
    suspended: bool = False
    require_two_factor: bool = False
    require_totp_for_admins: bool = False


@dataclass(frozen=True)
class MembershipSpec:
    person: int
    org: int
    role: str
    status: str = "ACTIVE"
    ticket_access: str = "NONE"
    can_impersonate: bool = False  # the "canImpersonate" grant


@dataclass(frozen=True)
class TokenSpec:
    org: int
    creator: int
    permissions: frozenset[str]
    state: str = "active"  # active, revoked, expired


@dataclass(frozen=True)
class TicketSpec:
    org: int
    reporter: int | None  # a person


@dataclass(frozen=True)
class ExtensionSpec:
    org: int
    membership: int | None  # index into World.memberships, same organisation
    with_call: bool


@dataclass(frozen=True)
class Caller:
    """Who asks: a person's own session, an API token, or an impersonation
    session (`person` as seen by `impersonator`, reaching only `scope`'s subtree)."""

    kind: str  # person, token, impersonation
    person: int = 0
    token: int = 0
    impersonator: int = 0
    scope: int = 0


@dataclass(frozen=True)
class World:
    orgs: tuple[OrgSpec, ...]
    people_active: tuple[bool, ...]
    memberships: tuple[MembershipSpec, ...]
    tokens: tuple[TokenSpec, ...]
    invitations: tuple[tuple[int, int], ...]  # (organisation, inviting person)
    contacts: tuple[int, ...]
    tickets: tuple[TicketSpec, ...]
    extensions: tuple[ExtensionSpec, ...]
    other_sessions: tuple[int, ...]  # people with a session of their own
    caller: Caller
    # Webhook endpoints (by organisation), subscribed to every event.
    webhooks: tuple[int, ...] = ()
    # Picks which "visible but not permitted" mutations to try (there are too many for all).
    sampler: Any = field(compare=False, repr=False, default=None)

    def describe(self) -> str:
        lines = ["organisations:"]
        for i, o in enumerate(self.orgs):
            flags = [
                name
                for name, on in (
                    ("suspended", o.suspended),
                    ("require_two_factor", o.require_two_factor),
                    ("require_totp_for_admins", o.require_totp_for_admins),
                )
                if on
            ]
            lines.append(f"  org{i} {o.kind} parent=org{o.parent} {' '.join(flags)}".rstrip())
        for p, active in enumerate(self.people_active):
            held = [
                f"org{m.org}:{m.role}/{m.status}/{m.ticket_access}"
                + ("/canImpersonate" if m.can_impersonate else "")
                for m in self.memberships
                if m.person == p
            ]
            lines.append(f"  p{p}{'' if active else ' (DISABLED)'}: {', '.join(held)}")
        for i, t in enumerate(self.tokens):
            lines.append(f"  token{i} org{t.org} by p{t.creator} {t.state} {sorted(t.permissions)}")
        lines.append(f"  caller: {self.caller}")
        return "\n".join(lines)


# Flags that remove rights (suspension, 2FA policies): present, but rarely enough that
# most callers keep something to see.
_rare = st.sampled_from((False,) * 7 + (True,))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n_orgs = draw(st.integers(3, 10))
    orgs = [OrgSpec(None, "PROVIDER")]
    for _ in range(1, n_orgs):
        parents = [i for i, o in enumerate(orgs) if o.kind != "CUSTOMER"]
        parent = draw(st.sampled_from(parents))
        reseller = orgs[parent].kind == "PROVIDER" and draw(st.booleans())
        orgs.append(
            OrgSpec(
                parent,
                "RESELLER" if reseller else "CUSTOMER",
                suspended=draw(_rare),
                require_two_factor=draw(_rare),
                require_totp_for_admins=draw(_rare),
            )
        )
    org_ids = st.integers(0, n_orgs - 1)

    # Person 0 is the caller (people are interchangeable), token 0 the caller's token.
    # Mostly they can act; sometimes (`powerless`) they may not be able to.
    powerless = draw(_rare)
    n_people = draw(st.integers(2, 7))
    people_active = tuple(
        draw(st.sampled_from((True,) * 5 + (False,))) if p or powerless else True
        for p in range(n_people)
    )
    memberships: list[MembershipSpec] = []
    statuses = st.sampled_from(("ACTIVE",) * 4 + ("DISABLED", "INVITED"))
    # The caller's first organisation is often one with organisations below it: that is
    # where delegation, support desks and includeDescendants have something to get wrong.
    upper = sorted(i for i, o in enumerate(orgs) if o.kind != "CUSTOMER")
    for person in range(n_people):
        held = draw(st.lists(org_ids, min_size=1, max_size=3, unique=True))
        if person == 0 and draw(st.booleans()):
            first = draw(st.sampled_from(upper))
            held = [first, *(o for o in held[1:] if o != first)]
        for n, org in enumerate(held):
            memberships.append(
                MembershipSpec(
                    person,
                    org,
                    draw(st.sampled_from(ROLES)),
                    draw(statuses) if person or n or powerless else "ACTIVE",
                    draw(st.sampled_from(tuple(TICKET_ACCESS_RANK))),
                    draw(st.booleans()),
                )
            )
    people = st.integers(0, n_people - 1)

    def below(top: int) -> list[int]:
        """`top` and every organisation under it."""
        return [o for o in range(n_orgs) if top in _chain(orgs, o)]

    def held_by(person: int) -> list[int]:
        return [m.org for m in memberships if m.person == person]

    def near(person: int) -> st.SearchStrategy[int]:
        """Mostly one of the person's organisations, often one below them (where only
        administrators have rights), sometimes any organisation at all."""
        held = sorted(set(held_by(person)))
        if not held or draw(_rare):
            return org_ids
        if draw(st.booleans()):
            return st.sampled_from(sorted({o for top in held for o in below(top)}))
        return st.sampled_from(held)

    kind = draw(st.sampled_from(("person", "token", "impersonation")))
    tokens = []
    states = st.sampled_from(("active",) * 5 + ("revoked", "expired"))
    for t in range(draw(st.integers(1 if kind == "token" else 0, 3))):
        creator = draw(people) if (t and draw(st.booleans())) or draw(_rare) else 0
        tokens.append(
            TokenSpec(
                org=draw(near(creator)),
                creator=creator,
                permissions=draw(st.frozensets(st.sampled_from(PERMISSIONS), min_size=1)),
                state=draw(states) if t or powerless else "active",
            )
        )
    extensions: list[ExtensionSpec] = []
    assigned: set[int] = set()
    for org, assign, with_call in draw(
        st.lists(st.tuples(org_ids, st.booleans(), st.booleans()), max_size=4)
    ):
        candidates = [
            i for i, m in enumerate(memberships) if m.org == org and i not in assigned and assign
        ]
        membership = draw(st.sampled_from(candidates)) if candidates else None
        if membership is not None:
            assigned.add(membership)
        extensions.append(ExtensionSpec(org, membership, with_call))

    caller = Caller(
        kind,
        person=0,
        token=0,
        impersonator=draw(people) if kind == "impersonation" else 0,
        # The administrator's organisation: at or above the caller's first one.
        scope=draw(org_ids if draw(_rare) else st.sampled_from(_chain(orgs, memberships[0].org)))
        if kind == "impersonation"
        else 0,
    )
    return World(
        orgs=tuple(orgs),
        people_active=people_active,
        memberships=tuple(memberships),
        tokens=tuple(tokens),
        invitations=tuple(draw(st.lists(st.tuples(org_ids, people), max_size=3))),
        contacts=tuple(draw(st.lists(org_ids, max_size=3))),
        tickets=tuple(
            draw(
                st.lists(
                    st.builds(TicketSpec, org=org_ids, reporter=st.none() | people), max_size=4
                )
            )
        ),
        extensions=tuple(extensions),
        other_sessions=tuple(draw(st.lists(people, max_size=2, unique=True))),
        caller=caller,
        webhooks=tuple(draw(st.lists(org_ids, max_size=3))),
        sampler=draw(st.randoms(use_true_random=False)),
    )


def _chain(orgs: list[OrgSpec], org: int) -> list[int]:
    result = [org]
    while (parent := orgs[result[-1]].parent) is not None:
        result.append(parent)
    return result


# --- the model ------------------------------------------------------------------------------


class Model:
    """What the caller of `world` may see and do, by the documented rules.

    `tolerate` names known bugs (KNOWN_BUGS) whose behaviour the model then
    expects instead of the rule; each is pinned by a strict xfail test in
    tests/api/test_tenancy_properties.py."""

    def __init__(self, world: World, *, tolerate: frozenset[str] = frozenset()) -> None:
        assert tolerate <= KNOWN_BUGS, tolerate - KNOWN_BUGS
        self.w = world
        self.tolerate = tolerate
        c = world.caller
        self.scope_top: int | None = None  # a token's organisation
        self.granted: frozenset[str] | None = None  # a token's permissions
        if c.kind == "person":
            self.user = c.person
            usable = self.usable(c.person)
            # Log-in needs an active user and a usable membership (before the 2FA policy).
            self.valid = bool(usable)
            self.memberships = [m for m in usable if self.passes_two_factor(m)]
            reach: int | None = None
        elif c.kind == "token":
            token = world.tokens[c.token]
            self.user = token.creator
            self.valid = token.state == "active" and world.people_active[token.creator]
            self.memberships = self.usable(token.creator)
            self.scope_top, self.granted = token.org, token.permissions
            reach = token.org
        else:
            self.user = c.person
            self.valid = world.people_active[c.person] and world.people_active[c.impersonator]
            self.memberships = [
                m
                for m in self.usable(c.person)
                if self.within(world.memberships[m].org, c.scope) and self.passes_two_factor(m)
            ]
            reach = c.scope
        if not self.valid:
            self.memberships = []
        # What belongs to the person (their profile, own memberships, own tickets and
        # extension) is shown to people, never to an API token.
        self.personal = c.kind != "token"
        # The caller's own memberships it may be shown (any status): a person sees all of
        # theirs; an impersonation only those within its subtree; a token none.
        self.own_revealable = {
            i
            for i, m in enumerate(world.memberships)
            if self.valid
            and self.personal
            and m.person == self.user
            and (reach is None or self.tolerates_own(c.kind) or self.within(m.org, reach))
        }

    def tolerates_own(self, kind: str) -> bool:
        bug = {"token": TOKEN_OWN_MEMBERSHIPS, "impersonation": IMPERSONATION_OWN_MEMBERSHIPS}
        return bug.get(kind) in self.tolerate

    # tree
    def chain(self, org: int) -> list[int]:
        """The organisation's ancestors from the root, itself included."""
        result = [org]
        while (parent := self.w.orgs[result[-1]].parent) is not None:
            result.append(parent)
        return result[::-1]

    def within(self, org: int, top: int) -> bool:
        return top in self.chain(org)

    def usable(self, person: int) -> list[int]:
        """Active memberships of an active person in organisations neither suspended nor
        below a suspended one."""
        if not self.w.people_active[person]:
            return []
        return [
            i
            for i, m in enumerate(self.w.memberships)
            if m.person == person
            and m.status == "ACTIVE"
            and not any(self.w.orgs[o].suspended for o in self.chain(m.org))
        ]

    def passes_two_factor(self, membership: int) -> bool:
        """A session without a second factor cannot use organisations requiring one."""
        m = self.w.memberships[membership]
        org = self.w.orgs[m.org]
        return not org.require_two_factor and not (
            org.require_totp_for_admins and m.role in ("OWNER", "ADMIN")
        )

    # scope
    def in_reach(self, org: int) -> bool:
        return self.scope_top is None or self.within(org, self.scope_top)

    def own_membership(self, org: int) -> int | None:
        for i in self.memberships:
            if self.w.memberships[i].org == org:
                return i
        return None

    def delegated(self, org: int) -> bool:
        for i in self.memberships:
            m = self.w.memberships[i]
            if m.role in DELEGATING_ROLES and m.org != org and self.within(org, m.org):
                return True
        return False

    @cached_property
    def visible(self) -> frozenset[int]:
        return frozenset(
            o
            for o in range(len(self.w.orgs))
            if self.valid
            and self.in_reach(o)
            and (self.own_membership(o) is not None or self.delegated(o))
        )

    def perms(self, org: int) -> frozenset[str]:
        if org not in self.visible:
            return frozenset()
        own = self.own_membership(org)
        granted = ROLE_PERMISSIONS[self.w.memberships[own].role] if own is not None else frozenset()
        if self.delegated(org):
            granted = ALL
        # Impersonating needs the "canImpersonate" grant on a membership here or above.
        if not any(
            self.w.memberships[i].can_impersonate and self.within(org, self.w.memberships[i].org)
            for i in self.memberships
        ):
            granted = granted - {"MEMBERS_IMPERSONATE"}
        if self.granted is not None:
            granted = granted & self.granted
        return granted

    def can(self, permission: str, org: int) -> bool:
        return permission in self.perms(org)

    def ticket_access(self, org: int) -> int:
        """The rank of the caller's ticket access there: their own membership's, or
        ACCOUNT through a membership above with ACCOUNT or ADMIN (a support desk)."""
        best = 0
        own = self.own_membership(org)
        if own is not None and self.can("TICKETS_USE", org):
            best = TICKET_ACCESS_RANK[self.w.memberships[own].ticket_access]
            if best == TICKET_ACCESS_RANK["OWN"] and not self.personal:
                best = 0  # "my tickets" are the person's, not a token's
        if best < TICKET_ACCESS_RANK["ACCOUNT"]:
            for i in self.memberships:
                m = self.w.memberships[i]
                if (
                    m.org != org
                    and self.within(org, m.org)
                    and self.can("TICKETS_USE", m.org)
                    and TICKET_ACCESS_RANK[m.ticket_access] >= TICKET_ACCESS_RANK["ACCOUNT"]
                ):
                    return TICKET_ACCESS_RANK["ACCOUNT"]
        return best

    @cached_property
    def desk_orgs(self) -> frozenset[int]:
        return frozenset(o for o in range(len(self.w.orgs)) if self.ticket_access(o) > 0)

    def ticket_visible(self, ticket: int) -> bool:
        t = self.w.tickets[ticket]
        access = self.ticket_access(t.org)
        return access >= TICKET_ACCESS_RANK["ACCOUNT"] or (
            access == TICKET_ACCESS_RANK["OWN"] and self.personal and t.reporter == self.user
        )

    def owns_membership(self, membership: int | None) -> bool:
        """A membership of the caller's that may use its own extension."""
        return (
            membership is not None
            and self.personal
            and membership in self.memberships
            and self.can("OWN_EXTENSION", self.w.memberships[membership].org)
        )

    # what node(id:) answers
    def membership_visible(self, membership: int) -> bool:
        return membership in self.own_revealable or self.can(
            "MEMBERS_VIEW", self.w.memberships[membership].org
        )

    def user_visible(self, person: int) -> bool:
        """Oneself (people only), or someone with a membership the caller may list; a
        pending invitation of someone with an account reveals nothing of them."""
        return (self.valid and self.personal and person == self.user) or any(
            m.person == person and m.status != "INVITED" and self.can("MEMBERS_VIEW", m.org)
            for m in self.w.memberships
        )

    def viewer_memberships(self) -> set[int]:
        if self.w.caller.kind == "token" and TOKEN_OWN_MEMBERSHIPS in self.tolerate:
            return set(self.usable(self.user)) if self.valid else set()
        return {m for m in self.memberships if self.in_reach(self.w.memberships[m].org)}

    def awaiting_two_factor(self) -> set[int]:
        c = self.w.caller
        if not self.valid or c.kind == "token":
            return set()
        usable = self.usable(c.person)
        if c.kind == "impersonation":
            usable = [m for m in usable if self.within(self.w.memberships[m].org, c.scope)]
        return {m for m in usable if not self.passes_two_factor(m)}


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
    invitations: list[Invitation] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    comments: list[TicketComment] = field(default_factory=list)  # one per ticket
    extensions: list[Extension] = field(default_factory=list)
    calls: list[tuple[int, CallRecord]] = field(default_factory=list)  # (extension, call)
    events: list[AuditEvent] = field(default_factory=list)  # one per organisation
    sessions: list[tuple[int, Session]] = field(default_factory=list)  # (person, session)
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
