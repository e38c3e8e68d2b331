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
from server.invitations.preview import InvitationPreview
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


@strawberry.type(
    name="InvitationPreview",
    description="What an invitation link shows before it is accepted (public: nothing more).",
)
class InvitationPreviewType:
    organisation_name: str
    inviter_name: str | None = strawberry.field(
        description="Who sent it, by name (null when they gave none or left)."
    )
    role: Role
    masked_email: str = strawberry.field(
        description='The invited address, partly masked: "n•••@example.com".'
    )
    has_account: bool = strawberry.field(
        description="The address already has an account: its owner signs in (or gives "
        "their password) to join, instead of choosing a password."
    )
    first_name: str | None = strawberry.field(
        description="For someone new: the name the inviter typed (the invitation mail "
        "greets them by it), to check or correct. Null for an existing account."
    )
    last_name: str | None = strawberry.field(description="As `firstName`.")

    @classmethod
    def of(cls, preview: InvitationPreview) -> InvitationPreviewType:
        return cls(
            organisation_name=preview.organisation_name,
            inviter_name=preview.inviter_name,
            role=preview.role,
            masked_email=preview.masked_email,
            has_account=preview.has_account,
            first_name=preview.first_name,
            last_name=preview.last_name,
        )


if TYPE_CHECKING:
    InvitationNode: TypeAlias = Invitation  # the value is the row (core/nodes.py)
else:
    InvitationNode = InvitationType

InvitationConnection = Connection[InvitationNode]
