"""GraphQL types of people and their memberships."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.core.context import Info
from server.core.loaders import now_or_later
from server.core.lookahead import selected_below
from server.core.nodes import load_visible
from server.core.pagination import Connection
from server.core.permissions import ROLE_PERMISSIONS, Permission, Role, TicketAccess
from server.organisations.types import OrganisationType


async def _may_view_member(info: Info, membership: Membership) -> bool:
    actor = info.context.actor
    if actor is None:
        return False
    organisation = await info.context.loaders.organisation.load(membership.organisation_id)
    if organisation is None:
        return False
    # One's own memberships (disabled ones too), where this session reaches.
    if membership.user_id == actor.user.id:
        return actor.reaches(organisation)
    return actor.can(Permission.MEMBERS_VIEW, organisation)


async def may_view_user(info: Info, user: User) -> bool:
    """Oneself, or someone with a membership the viewer may list."""
    actor = info.context.actor
    if actor is None:
        return False
    if actor.user.id == user.id:
        return True
    memberships = await info.context.loaders.memberships_of_user.load(user.id)
    return any(actor.can(Permission.MEMBERS_VIEW, m.organisation) for m in memberships)


@strawberry.type(name="User", description="A person who can sign in. The email is the log-in name.")
class UserType(relay.Node):
    id: relay.NodeID[int]
    email: str
    first_name: str
    last_name: str
    title: str
    office_phone: str
    mobile_phone: str
    fax: str
    status: UserStatus
    last_login_at: datetime | None
    created_at: datetime

    @strawberry.field(description="A second factor is set up (app or emailed codes).")
    def two_factor_enabled(self) -> bool:
        return self.has_second_factor  # type: ignore[return-value]  # the model's property

    @strawberry.field
    def display_name(self) -> str:
        return self.display_name  # type: ignore[return-value]  # the model's property

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, User)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        async def visible(user: User) -> bool:
            return await may_view_user(info, user)

        return await load_visible(info, info.context.loaders.user, node_ids, visible)

    @strawberry.field(description="This person's memberships that the viewer may see.")
    async def memberships(self, info: Info) -> list[MembershipType]:
        memberships = await info.context.loaders.memberships_of_user.load(self.id)
        actor = info.context.actor
        if actor is None:
            return []
        if actor.user.id == self.id:
            return [m for m in memberships if actor.reaches(m.organisation)]  # type: ignore[misc]
        return [m for m in memberships if actor.can(Permission.MEMBERS_VIEW, m.organisation)]  # type: ignore[misc]


@strawberry.type(
    name="Membership",
    description="A person's place in one organisation: one role plus feature grants.",
)
class MembershipType(relay.Node):
    id: relay.NodeID[int]
    role: Role
    status: MembershipStatus
    ticket_access: TicketAccess
    can_impersonate: bool = strawberry.field(
        description="May open members' own portal views (admins and owners only)."
    )
    restrict_recording_deletion: bool
    created_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, Membership)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        async def visible(membership: Membership) -> bool:
            return await _may_view_member(info, membership)

        return await load_visible(info, info.context.loaders.membership, node_ids, visible)

    # Not `async def`: the object itself when `prefetch_page` loaded it, else the
    # loader's future, which graphql-core awaits (BENCHMARKS.md: an awaitable per
    # row and field costs graphql-core a task each).
    @strawberry.field
    def organisation(self, info: Info) -> OrganisationType:
        return now_or_later(info.context.loaders.organisation, self.organisation_id)  # type: ignore[attr-defined]

    @strawberry.field
    def user(self, info: Info) -> UserType:
        return now_or_later(info.context.loaders.user, self.user_id)  # type: ignore[attr-defined]

    @strawberry.field(description="What the role allows while the membership is active.")
    def permissions(self) -> list[Permission]:
        if self.status is not MembershipStatus.ACTIVE:
            return []
        granted = ROLE_PERMISSIONS[self.role]
        return [p for p in Permission if p in granted]


MembershipConnection = Connection[MembershipType]


async def prefetch_page(info: Info, page: Connection[Any]) -> None:
    """Load a page of memberships' users and organisations in one batch each,
    when the query asks for them (the same queries the nested fields would
    make), so that those fields resolve without an awaitable per row."""
    wanted = selected_below(info, ["nodes"], ["edges", "node"])
    rows = [edge.node for edge in page.edges]
    loads = []
    if "user" in wanted:
        loads.append(info.context.loaders.user.load_many([m.user_id for m in rows]))
    if "organisation" in wanted:
        loads.append(info.context.loaders.organisation.load_many([m.organisation_id for m in rows]))
    if loads:
        await asyncio.gather(*loads)
