"""The one place that answers "may they?": for every principal kind
(core/principals.py), "may this actor do P on this object?" and "which rows
of this kind may they see?".

An actor is a principal acting with a person's usable memberships. Rights
come from roles (core/permissions.py), from delegated administration (a
CUSTOMERS_MANAGE membership administers every descendant) and viewing (a
VIEWER views every descendant read-only), and from feature
grants (ticket access, `canImpersonate`, `restrictRecordingDeletion`); the
principal then narrows them to its reach and ceiling, and keeps what
belongs to the person (`personal`) to people. Nothing else in the code
reads roles, ranks, memberships or subtrees to decide a permission: domains
ask the methods below, and object kinds declare their view rule
(core/visibility.py), which asks them too.

The user comes with the session (one query). The memberships (two more) are
loaded once per request, before execution, unless the operation asks only
who is signed in (core/pipeline.py); after that every check is synchronous.
Using them before they are loaded is a programming error and raises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Q

from server.core.permissions import (
    DELEGATED_PERMISSIONS,
    DELEGATED_RANK,
    DELEGATED_VIEW_PERMISSIONS,
    ROLE_PERMISSIONS,
    VIEWING_ROLES,
    Permission,
    Role,
    TicketAccess,
)
from server.core.principals import Principal, PrincipalKind
from server.core.subtree import subtree

if TYPE_CHECKING:
    from server.accounts.models import Membership, User
    from server.api_tokens.models import ApiToken
    from server.auth.models import Session
    from server.scim.models import ScimToken
    from server.tenancy.models import Organisation


class Decision(Enum):
    ALLOWED = "allowed"
    # The actor sees the object but may not do this: FORBIDDEN.
    FORBIDDEN = "forbidden"
    # Out of reach: answered exactly like a missing object.
    HIDDEN = "hidden"


@dataclass(frozen=True)
class RequestMeta:
    client_ip: str = ""
    request_id: str = ""
    user_agent: str = ""


# (usable memberships, memberships waiting for a second factor)
MembershipsLoader = Callable[[], Awaitable[tuple[list["Membership"], list["Membership"]]]]

_NOTHING = -1  # an id no row has: "no rows" as a filter


def _where(lookup: str, value: Any) -> Q:
    """`Q(lookup=value)` for a lookup built from a column name (a value typed
    Any: mypy would otherwise match the keywords against Q's `join_type`)."""
    return Q(**{lookup: value})


def _ids(ids: Iterable[int], column: str) -> Q:
    ids = list(ids)
    return _where(f"{column}__in", ids) if ids else _where(column, _NOTHING)


class _Access:
    """The loaded memberships, narrowed to the principal's reach, and the indexes every check uses."""

    def __init__(self, usable: list[Membership], waiting: list[Membership]) -> None:
        self.memberships = usable
        self.awaiting_two_factor = waiting
        self.by_org = {m.organisation_id: m for m in usable}
        # Organisations whose whole subtree this actor administers.
        self.delegating = [
            m for m in usable if Permission.CUSTOMERS_MANAGE in ROLE_PERMISSIONS[m.role]
        ]
        # Organisations whose whole subtree this actor views read-only.
        self.viewing = [m for m in usable if m.role in VIEWING_ROLES]


@dataclass(eq=False)
class Actor:
    """`user` is the person whose memberships are used: the one signed in, the
    member an administrator acts as, or the creator of an API token."""

    user: User
    principal: Principal
    load: MembershipsLoader = field(repr=False)
    meta: RequestMeta = field(default_factory=RequestMeta)
    _access: _Access | None = field(default=None, init=False, repr=False)

    async def load_memberships(self) -> Actor:
        if self._access is None:
            self._access = _Access(*await self.load())
        return self

    @property
    def _loaded(self) -> _Access:
        if self._access is None:
            raise RuntimeError("the actor's memberships were used before load_memberships()")
        return self._access

    # --- who ----------------------------------------------------------------------

    @property
    def kind(self) -> PrincipalKind:
        return self.principal.kind

    @property
    def session(self) -> Session | None:
        return getattr(self.principal, "session", None)

    @property
    def impersonator(self) -> User | None:
        """The administrator acting as `user` in an impersonation session."""
        return getattr(self.principal, "impersonator", None)

    @property
    def api_token(self) -> ApiToken | None:
        return getattr(self.principal, "token", None)

    @property
    def scim_token(self) -> ScimToken | None:
        return getattr(self.principal, "scim_token", None)

    @property
    def impersonating(self) -> bool:
        return self.kind is PrincipalKind.IMPERSONATION

    @property
    def personal(self) -> bool:
        """May use what belongs to the person: profile, sessions, own memberships, tickets, phone."""
        return self.principal.personal

    @property
    def label(self) -> str:
        """How the audit trail names this actor."""
        return self.principal.label(self.user)

    def admits(self, kinds: frozenset[PrincipalKind]) -> bool:
        return self.kind in kinds

    def authenticated_within(self, seconds: int) -> bool:
        return self.principal.authenticated_within(seconds)

    # --- memberships --------------------------------------------------------------

    @property
    def memberships(self) -> list[Membership]:
        """Active memberships in organisations that are neither suspended nor below a
        suspended one (an impersonation's: within its reach)."""
        return self._loaded.memberships

    @property
    def awaiting_two_factor(self) -> list[Membership]:
        """Memberships waiting for a second factor their organisation requires."""
        return self._loaded.awaiting_two_factor

    @property
    def reachable_memberships(self) -> list[Membership]:
        """The usable memberships whose organisation the principal reaches (an API
        token acts through those within its subtree alone)."""
        return [m for m in self.memberships if self.reaches(m.organisation)]

    # --- organisations ------------------------------------------------------------

    def reaches(self, organisation: Organisation) -> bool:
        """Whether the principal reaches `organisation` at all (an impersonation
        and an API token are confined to a subtree; a person's session is not)."""
        reach = self.principal.reach
        return reach is None or organisation.is_within(reach)

    @staticmethod
    def _below_any(organisation: Organisation, memberships: list[Membership]) -> bool:
        """`organisation` is strictly below the organisation of one of `memberships`."""
        return any(
            organisation.id != m.organisation_id and organisation.is_within(m.organisation.path)
            for m in memberships
        )

    def _governs_from_above(self, organisation: Organisation) -> bool:
        return self._below_any(organisation, self._loaded.delegating)

    def governs_from_above(self, organisation: Organisation) -> bool:
        """An ancestor's membership delegates administration of `organisation`
        (what suspending it needs: an organisation never suspends itself)."""
        return self.reaches(organisation) and self._governs_from_above(organisation)

    def _views_from_above(self, organisation: Organisation) -> bool:
        return self._below_any(organisation, self._loaded.viewing)

    def can_see(self, organisation: Organisation) -> bool:
        if not self.reaches(organisation):
            return False
        return (
            organisation.id in self._loaded.by_org
            or self._governs_from_above(organisation)
            or self._views_from_above(organisation)
        )

    def permissions_in(self, organisation: Organisation) -> frozenset[Permission]:
        if not self.reaches(organisation):
            return frozenset()
        granted: frozenset[Permission] = frozenset()
        own = self._loaded.by_org.get(organisation.id)
        if own is not None:
            granted = ROLE_PERMISSIONS[own.role]
        if self._governs_from_above(organisation):
            granted = granted | DELEGATED_PERMISSIONS
        elif self._views_from_above(organisation):
            granted = granted | DELEGATED_VIEW_PERMISSIONS
        if (
            Permission.MEMBERS_IMPERSONATE in granted
            and self.impersonation_grant(organisation) is None
        ):
            granted = granted - {Permission.MEMBERS_IMPERSONATE}
        ceiling = self.principal.ceiling
        return granted if ceiling is None else granted & ceiling

    def can(self, permission: Permission, organisation: Organisation) -> bool:
        return permission in self.permissions_in(organisation)

    def decide(self, permission: Permission, organisation: Organisation) -> Decision:
        """What a field guarded by `permission` answers for `organisation`."""
        if not self.can_see(organisation):
            return Decision.HIDDEN
        return Decision.ALLOWED if self.can(permission, organisation) else Decision.FORBIDDEN

    def _rank_in(self, organisation: Organisation) -> int:
        """The role rank there; delegated administrators rank as owners."""
        if not self.reaches(organisation):
            return 0
        if self._governs_from_above(organisation):
            return DELEGATED_RANK
        own = self._loaded.by_org.get(organisation.id)
        return own.role.rank if own is not None else 0

    def within_reach(self, prefix: str = "") -> Q:
        """Filter for the organisations the principal reaches at all."""
        reach = self.principal.reach
        return Q() if reach is None else subtree(reach, prefix)

    def holds_throughout(self, permission: Permission, organisation: Organisation) -> bool:
        """The actor holds `permission` in `organisation` and in every organisation
        below it, through a membership at or above it that passes it down: then
        `organisations_with(permission)` takes in the whole subtree."""
        ceiling = self.principal.ceiling
        if (ceiling is not None and permission not in ceiling) or not self.reaches(organisation):
            return False
        above: list[Membership] = []
        if permission in DELEGATED_PERMISSIONS:
            above += self._loaded.delegating
        if permission in DELEGATED_VIEW_PERMISSIONS:
            above += self._loaded.viewing
        return any(organisation.is_within(m.organisation.path) for m in above)

    def visible_organisations(self, prefix: str = "") -> Q:
        """Filter for every organisation this actor can see (`prefix` for a related field)."""
        query = _ids((m.organisation_id for m in self.memberships), f"{prefix}id")
        for m in (*self._loaded.delegating, *self._loaded.viewing):
            query |= subtree(m.organisation.path, prefix)
        return query & self.within_reach(prefix)

    def organisations_with(self, permission: Permission, prefix: str = "") -> Q:
        """Filter for every organisation where this actor holds `permission`."""
        ceiling = self.principal.ceiling
        if ceiling is not None and permission not in ceiling:
            return _where(f"{prefix}id", _NOTHING)
        held = (m for m in self.memberships if permission in ROLE_PERMISSIONS[m.role])
        query = _ids((m.organisation_id for m in held), f"{prefix}id")
        if permission in DELEGATED_PERMISSIONS:
            for m in self._loaded.delegating:
                query |= subtree(m.organisation.path, prefix)
        if permission in DELEGATED_VIEW_PERMISSIONS:
            for m in self._loaded.viewing:
                query |= subtree(m.organisation.path, prefix)
        return query & self.within_reach(prefix)

    # --- people: roles, grants, impersonation -----------------------------------------

    def may_grant_role(self, role: Role, organisation: Organisation) -> bool:
        """Nobody grants a role above their own."""
        return role.rank <= self._rank_in(organisation)

    def outranked_by(self, membership: Membership, organisation: Organisation) -> bool:
        """The member ranks above the actor (an OWNER for an ADMIN): hands off."""
        return membership.role.rank > self._rank_in(organisation)

    def ranks_above(self, membership: Membership, organisation: Organisation) -> bool:
        """Strictly above: what opening someone's portal needs."""
        return membership.role.rank < self._rank_in(organisation)

    def may_edit_person(self, memberships: list[Membership]) -> bool:
        """A person's profile (names, title, phones, sign-in address) is one for all
        their organisations: an administrator changes it only if they manage members,
        not outranked by the person, in every organisation the person belongs to
        (any status; a delegated administrator above them all qualifies). Otherwise
        the person changes it themselves. `memberships` with their organisations."""
        return bool(memberships) and all(
            self.can(Permission.MEMBERS_MANAGE, m.organisation)
            and not self.outranked_by(m, m.organisation)
            for m in memberships
        )

    def held_grants(self, organisation: Organisation) -> tuple[TicketAccess, bool]:
        """The ticket access and impersonation right the actor holds there, which
        is the most they may give others."""
        if self._rank_in(organisation) == Role.OWNER.rank:
            return TicketAccess.ADMIN, True
        own = self._loaded.by_org.get(organisation.id) if self.reaches(organisation) else None
        if own is None:
            return TicketAccess.NONE, False
        return own.ticket_access, own.can_impersonate

    def impersonation_grant(self, organisation: Organisation) -> Membership | None:
        """The membership that allows opening members' portals in `organisation`:
        an ADMIN or OWNER role with `canImpersonate`, there or in an ancestor."""
        if not self.reaches(organisation):
            return None
        for m in self.memberships:
            if (
                m.can_impersonate
                and m.role.administers
                and organisation.is_within(m.organisation.path)
            ):
                return m
        return None

    def may_view_member(self, membership: Membership, organisation: Organisation) -> bool:
        """One's own memberships (disabled ones too) where this principal reaches, or
        anyone's where the actor may list members."""
        if membership.user_id == self.user.id and self.personal:
            return self.reaches(organisation)
        return self.can(Permission.MEMBERS_VIEW, organisation)

    def may_view_person(self, user: User, memberships: list[Membership]) -> bool:
        """Oneself, or someone with a membership the actor may list. A pending
        invitation counts only for a person it created (no account, no other
        membership: what is known of them is what this organisation typed):
        inviting an existing person's address reveals nothing of them until
        they accept."""
        if user.id == self.user.id and self.personal:
            return True
        created_here = user.status.value == "INVITED" and len(memberships) == 1
        return any(
            (m.status.value != "INVITED" or created_here)
            and self.can(Permission.MEMBERS_VIEW, m.organisation)
            for m in memberships
        )

    # --- tickets ------------------------------------------------------------------

    def ticket_access_in(self, organisation: Organisation) -> TicketAccess:
        """Their own membership's ticket access there, or ACCOUNT through a support
        desk (ACCOUNT or better) above it; OWN only for people."""
        best = TicketAccess.NONE
        own = self._loaded.by_org.get(organisation.id)
        if own is not None and self.can(Permission.TICKETS_USE, organisation):
            best = own.ticket_access
            if best is TicketAccess.OWN and not self.personal:
                best = TicketAccess.NONE
        if best.rank < TicketAccess.ACCOUNT.rank:
            for m in self.memberships:
                if (
                    m.organisation_id != organisation.id
                    and m.ticket_access.rank >= TicketAccess.ACCOUNT.rank
                    and organisation.is_within(m.organisation.path)
                    and self.can(Permission.TICKETS_USE, m.organisation)
                    and self.reaches(organisation)
                ):
                    return TicketAccess.ACCOUNT
        return best

    def decide_tickets(self, organisation: Organisation) -> Decision:
        """The ticket desk's guard: some ticket access there (a support desk above
        included); an organisation seen without ticket access is FORBIDDEN."""
        if self.ticket_access_in(organisation) is not TicketAccess.NONE:
            return Decision.ALLOWED
        return Decision.FORBIDDEN if self.can_see(organisation) else Decision.HIDDEN

    def decide_ticket_access_admin(self, organisation: Organisation) -> Decision:
        """UKCloud's "My Calls Admin" level: ADMIN ticket access there (owners and
        delegated administrators hold it) lists the people's names and ticket
        access, to set it, without any members permission."""
        if not self.can_see(organisation):
            return Decision.HIDDEN
        held_tickets, _ = self.held_grants(organisation)
        if held_tickets is TicketAccess.ADMIN and self.can(Permission.TICKETS_USE, organisation):
            return Decision.ALLOWED
        return Decision.FORBIDDEN

    def handles_tickets(self, organisation: Organisation) -> bool:
        """May see and answer every ticket there (ACCOUNT or better)."""
        return self.ticket_access_in(organisation).rank >= TicketAccess.ACCOUNT.rank

    def may_view_ticket(self, reporter_id: int | None, organisation: Organisation) -> bool:
        access = self.ticket_access_in(organisation)
        if access.rank >= TicketAccess.ACCOUNT.rank:
            return True
        return access is TicketAccess.OWN and reporter_id == self.user.id

    def visible_tickets(self) -> Q:
        """Filter for every ticket the actor may see."""
        query = Q(id=_NOTHING)
        for m in self.memberships:
            if not self.can(Permission.TICKETS_USE, m.organisation):
                continue
            if m.ticket_access.rank >= TicketAccess.ACCOUNT.rank:
                query |= subtree(m.organisation.path, "organisation__")
            elif m.ticket_access is TicketAccess.OWN and self.personal:
                query |= Q(organisation_id=m.organisation_id, reporter_id=self.user.id)
        return query & self.within_reach("organisation__")

    # --- one's own phone extension ---------------------------------------------------

    def own_membership_ids(self) -> list[int]:
        """The person's memberships that may use their own extension (people only)."""
        if not self.personal:
            return []
        return [
            m.id for m in self.memberships if self.can(Permission.OWN_EXTENSION, m.organisation)
        ]

    def owns(self, membership_id: int | None) -> bool:
        return membership_id is not None and membership_id in self.own_membership_ids()

    def own_rows(self) -> Q:
        """Filter for rows assigned to one of the actor's own memberships (extensions, calls)."""
        return _ids(self.own_membership_ids(), "membership_id")

    def may_use(
        self, permission: Permission, organisation: Organisation, owner_membership_id: int | None
    ) -> bool:
        """`permission` there, or the row is the actor's own (their extension, their calls)."""
        return self.can(permission, organisation) or self.owns(owner_membership_id)

    def recording_deletion_restricted(self, organisation: Organisation) -> bool:
        """A membership giving the actor rights there forbids deleting recordings:
        their own membership in the organisation, or a delegating one above it."""
        for m in self.memberships:
            if not m.restrict_recording_deletion:
                continue
            if m.organisation_id == organisation.id:
                return True
            delegates = Permission.CUSTOMERS_MANAGE in ROLE_PERMISSIONS[m.role]
            if delegates and organisation.is_within(m.organisation.path):
                return True
        return False
