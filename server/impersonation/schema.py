"""Impersonation: open a member's portal view, see it in `viewer`, end it."""

from __future__ import annotations

import strawberry

from server.accounts.models import Membership
from server.accounts.types import MembershipNode
from server.auth.types import SessionDelivery, Viewer, sign_in, viewer_of
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import STEP_UP_SECONDS, authenticated, checked_target, owner_of, requires
from server.core.permissions import Permission
from server.impersonation import service


@strawberry.input
class ImpersonateUserInput:
    membership_id: strawberry.ID
    reason: str = strawberry.field(
        description="Why; shown to the member and kept in the audit trail."
    )
    session: SessionDelivery = SessionDelivery.TOKEN


@strawberry.type
class ImpersonatePayload(Payload):
    token: str | None = strawberry.field(
        default=None, description="The impersonation session (TOKEN delivery). Shown once."
    )
    membership: MembershipNode | None = None
    viewer: Viewer | None = None


@strawberry.type
class EndImpersonationPayload(Payload):
    ended: bool = False


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Open a member's own portal view as them, for at most 30 minutes. Needs "
        "`canImpersonate`, a lower role than yours, a reason and a recent sign-in.",
        extensions=[
            requires(
                Permission.MEMBERS_IMPERSONATE,
                on=owner_of("input.membership_id", Membership),
                recent_auth=STEP_UP_SECONDS,
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def impersonate_user(self, info: Info, input: ImpersonateUserInput) -> ImpersonatePayload:
        raw, session, target = await service.impersonate(
            actor=info.context.require_actor(),
            membership_id=checked_target(info, Membership).id,
            reason=input.reason,
        )
        token = await sign_in(info, raw, session, input.session, impersonation=True)
        return ImpersonatePayload(token=token, membership=target, viewer=viewer_of(info))

    @strawberry.mutation(
        description="Leave the member's portal; the administrator's own session is unchanged.",
        extensions=[authenticated()],
    )
    async def end_impersonation(self, info: Info) -> EndImpersonationPayload:
        await service.end(actor=info.context.require_actor())
        if info.context.via_cookie:
            info.context.response.delete_cookie(
                info.context.settings.impersonation_cookie_name,
                path="/",
                secure=True,
                httponly=True,
                samesite="strict",
            )
        return EndImpersonationPayload(ended=True)
