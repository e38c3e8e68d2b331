"""A pure-Python model of the scope rules: what a world's caller may see and do.

It restates the rules of SECURITY.md ("Tenancy"), the README ("Who may do
what") and the docstrings of server/core/permissions.py, server/core/principals.py
and server/core/actor.py. It never calls the server's Actor (that would test
the code against itself); even the role → permission table is written out
(tests/tenancy/world.py)."""

from __future__ import annotations

from functools import cached_property

# --- the model ------------------------------------------------------------------------------
from tests.tenancy.world import (
    ALL,
    DELEGATING_ROLES,
    IMPERSONATION_OWN_MEMBERSHIPS,
    KNOWN_BUGS,
    ROLE_PERMISSIONS,
    TICKET_ACCESS_RANK,
    TOKEN_OWN_MEMBERSHIPS,
    VIEWED_PERMISSIONS,
    VIEWING_ROLES,
    World,
)


class Model:
    """What the caller of `world` may see and do, by the documented rules.

    `tolerate` names known bugs (KNOWN_BUGS) whose behaviour the model then
    expects instead of the rule; each is pinned by a strict xfail test in
    tests/tenancy/test_isolation.py."""

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

    def delegated(self, org: int, roles: frozenset[str] = DELEGATING_ROLES) -> bool:
        for i in self.memberships:
            m = self.w.memberships[i]
            if m.role in roles and m.org != org and self.within(org, m.org):
                return True
        return False

    def viewed(self, org: int) -> bool:
        return self.delegated(org, VIEWING_ROLES)

    @cached_property
    def visible(self) -> frozenset[int]:
        return frozenset(
            o
            for o in range(len(self.w.orgs))
            if self.valid
            and self.in_reach(o)
            and (self.own_membership(o) is not None or self.delegated(o) or self.viewed(o))
        )

    def perms(self, org: int) -> frozenset[str]:
        if org not in self.visible:
            return frozenset()
        own = self.own_membership(org)
        granted = ROLE_PERMISSIONS[self.w.memberships[own].role] if own is not None else frozenset()
        if self.delegated(org):
            granted = ALL
        elif self.viewed(org):
            granted = granted | VIEWED_PERMISSIONS
        # Impersonating needs the "canImpersonate" grant on an OWNER or ADMIN membership
        # here or above (a MEMBER holding the flag cannot use it).
        if not any(
            self.w.memberships[i].can_impersonate
            and self.w.memberships[i].role in ("OWNER", "ADMIN")
            and self.within(org, self.w.memberships[i].org)
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

    def ticket_admin(self, org: int) -> bool:
        """UKCloud's My Calls Admin: ADMIN ticket access there, which owners and
        delegated administrators (from above) hold whatever their own grant says."""
        if not self.can("TICKETS_USE", org):
            return False
        if self.delegated(org):
            return True
        own = self.own_membership(org)
        if own is None:
            return False
        m = self.w.memberships[own]
        return m.role == "OWNER" or m.ticket_access == "ADMIN"

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
