"""Who is asking: the signed-in user, their usable memberships, and the
one place that answers "may they do P in organisation X?" and "may they see X?".

Loaded once per request (three queries), then every check is synchronous.
"""

from __future__ import annotations

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


@dataclass
class Actor:
    user: User
    # Active memberships in organisations that are neither suspended nor below a suspended one.
    memberships: list[Membership]
    session: Session | None = None
    meta: RequestMeta = field(default_factory=RequestMeta)
    # Memberships waiting for a second factor their organisation requires.
    awaiting_two_factor: list[Membership] = field(default_factory=list)
    # The administrator acting as `user` in an impersonation session.
    impersonator: User | None = None
    # The API token making the request (the actor is then its creator, narrowed).
    api_token: ApiToken | None = None

    @property
    def impersonating(self) -> bool:
        return self.impersonator is not None

    def reaches(self, organisation: Organisation) -> bool:
        """Whether this session reaches `organisation` at all: an impersonation
        (and an API token) is confined to a subtree; a person's own session is not."""
        if self.impersonating and self.session is not None:
            return organisation.is_within(self.session.impersonation_scope)
        return True

    def __post_init__(self) -> None:
        # Organisations whose whole subtree this actor administers.
        self._delegating = [
            m for m in self.memberships if Permission.CUSTOMERS_MANAGE in ROLE_PERMISSIONS[m.role]
        ]
        self._by_org = {m.organisation_id: m for m in self.memberships}

    def membership_in(self, organisation_id: int) -> Membership | None:
        return self._by_org.get(organisation_id)

    def administers_from_above(self, organisation: Organisation) -> bool:
        """True if a membership in an ancestor delegates administration of `organisation`."""
        return any(
            organisation.id != m.organisation_id and organisation.is_within(m.organisation.path)
            for m in self._delegating
        )

    def can_see(self, organisation: Organisation) -> bool:
        return organisation.id in self._by_org or self.administers_from_above(organisation)

    def permissions_in(self, organisation: Organisation) -> frozenset[Permission]:
        granted: frozenset[Permission] = frozenset()
        own = self._by_org.get(organisation.id)
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
        own = self._by_org.get(organisation.id)
        return own.role.rank if own is not None else 0

    def visible_organisations(self, prefix: str = "") -> Q:
        """Filter for every organisation this actor can see (`prefix` for a related field)."""
        ids = [m.organisation_id for m in self.memberships]
        query = Q(**{f"{prefix}id__in": ids}) if ids else Q(**{f"{prefix}id": -1})
        for m in self._delegating:
            query |= subtree(m.organisation.path, prefix)
        return query

    def organisations_with(self, permission: Permission, prefix: str = "") -> Q:
        """Filter for every organisation where this actor holds `permission`."""
        ids = [
            m.organisation_id for m in self.memberships if permission in ROLE_PERMISSIONS[m.role]
        ]
        query = Q(**{f"{prefix}id__in": ids}) if ids else Q(**{f"{prefix}id": -1})
        if permission in DELEGATED_PERMISSIONS:
            for m in self._delegating:
                query |= subtree(m.organisation.path, prefix)
        return query
