"""Invitations: invite, resend, revoke, list, confirm; users with an initial password."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.extensions import FieldExtension

from server.accounts.grants import Grants
from server.accounts.models import Membership
from server.accounts.types import MembershipNode
from server.auth.actor import actor_for
from server.auth.types import SessionDelivery, Viewer, sign_in, viewer_of
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import (
    checked,
    checked_target,
    decode_id,
    organisation,
    owner_of,
    public,
    requires,
)
from server.core.pagination import paginate
from server.core.permissions import Permission, Role, TicketAccess
from server.invitations import service
from server.invitations.models import Invitation
from server.invitations.preview import preview_invitation
from server.invitations.types import (
    InvitationConnection,
    InvitationNode,
    InvitationPreviewType,
)


@strawberry.input(
    description="What an admin chooses for a person they add (holds from the first sign-in)."
)
class NewMemberAccessInput:
    ticket_access: TicketAccess | None = strawberry.field(
        default=None, description="Instead of the role's default (ticket administrators only)."
    )
    can_impersonate: bool | None = strawberry.field(
        default=None, description="May open members' portals (admins and owners)."
    )
    restrict_recording_deletion: bool | None = strawberry.field(
        default=None, description="May not delete call recordings, from the first sign-in."
    )
    email_two_factor: bool = strawberry.field(
        default=False,
        description="Confirm each sign-in with a code sent by email (for someone new to "
        "Frontdesk; an existing account keeps the second factor its owner chose).",
    )
    extension_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An extension of the organisation, theirs at once (moved from whoever "
        "had it); for those who manage extensions.",
    )


@strawberry.input
class InviteUserInput(NewMemberAccessInput):
    organisation_id: strawberry.ID
    email: str
    role: Role
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    office_phone: str | None = None
    mobile_phone: str | None = None
    fax: str | None = strawberry.field(
        default=None, description="Kept with the invitation; a new person's when they accept."
    )


def _details(given: InviteUserInput | CreateUserInput) -> dict[str, str | None]:
    return {name: getattr(given, name) for name in service.DETAIL_FIELDS}


def _grants(given: NewMemberAccessInput) -> Grants:
    return Grants(given.ticket_access, given.can_impersonate, given.restrict_recording_deletion)


def _extension_id(given: NewMemberAccessInput) -> int | None:
    if given.extension_id is None:
        return None
    return decode_id(given.extension_id, "Extension", "extensionId")


@strawberry.input
class InvitationInput:
    invitation_id: strawberry.ID


@strawberry.input
class ConfirmInvitationInput:
    token: str = strawberry.field(description="The token from the invitation link.")
    password: str | None = strawberry.field(
        default=None,
        description="New people choose their password; existing users not signed in give theirs.",
    )
    first_name: str | None = None
    last_name: str | None = None
    session: SessionDelivery = SessionDelivery.TOKEN


@strawberry.input
class CreateUserInput(NewMemberAccessInput):
    organisation_id: strawberry.ID
    email: str
    role: Role
    password: str | None = strawberry.field(
        default=None,
        description="Initial password, passed on by the admin; it must be changed at first "
        "log-in. Give this or `sendSetPasswordLink: true`, not both.",
    )
    send_set_password_link: bool = strawberry.field(
        default=False,
        description="Mail the person a one-use link to choose their own password (valid as "
        "long as an invitation) instead of an initial password.",
    )
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    office_phone: str | None = None
    mobile_phone: str | None = None
    fax: str | None = None


@strawberry.type
class InvitationPayload(Payload):
    invitation: InvitationNode | None = None


@strawberry.type
class ConfirmInvitationPayload(Payload):
    membership: MembershipNode | None = None
    token: str | None = strawberry.field(
        default=None, description="A new session token (TOKEN delivery, when not signed in)."
    )
    viewer: Viewer | None = None


@strawberry.type
class CreateUserPayload(Payload):
    membership: MembershipNode | None = None


def members_manage_on_invitation() -> list[FieldExtension]:
    # A new guard per field: an extension instance belongs to one field.
    return [requires(Permission.MEMBERS_MANAGE, on=owner_of("input.invitation_id", Invitation))]


@strawberry.type
class Query:
    @strawberry.field(
        description="Open invitations of an organisation (pending and expired).",
        extensions=[requires(Permission.MEMBERS_MANAGE, on=organisation("organisation_id"))],
    )
    async def invitations(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> InvitationConnection:
        target = checked(info).organisation
        return await paginate(service.open_invitations(target), first=first, after=after)

    @strawberry.field(
        description="What an invitation link is about, before accepting it: organisation, "
        "inviter, role, the address partly masked. An unknown, expired, withdrawn or used "
        "token gets one answer (INVITE_INVALID); guesses are throttled like sign-ins.",
        extensions=[public()],
    )
    async def invitation_preview(
        self,
        info: Info,
        token: Annotated[
            str, strawberry.argument(description="The token from the invitation link.")
        ],
    ) -> InvitationPreviewType | None:
        # Nullable: a refused guess among aliases must not cancel the others mid-check.
        preview = await preview_invitation(token=token, meta=info.context.meta)
        return InvitationPreviewType.of(preview)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Invite a person by email; the membership waits as INVITED until they confirm.",
        extensions=[
            requires(
                Permission.MEMBERS_MANAGE,
                on=organisation("input.organisation_id"),
                impersonation=False,
            )
        ],
    )
    async def invite_user(self, info: Info, input: InviteUserInput) -> InvitationPayload:
        created = await service.invite_user(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            email=input.email,
            role=input.role,
            first_name=input.first_name,
            last_name=input.last_name,
            grants=_grants(input),
            email_two_factor=input.email_two_factor,
            details=_details(input),
            extension_id=_extension_id(input),
        )
        return InvitationPayload(invitation=created)

    @strawberry.mutation(
        description="Send a fresh link; the previous one stops working.",
        extensions=members_manage_on_invitation(),
    )
    async def resend_invitation(self, info: Info, input: InvitationInput) -> InvitationPayload:
        resent = await service.resend_invitation(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            invitation_id=checked_target(info, Invitation).id,
        )
        return InvitationPayload(invitation=resent)

    @strawberry.mutation(
        description="Withdraw an invitation.", extensions=members_manage_on_invitation()
    )
    async def revoke_invitation(self, info: Info, input: InvitationInput) -> InvitationPayload:
        revoked = await service.revoke_invitation(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            invitation_id=checked_target(info, Invitation).id,
        )
        return InvitationPayload(invitation=revoked)

    @strawberry.mutation(
        description="Accept an invitation with the token from its link (single use); "
        "signed in, only as oneself (not with an API token or while impersonating).",
        extensions=[public(or_person=True)],
    )
    async def confirm_invitation(
        self, info: Info, input: ConfirmInvitationInput
    ) -> ConfirmInvitationPayload:
        accepted, raw, session = await service.confirm_invitation(
            token=input.token,
            actor=info.context.actor,
            meta=info.context.meta,
            password=input.password,
            first_name=input.first_name,
            last_name=input.last_name,
        )
        token = None
        if raw is not None and session is not None:
            token = await sign_in(info, raw, session, input.session)
        elif info.context.actor is not None:  # joined while signed in: one more membership
            session = info.context.actor.session
            assert session is not None  # a person's own session (the guard let no token in)
            info.context.actor = await actor_for(session, info.context.meta)
        assert accepted.membership_id is not None  # accepting keeps the membership
        membership = await info.context.loaders.by_id(Membership).load(accepted.membership_id)
        return ConfirmInvitationPayload(membership=membership, token=token, viewer=viewer_of(info))

    @strawberry.mutation(
        description="Create an active user, with an initial password (to be changed at first "
        "log-in) or a mailed link to choose their own; they get a welcome mail either way.",
        extensions=[
            requires(
                Permission.MEMBERS_MANAGE,
                on=organisation("input.organisation_id"),
                impersonation=False,
            )
        ],
    )
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload:
        membership = await service.create_user(
            actor=info.context.require_actor(),
            organisation=checked(info).organisation,
            email=input.email,
            role=input.role,
            password=input.password,
            send_set_password_link=input.send_set_password_link,
            first_name=input.first_name,
            last_name=input.last_name,
            grants=_grants(input),
            email_two_factor=input.email_two_factor,
            details=_details(input),
            extension_id=_extension_id(input),
        )
        return CreateUserPayload(membership=membership)
