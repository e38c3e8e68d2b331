"""GraphQL types of invitations."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from server.accounts.models import Membership, User
from server.accounts.types import MembershipType, UserType
from server.core.context import Info
from server.core.nodes import node_of, visible_row
from server.core.pagination import Connection
from server.core.permissions import Role
from server.invitations.models import Invitation, InvitationStatus
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
    def status(self) -> InvitationStatus:
        return self.status  # type: ignore[return-value]  # the model's property

    @strawberry.field
    async def organisation(self, info: Info) -> OrganisationRef:
        return await info.context.loaders.organisation.load(self.organisation_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The membership the invitation activates (null once revoked).")
    async def membership(self, info: Info) -> MembershipType | None:
        membership_id = self.membership_id  # type: ignore[attr-defined]
        return (
            await info.context.loaders.by_id(Membership).load(membership_id)
            if membership_id
            else None
        )

    @strawberry.field(description="The role the invited person will hold.")
    async def role(self, info: Info) -> Role | None:
        membership_id = self.membership_id  # type: ignore[attr-defined]
        membership = (
            await info.context.loaders.by_id(Membership).load(membership_id)
            if membership_id
            else None
        )
        return membership.role if membership else None

    @strawberry.field(description="Who sent it, when the viewer may see that person.")
    async def invited_by(self, info: Info) -> UserType | None:
        # A reseller's admin who invited someone stays hidden from the customer.
        return await visible_row(info, User, self.invited_by_id)  # type: ignore[attr-defined,return-value]


InvitationConnection = Connection[InvitationType]
