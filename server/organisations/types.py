"""GraphQL types of the organisation tree."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeAlias

import strawberry
from strawberry import relay

from server.accounts.loaders import seats_used
from server.audit.loaders import last_activity
from server.branding.inheritance import effective
from server.branding.service import own_brand
from server.branding.types import BrandSettings, EffectiveBrand, brand_rows
from server.core.context import Info
from server.core.guard import requires, source_organisation
from server.core.nodes import node_of, visible_row
from server.core.pagination import Connection, paginate
from server.core.permissions import Permission, Role
from server.invitations.service import open_invitations
from server.members.service import members_visible_to
from server.organisations.service import CustomerOrder, customers_of
from server.scim.schema import ScimProvisioning, provisioning_of
from server.tenancy.models import Organisation, OrganisationKind, OrganisationStatus

if TYPE_CHECKING:
    from server.accounts.models import Membership
    from server.accounts.types import MembershipType
    from server.invitations.models import Invitation
    from server.invitations.types import InvitationType

from server.accounts.models import MembershipStatus

if TYPE_CHECKING:
    # The values are the rows (core/nodes.py, "Rows as nodes").
    MembershipRef: TypeAlias = Membership
    InvitationRef: TypeAlias = Invitation
else:
    MembershipRef = Annotated["MembershipType", strawberry.lazy("server.accounts.types")]
    InvitationRef = Annotated["InvitationType", strawberry.lazy("server.invitations.types")]


@strawberry.type(description="How many users an organisation may have.")
class Seats:
    limit: int | None = strawberry.field(description="Null: no limit.")
    used: int
    available: int | None


@strawberry.type(name="Organisation", description="A provider, reseller or customer organisation.")
@node_of(Organisation)
class OrganisationType(relay.Node):
    id: relay.NodeID[int]
    name: str
    kind: OrganisationKind
    status: OrganisationStatus
    require_two_factor: bool = strawberry.field(
        description="Members must enrol a second factor before they can use the account."
    )
    allow_email_codes: bool = strawberry.field(
        description="Emailed codes count as a second factor here."
    )
    require_totp_for_admins: bool = strawberry.field(
        description="Owners and admins must use an authenticator app (or a passkey)."
    )
    require_passkeys_for_admins: bool = strawberry.field(
        description="Owners and admins must sign in with a passkey (phishing-resistant): "
        "sessions signed in otherwise wait in `viewer.awaitingTwoFactor` there."
    )
    ticket_access_after_first_sign_in: bool = strawberry.field(
        description="Ticket access is given only to people who have signed in once "
        "(restrictions and other grants can be set when a person is added)."
    )
    created_at: datetime

    @strawberry.field(description="The parent organisation, when the viewer may see it.")
    @staticmethod
    async def parent(row: strawberry.Parent[Organisation], info: Info) -> OrganisationNode | None:
        if row.parent_id is None:
            return None
        return await visible_row(info, Organisation, row.parent_id)

    @strawberry.field(
        description="How many people it has: members of every status, pending invitations "
        "included (what its seats count)."
    )
    @staticmethod
    def member_count(row: strawberry.Parent[Organisation]) -> int:
        return row.member_count

    @strawberry.field(
        description="When something last happened in it: the time of the newest event of "
        "its audit trail (a sign-in, a failed attempt, a change); null when there is none."
    )
    @staticmethod
    async def last_activity_at(row: strawberry.Parent[Organisation], info: Info) -> datetime | None:
        return await info.context.loaders.of(last_activity).load(row.id)

    @strawberry.field(description="Seats: members of every status plus pending invitations.")
    @staticmethod
    async def seats(row: strawberry.Parent[Organisation], info: Info) -> Seats:
        used = await info.context.loaders.of(seats_used).load(row.id)
        limit = row.seat_limit
        return Seats(
            limit=limit, used=used, available=None if limit is None else max(0, limit - used)
        )

    @strawberry.field(
        description="The brand its people see, each value from the nearest organisation "
        "(itself, then upwards) that sets it, and where it comes from."
    )
    @staticmethod
    async def brand(row: strawberry.Parent[Organisation], info: Info) -> EffectiveBrand:
        rows = await info.context.loaders.of(brand_rows).load(row.path)
        return EffectiveBrand.of(effective(rows), row.id)

    @strawberry.field(
        description="The brand values this organisation sets itself (null: inherited).",
        extensions=[requires(Permission.BRAND_MANAGE, on=source_organisation)],
    )
    @staticmethod
    async def brand_settings(row: strawberry.Parent[Organisation], info: Info) -> BrandSettings:
        return BrandSettings.of(await own_brand(row))

    @strawberry.field(
        description="Where and how its identity provider provisions its people (SCIM).",
        extensions=[requires(Permission.SCIM_MANAGE, on=source_organisation)],
    )
    @staticmethod
    def scim_provisioning(row: strawberry.Parent[Organisation], info: Info) -> ScimProvisioning:
        return provisioning_of(info, row)

    @strawberry.field(description="What the viewer may do here, delegated rights included.")
    @staticmethod
    def viewer_permissions(row: strawberry.Parent[Organisation], info: Info) -> list[Permission]:
        actor = info.context.actor
        if actor is None:
            return []
        granted = actor.permissions_in(row)
        return [p for p in Permission if p in granted]

    @strawberry.field(
        description="Members of this organisation (50 per page by default).",
        extensions=[requires(Permission.MEMBERS_VIEW, on=source_organisation)],
    )
    @staticmethod
    async def members(
        row: strawberry.Parent[Organisation],
        info: Info,
        search: str | None = None,
        role: Role | None = None,
        status: MembershipStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[MembershipRef]:
        members = members_visible_to(
            info.context.require_actor(),
            organisation=row,
            search=search,
            role=role,
            status=status,
        )
        return await paginate(members.rows, first=first, after=after, total=members.total)

    @strawberry.field(
        description="Invitations not yet accepted or revoked, expired ones included.",
        extensions=[requires(Permission.MEMBERS_MANAGE, on=source_organisation)],
    )
    @staticmethod
    async def invitations(
        row: strawberry.Parent[Organisation],
        info: Info,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[InvitationRef]:
        return await paginate(open_invitations(row), first=first, after=after)

    @strawberry.field(
        description="Organisations directly below this one (its customers): those whose "
        "name has every word of `search`, in `sort` order (without one: a search's best "
        "matches first, else the order they were created in).",
        extensions=[requires(Permission.ORGANISATION_VIEW, on=source_organisation)],
    )
    @staticmethod
    async def children(
        row: strawberry.Parent[Organisation],
        info: Info,
        search: str | None = None,
        sort: CustomerOrder | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[OrganisationNode]:
        children, key = customers_of(info.context.require_actor(), row, search=search, order=sort)
        return await paginate(children, first=first, after=after, key=key)


if TYPE_CHECKING:
    OrganisationNode: TypeAlias = Organisation  # the value is the row (core/nodes.py)
else:
    OrganisationNode = OrganisationType

OrganisationConnection = Connection[OrganisationNode]
