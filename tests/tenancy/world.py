"""The worlds of the tenant-isolation property (tests/tenancy/test_isolation.py):
the documented rules written out as plain data, the world as plain data, and a
Hypothesis strategy that draws it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

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
    "SCIM_MANAGE",
    "OIDC_CLIENTS_MANAGE",
    "CONTACTS_VIEW",
    "CONTACTS_MANAGE",
    "TICKETS_USE",
    "EXTENSIONS_VIEW",
    "EXTENSIONS_MANAGE",
    "OWN_EXTENSION",
    "RECORDINGS_DELETE",
    "BRAND_MANAGE",
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
# VIEWERs view every organisation below theirs read-only ("portal access").
VIEWING_ROLES = frozenset({"VIEWER"})
VIEWED_PERMISSIONS = frozenset(
    {"ORGANISATION_VIEW", "MEMBERS_VIEW", "CONTACTS_VIEW", "EXTENSIONS_VIEW"}
)
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
