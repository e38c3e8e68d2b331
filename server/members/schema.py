"""Members: listing, roles, feature grants, disable / enable / remove / delete, profiles."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.extensions import FieldExtension

from server.accounts.models import Membership, MembershipStatus
from server.accounts.types import (
    MembershipConnection,
    MembershipNode,
    UserNode,
    prefetch_page,
)
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import (
    STEP_UP_SECONDS,
    authenticated,
    checked,
    checked_target,
    organisation,
    owner_of,
    public,
    requires,
)
from server.core.lookahead import selected_below
from server.core.pagination import paginate
from server.core.permissions import Permission, Role, TicketAccess
from server.members import email_change, service


def _membership_id(info: Info) -> int:
    return checked_target(info, Membership).id


@strawberry.input
class MembershipInput:
    membership_id: strawberry.ID


@strawberry.input
class ChangeRoleInput:
    membership_id: strawberry.ID
    role: Role


@strawberry.input(description="Only the fields given change.")
class SetFeatureAccessInput:
    membership_id: strawberry.ID
    ticket_access: TicketAccess | None = None
    can_impersonate: bool | None = None
    restrict_recording_deletion: bool | None = None
    portal_access: bool | None = strawberry.field(
        default=None,
        description="May sign in to the OpenID Connect clients whose access rule asks for it.",
    )


@strawberry.input(description="Only the fields given change; an empty string clears one.")
class UpdateProfileInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    office_phone: str | None = strawberry.UNSET
    mobile_phone: str | None = strawberry.UNSET
    fax: str | None = strawberry.UNSET
    language: str | None = strawberry.field(
        default=strawberry.UNSET,
        description='The language of mails and the admin app: "en" or "de"; empty or null '
        "goes back to the organisation's default (then the browser's).",
    )


@strawberry.input(
    description="Only the fields given change; an empty string clears one. The profile is "
    "one for all the person's organisations: see updateMember."
)
class UpdateMemberInput:
    membership_id: strawberry.ID
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    office_phone: str | None = strawberry.UNSET
    mobile_phone: str | None = strawberry.UNSET
    fax: str | None = strawberry.UNSET


@strawberry.input
class ChangeMemberEmailInput:
    membership_id: strawberry.ID
    new_email: str


@strawberry.input
class ChangeEmailInput:
    new_email: str


@strawberry.input
class ConfirmEmailChangeInput:
    token: str = strawberry.field(description="The token from the link mailed to the new address.")


@strawberry.type
class ConfirmEmailChangePayload(Payload):
    email: str | None = strawberry.field(default=None, description="The new sign-in address.")


@strawberry.type
class MembershipPayload(Payload):
    membership: MembershipNode | None = None


@strawberry.type
class RemovedPayload(Payload):
    removed_membership_id: strawberry.ID | None = None  # the global id given


@strawberry.type
class UserPayload(Payload):
    user: UserNode | None = None


def members_manage_on_membership(
    recent_auth: int | None = None,
    when: Any = None,
    *,
    impersonation: bool = True,
    api_tokens: bool = True,
) -> list[FieldExtension]:
    # A new guard per field: an extension instance belongs to one field.
    return [
        requires(
            Permission.MEMBERS_MANAGE,
            on=owner_of("input.membership_id", Membership),
            recent_auth=recent_auth,
            when=when,
            impersonation=impersonation,
            api_tokens=api_tokens,
        )
    ]


def _grants_administration(info: Info, arguments: dict[str, Any]) -> bool:
    # Step-up for making someone an owner or admin.
    return arguments["input"].role in (Role.OWNER, Role.ADMIN)


def _administers_access(info: Info, arguments: dict[str, Any]) -> bool:
    # Step-up for ticket-access administration and handing out impersonation.
    given = arguments["input"]
    return given.ticket_access is not None or given.can_impersonate is True


@strawberry.type
class Query:
    @strawberry.field(
        description="Members of an organisation; with includeDescendants, of every "
        "organisation below it the viewer administers too (each with its organisation).",
        extensions=[requires(Permission.MEMBERS_VIEW, on=organisation("organisation_id"))],
    )
    async def members(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        search: str | None = None,
        role: Role | None = None,
        status: MembershipStatus | None = None,
        include_descendants: bool = False,
        two_factor: Annotated[
            bool | None,
            strawberry.argument(description="Only members with (true) or without (false) 2FA."),
        ] = None,
        first: int | None = None,
        after: str | None = None,
    ) -> MembershipConnection:
        target = checked(info).organisation
        members = service.members_visible_to(
            info.context.require_actor(),
            organisation=target,
            include_descendants=include_descendants,
            search=search,
            role=role,
            status=status,
            two_factor=two_factor,
        )
        return await paginate(
            members.rows,
            first=first,
            after=after,
            total=members.total,
            tiers=members.tiers,
            counted_rows=members.counted_rows,
            counted=bool({"totalCount", "totalCountIsExact"} & selected_below(info, [])),
            load=lambda rows: prefetch_page(info, rows),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Give a member another role; it replaces the previous one.",
        extensions=members_manage_on_membership(
            STEP_UP_SECONDS, _grants_administration, impersonation=False
        ),
    )
    async def change_role(self, info: Info, input: ChangeRoleInput) -> MembershipPayload:
        result = await service.change_role(
            actor=info.context.require_actor(),
            membership_id=_membership_id(info),
            role=input.role,
        )
        return MembershipPayload(membership=result)

    @strawberry.mutation(
        description="Ticket access and feature flags (ticket access only once the person has "
        "signed in where the organisation says so: ticketAccessAfterFirstSignIn).",
        extensions=members_manage_on_membership(
            STEP_UP_SECONDS, _administers_access, impersonation=False
        ),
    )
    async def set_feature_access(
        self, info: Info, input: SetFeatureAccessInput
    ) -> MembershipPayload:
        result = await service.set_feature_access(
            actor=info.context.require_actor(),
            membership_id=_membership_id(info),
            ticket_access=input.ticket_access,
            can_impersonate=input.can_impersonate,
            restrict_recording_deletion=input.restrict_recording_deletion,
            portal_access=input.portal_access,
        )
        return MembershipPayload(membership=result)

    @strawberry.mutation(
        description="Keep the member listed but end their sessions and refuse their log-ins here.",
        extensions=members_manage_on_membership(),
    )
    async def disable_member(self, info: Info, input: MembershipInput) -> MembershipPayload:
        result = await service.disable_member(
            actor=info.context.require_actor(), membership_id=_membership_id(info)
        )
        return MembershipPayload(membership=result)

    @strawberry.mutation(
        description="Re-enable a disabled member.", extensions=members_manage_on_membership()
    )
    async def enable_member(self, info: Info, input: MembershipInput) -> MembershipPayload:
        result = await service.enable_member(
            actor=info.context.require_actor(), membership_id=_membership_id(info)
        )
        return MembershipPayload(membership=result)

    @strawberry.mutation(
        description="Unlink a member from the organisation; the audit trail keeps what happened.",
        extensions=members_manage_on_membership(),
    )
    async def remove_member(self, info: Info, input: MembershipInput) -> RemovedPayload:
        await service.remove_member(
            actor=info.context.require_actor(), membership_id=_membership_id(info)
        )
        return RemovedPayload(removed_membership_id=input.membership_id)

    @strawberry.mutation(
        description="Erase a person whose only membership this is; audit entries are pseudonymised.",
        extensions=members_manage_on_membership(impersonation=False),
    )
    async def delete_user(self, info: Info, input: MembershipInput) -> RemovedPayload:
        await service.delete_user(
            actor=info.context.require_actor(), membership_id=_membership_id(info)
        )
        return RemovedPayload(removed_membership_id=input.membership_id)

    @strawberry.mutation(
        description="Clear a member's second factors (a lost phone); they enrol again "
        "and every session of theirs ends.",
        extensions=members_manage_on_membership(
            STEP_UP_SECONDS, impersonation=False, api_tokens=False
        ),
    )
    async def reset_two_factor(self, info: Info, input: MembershipInput) -> MembershipPayload:
        result = await service.reset_two_factor(
            actor=info.context.require_actor(), membership_id=_membership_id(info)
        )
        return MembershipPayload(membership=result)

    @strawberry.mutation(
        description="Change one's own name, title, phone numbers and language.",
        extensions=[authenticated()],
    )
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UserPayload:
        changes = {
            name: value for name, value in vars(input).items() if value is not strawberry.UNSET
        }
        user = await service.update_profile(actor=info.context.require_actor(), changes=changes)
        return UserPayload(user=user)

    @strawberry.mutation(
        description="Change a person's names, title and phones, within the rank rules. "
        "Their profile is one for all their organisations: it takes managing members, "
        "not outranked, in every organisation they belong to (PROFILE_SHARED otherwise).",
        extensions=members_manage_on_membership(),
    )
    async def update_member(self, info: Info, input: UpdateMemberInput) -> MembershipPayload:
        changes = {
            name: value
            for name, value in vars(input).items()
            if name != "membership_id" and value is not strawberry.UNSET
        }
        result = await service.update_member(
            actor=info.context.require_actor(),
            membership_id=_membership_id(info),
            changes=changes,
        )
        return MembershipPayload(membership=result)

    @strawberry.mutation(
        description="Ask to change a person's sign-in address (the rules of updateMember): "
        "it changes when they use the link mailed to the new address (user.pendingEmail "
        "until then).",
        extensions=members_manage_on_membership(
            STEP_UP_SECONDS, impersonation=False, api_tokens=False
        ),
    )
    async def change_member_email(
        self, info: Info, input: ChangeMemberEmailInput
    ) -> MembershipPayload:
        await email_change.change_member_email(
            actor=info.context.require_actor(),
            membership_id=_membership_id(info),
            new_email=input.new_email,
        )
        return MembershipPayload(membership=checked_target(info, Membership))

    @strawberry.mutation(
        description="Ask to change one's own sign-in address: it changes when the link "
        "mailed to the new address is used (viewer.user.pendingEmail until then).",
        extensions=[authenticated(recent_auth=STEP_UP_SECONDS, impersonation=False)],
    )
    async def change_email(self, info: Info, input: ChangeEmailInput) -> UserPayload:
        actor = info.context.require_actor()
        await email_change.change_own_email(actor=actor, new_email=input.new_email)
        return UserPayload(user=actor.user)

    @strawberry.mutation(
        description="Confirm a new sign-in address with the token from the mailed link "
        "(single use, expiring); the old address is told.",
        extensions=[public()],
    )
    async def confirm_email_change(
        self, info: Info, input: ConfirmEmailChangeInput
    ) -> ConfirmEmailChangePayload:
        user = await email_change.confirm_email_change(token=input.token, meta=info.context.meta)
        return ConfirmEmailChangePayload(email=user.email)
