"""GraphQL types of invitations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from server.accounts.types import MembershipType, UserType, may_view_user
from server.core.context import Info
from server.core.nodes import load_visible
from server.core.pagination import Connection
from server.core.permissions import Permission, Role
from server.invitations.models import Invitation, InvitationStatus
from server.organisations.types import OrganisationType


@strawberry.type(name="Invitation", description="An emailed invitation to join an organisation.")
class InvitationType(relay.Node):
    id: relay.NodeID[int]
    email: str
    expires_at: datetime
    accepted_at: datetime | None
    created_at: datetime

    @strawberry.field
    def status(self) -> InvitationStatus:
        return self.status  # type: ignore[return-value]  # the model's property

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, Invitation)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        async def visible(invitation: Invitation) -> bool:
            organisation = await info.context.loaders.organisation.load(invitation.organisation_id)
            actor = info.context.actor
            return organisation is not None and actor.can(Permission.MEMBERS_MANAGE, organisation)  # type: ignore[union-attr]

        return await load_visible(info, info.context.loaders.invitation, node_ids, visible)

    @strawberry.field
    async def organisation(self, info: Info) -> OrganisationType:
        return await info.context.loaders.organisation.load(self.organisation_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The membership the invitation activates (null once revoked).")
    async def membership(self, info: Info) -> MembershipType | None:
        membership_id = self.membership_id  # type: ignore[attr-defined]
        return await info.context.loaders.membership.load(membership_id) if membership_id else None

    @strawberry.field(description="The role the invited person will hold.")
    async def role(self, info: Info) -> Role | None:
        membership_id = self.membership_id  # type: ignore[attr-defined]
        membership = (
            await info.context.loaders.membership.load(membership_id) if membership_id else None
        )
        return membership.role if membership else None

    @strawberry.field(description="Who sent it, when the viewer may see that person.")
    async def invited_by(self, info: Info) -> UserType | None:
        inviter_id = self.invited_by_id  # type: ignore[attr-defined]
        inviter = await info.context.loaders.user.load(inviter_id) if inviter_id else None
        # A reseller's admin who invited someone stays hidden from the customer.
        return inviter if inviter and await may_view_user(info, inviter) else None  # type: ignore[return-value]


InvitationConnection = Connection[InvitationType]
