"""Who is asking: the signed-in user, their usable memberships, and the
one place that answers "may they do P in organisation X?" and "may they see X?".

The user comes with the session (one query). The memberships (two more) are
loaded once per request, before execution, unless the operation asks only
who is signed in (core/pipeline.py); after that every check is synchronous.
Using them before they are loaded is a programming error and raises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tortoise.expressions import Q

from server.core.permissions import (
    DELEGATED_PERMISSIONS,
    DELEGATED_RANK,
    ROLE_PERMISSIONS,
    Permission,
)
from server.core.subtree import subtree

if TYPE_CHECKING:
    from server.accounts.models import Membership, User
    from server.api_tokens.models import ApiToken
    from server.auth.models import Session
    from server.organisations.models import Organisation


@dataclass(frozen=True)
class RequestMeta:
    client_ip: str = ""
    request_id: str = ""
    user_agent: str = ""


# (usable memberships, memberships waiting for a second factor)
MembershipsLoader = Callable[[], Awaitable[tuple[list["Membership"], list["Membership"]]]]


class _Access:
    """The loaded memberships and the indexes every check uses."""

    def __init__(self, usable: list[Membership], waiting: list[Membership]) -> None:
        self.memberships = usable
        self.awaiting_two_factor = waiting
        self.by_org = {m.organisation_id: m for m in usable}
        # Organisations whose whole subtree this actor administers.
        self.delegating = [
            m for m in usable if Permission.CUSTOMERS_MANAGE in ROLE_PERMISSIONS[m.role]
        ]


@dataclass(eq=False)
class Actor:
    user: User
    load: MembershipsLoader = field(repr=False)
    session: Session | None = None
    meta: RequestMeta = field(default_factory=RequestMeta)
    # The administrator acting as `user` in an impersonation session.
    impersonator: User | None = None
    # The API token making the request (the actor is then its creator, narrowed).
    api_token: ApiToken | None = None
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

    @property
    def memberships(self) -> list[Membership]:
        """Active memberships in organisations that are neither suspended nor below a suspended one."""
        return self._loaded.memberships

    @property
    def awaiting_two_factor(self) -> list[Membership]:
        """Memberships waiting for a second factor their organisation requires."""
        return self._loaded.awaiting_two_factor

    @property
    def impersonating(self) -> bool:
        return self.impersonator is not None

    def reaches(self, organisation: Organisation) -> bool:
        """Whether this session reaches `organisation` at all: an impersonation
        (and an API token) is confined to a subtree; a person's own session is not."""
        if self.impersonating and self.session is not None:
            return organisation.is_within(self.session.impersonation_scope)
        return True

    def membership_in(self, organisation_id: int) -> Membership | None:
        return self._loaded.by_org.get(organisation_id)

    def administers_from_above(self, organisation: Organisation) -> bool:
        """True if a membership in an ancestor delegates administration of `organisation`."""
        return any(
            organisation.id != m.organisation_id and organisation.is_within(m.organisation.path)
            for m in self._loaded.delegating
        )

    def can_see(self, organisation: Organisation) -> bool:
        return organisation.id in self._loaded.by_org or self.administers_from_above(organisation)

    def permissions_in(self, organisation: Organisation) -> frozenset[Permission]:
        granted: frozenset[Permission] = frozenset()
        own = self._loaded.by_org.get(organisation.id)
        if own is not None:
            granted = ROLE_PERMISSIONS[own.role]
        if self.administers_from_above(organisation):
            granted = granted | DELEGATED_PERMISSIONS
        if Permission.MEMBERS_IMPERSONATE in granted and not self._may_impersonate_in(organisation):
            granted = granted - {Permission.MEMBERS_IMPERSONATE}
        return granted

    def _may_impersonate_in(self, organisation: Organisation) -> bool:
        # The role allows it only with the "canImpersonate" grant, here or above.
        return any(
            m.can_impersonate and organisation.is_within(m.organisation.path)
            for m in self.memberships
        )

    def can(self, permission: Permission, organisation: Organisation) -> bool:
        return permission in self.permissions_in(organisation)

    def rank_in(self, organisation: Organisation) -> int:
        """The actor's role rank there; delegated administrators rank as owners."""
        if self.administers_from_above(organisation):
            return DELEGATED_RANK
        own = self._loaded.by_org.get(organisation.id)
        return own.role.rank if own is not None else 0

    def visible_organisations(self, prefix: str = "") -> Q:
        """Filter for every organisation this actor can see (`prefix` for a related field)."""
        ids = [m.organisation_id for m in self.memberships]
        query = Q(**{f"{prefix}id__in": ids}) if ids else Q(**{f"{prefix}id": -1})
        for m in self._loaded.delegating:
            query |= subtree(m.organisation.path, prefix)
        return query

    def organisations_with(self, permission: Permission, prefix: str = "") -> Q:
        """Filter for every organisation where this actor holds `permission`."""
        ids = [
            m.organisation_id for m in self.memberships if permission in ROLE_PERMISSIONS[m.role]
        ]
        query = Q(**{f"{prefix}id__in": ids}) if ids else Q(**{f"{prefix}id": -1})
        if permission in DELEGATED_PERMISSIONS:
            for m in self._loaded.delegating:
                query |= subtree(m.organisation.path, prefix)
        return query
