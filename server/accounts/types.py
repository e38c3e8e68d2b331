"""GraphQL types of people and their memberships."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeAlias

import strawberry
from strawberry import relay

from server.accounts.loaders import pending_emails
from server.accounts.models import (
    Membership,
    MembershipStatus,
    User,
    UserStatus,
    memberships_by_user,
)
from server.core.context import Info
from server.core.loaders import now_or_later
from server.core.lookahead import selected_below
from server.core.nodes import Soon, node_of, visible_rows
from server.core.pagination import Connection
from server.core.permissions import ROLE_PERMISSIONS, Permission, Role, TicketAccess
from server.core.visibility import visible_or_none
from server.tenancy.models import Organisation
from server.tenancy.refs import OrganisationRef

if TYPE_CHECKING:
    from server.invitations.models import Invitation
    from server.invitations.types import InvitationType

    InvitationRef: TypeAlias = Invitation  # the value is the row (core/nodes.py)
else:  # invitations/ stands above accounts/: named lazily
    InvitationRef = Annotated["InvitationType", strawberry.lazy("server.invitations.types")]


@strawberry.type(name="User", description="A person who can sign in. The email is the log-in name.")
@node_of(User)
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
    @staticmethod
    def two_factor_enabled(row: strawberry.Parent[User]) -> bool:
        return row.has_second_factor

    @strawberry.field
    @staticmethod
    def display_name(row: strawberry.Parent[User]) -> str:
        return row.display_name

    @strawberry.field(
        description="A new sign-in address waiting for the person to confirm it from the "
        "link mailed there; until then they sign in with `email`."
    )
    async def pending_email(self, info: Info) -> str | None:
        return await info.context.loaders.of(pending_emails).load(self.id)

    @strawberry.field(description="This person's memberships that the viewer may see.")
    async def memberships(self, info: Info) -> list[MembershipNode]:
        memberships = await info.context.loaders.of(memberships_by_user).load(self.id)
        return await visible_rows(info, memberships)


@strawberry.type(
    name="Membership",
    description="A person's place in one organisation: one role plus feature grants.",
)
@node_of(Membership)
class MembershipType(relay.Node):
    id: relay.NodeID[int]
    role: Role
    status: MembershipStatus
    ticket_access: TicketAccess
    can_impersonate: bool = strawberry.field(
        description="May open members' own portal views (admins and owners only)."
    )
    restrict_recording_deletion: bool
    portal_access: bool = strawberry.field(
        description="May sign in to the OpenID Connect clients whose access rule asks for it."
    )
    created_at: datetime

    # Not `async def`: the object itself when `prefetch_page` loaded it, else the
    # loader's future, which graphql-core awaits (BENCHMARKS.md: an awaitable per
    # row and field costs graphql-core a task each).
    @strawberry.field
    @staticmethod
    def organisation(row: strawberry.Parent[Membership], info: Info) -> Soon[OrganisationRef]:
        return now_or_later(info.context.loaders.by_id(Organisation), row.organisation_id)

    @strawberry.field
    @staticmethod
    def user(row: strawberry.Parent[Membership], info: Info) -> Soon[UserNode]:
        if row.status is MembershipStatus.INVITED:
            return _invitee(info, row)
        # The viewer sees this membership, so they see its (non-pending) member.
        return now_or_later(info.context.loaders.by_id(User), row.user_id)

    @strawberry.field(
        description="The open invitation of a pending membership (to resend or revoke it), "
        "when the viewer manages members here; null otherwise."
    )
    @staticmethod
    async def invitation(row: strawberry.Parent[Membership], info: Info) -> InvitationRef | None:
        if row.status is not MembershipStatus.INVITED:
            return None
        pending = row.invitations.filter(accepted_at=None, revoked_at=None).order_by("-id")
        return await visible_or_none(
            info.context.actor, await pending.first(), info.context.loaders
        )

    @strawberry.field(description="What the role allows while the membership is active.")
    def permissions(self) -> list[Permission]:
        if self.status is not MembershipStatus.ACTIVE:
            return []
        granted = ROLE_PERMISSIONS[self.role]
        return [p for p in Permission if p in granted]


if TYPE_CHECKING:
    # The values are the rows (core/nodes.py, "Rows as nodes").
    UserNode: TypeAlias = User
    MembershipNode: TypeAlias = Membership
else:
    UserNode = UserType
    MembershipNode = MembershipType

MembershipConnection = Connection[MembershipNode]


async def _invitee(info: Info, membership: Membership) -> User:
    user = await info.context.loaders.by_id(User).load(membership.user_id)
    assert user is not None  # a membership's user is deleted with it
    if await visible_or_none(info.context.actor, user, info.context.loaders) is not None:
        return user
    return user.as_invitee(membership.created_at)


async def prefetch_page(info: Info, rows: list[Membership]) -> None:
    """Load a page of memberships' users and organisations in one batch each
    (and the invited users' memberships), when the query asks for them (the
    same queries the nested fields would make), so that those fields resolve
    without waiting on a statement per row."""
    wanted = selected_below(info, ["nodes"], ["edges", "node"])
    loads: list[Awaitable[object]] = []
    if "user" in wanted:
        loads.append(info.context.loaders.by_id(User).load_many([m.user_id for m in rows]))
        # Whether the viewer may see an invited person's name (`_invitee`) asks
        # for their memberships: in the same round as the people, not after it.
        invited = [m.user_id for m in rows if m.status is MembershipStatus.INVITED]
        if invited:
            loads.append(info.context.loaders.of(memberships_by_user).load_many(invited))
    if "organisation" in wanted:
        loads.append(info.context.loaders.organisation.load_many([m.organisation_id for m in rows]))
    if loads:
        await asyncio.gather(*loads)
