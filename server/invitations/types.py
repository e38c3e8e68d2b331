"""GraphQL types of invitations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from strawberry import relay

from server.accounts.models import Membership, User
from server.accounts.types import MembershipNode, UserNode
from server.core.context import Info
from server.core.nodes import Loaded, node_of, visible_row
from server.core.pagination import Connection
from server.core.permissions import Role
from server.invitations.models import Invitation, InvitationStatus
from server.tenancy.models import Organisation
from server.tenancy.refs import OrganisationRef


@strawberry.type(name="Invitation", description="An emailed invitation to join an organisation.")
@node_of(Invitation)
class InvitationType(relay.Node):
    id: relay.NodeID[int]
    email: str
    expires_at: datetime
    accepted_at: datetime | None
    created_at: datetime

    @strawberry.field
    @staticmethod
    def status(row: strawberry.Parent[Invitation]) -> InvitationStatus:
        return row.status

    @strawberry.field
    @staticmethod
    async def organisation(
        row: strawberry.Parent[Invitation], info: Info
    ) -> Loaded[OrganisationRef]:
        return await info.context.loaders.by_id(Organisation).load(row.organisation_id)

    @strawberry.field(description="The membership the invitation activates (null once revoked).")
    @staticmethod
    async def membership(row: strawberry.Parent[Invitation], info: Info) -> MembershipNode | None:
        membership_id = row.membership_id
        return (
            await info.context.loaders.by_id(Membership).load(membership_id)
            if membership_id
            else None
        )

    @strawberry.field(description="The role the invited person will hold.")
    @staticmethod
    async def role(row: strawberry.Parent[Invitation], info: Info) -> Role | None:
        membership_id = row.membership_id
        membership = (
            await info.context.loaders.by_id(Membership).load(membership_id)
            if membership_id
            else None
        )
        return membership.role if membership else None

    @strawberry.field(description="Who sent it, when the viewer may see that person.")
    @staticmethod
    async def invited_by(row: strawberry.Parent[Invitation], info: Info) -> UserNode | None:
        # A reseller's admin who invited someone stays hidden from the customer.
        return await visible_row(info, User, row.invited_by_id)


if TYPE_CHECKING:
    InvitationNode: TypeAlias = Invitation  # the value is the row (core/nodes.py)
else:
    InvitationNode = InvitationType

InvitationConnection = Connection[InvitationNode]
