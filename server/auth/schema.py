"""Sign-in: viewer, log-in and out, passwords."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from server.accounts.types import MembershipType, UserType
from server.auth import service
from server.auth.actor import actor_for
from server.auth.models import Session
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import authenticated, public


@strawberry.enum(description="How a new session reaches the client.")
class SessionDelivery(Enum):
    TOKEN = strawberry.enum_value(
        "TOKEN", description="In the payload, for `Authorization: Bearer`."
    )
    COOKIE = strawberry.enum_value(
        "COOKIE", description="As an HttpOnly, Secure, SameSite cookie (the admin SPA)."
    )


@strawberry.type(description="The signed-in person and what they may do.")
class Viewer:
    user: UserType
    must_change_password: bool = strawberry.field(
        description="Until the password is changed, no organisation can be used."
    )
    session_expires_at: datetime | None
    memberships: list[MembershipType] = strawberry.field(
        description="Usable memberships (active, in active organisations); "
        "`organisation.viewerPermissions` gives the effective permissions there."
    )


def viewer_of(info: Info) -> Viewer | None:
    actor = info.context.actor
    if actor is None:
        return None
    return Viewer(
        user=actor.user,  # type: ignore[arg-type]
        must_change_password=actor.user.must_change_password,
        session_expires_at=actor.session.expires_at if actor.session else None,
        memberships=actor.memberships,  # type: ignore[arg-type]
    )


def deliver_session(
    info: Info, raw: str, session: Session, delivery: SessionDelivery
) -> str | None:
    """Set the session cookie, or hand the token back for a Bearer header."""
    if delivery is SessionDelivery.TOKEN:
        return raw
    settings = info.context.settings
    info.context.response.set_cookie(
        settings.session_cookie_name,
        raw,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return None


@strawberry.input
class LoginInput:
    email: str
    password: str
    session: SessionDelivery = SessionDelivery.TOKEN


@strawberry.type
class LoginPayload(Payload):
    token: str | None = strawberry.field(
        default=None, description="The session token (TOKEN delivery only). Shown once."
    )
    viewer: Viewer | None = None


@strawberry.type
class OkPayload(Payload):
    ok: bool = False


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.type
class ChangePasswordPayload(Payload):
    viewer: Viewer | None = None


@strawberry.input
class RequestPasswordResetInput:
    email: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in person; null when not signed in.")
    def viewer(self, info: Info) -> Viewer | None:
        return viewer_of(info)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Sign in. Wrong, unknown and disabled accounts get the same error.",
        extensions=[public()],
    )
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        raw, session = await service.login(
            email=input.email, password=input.password, meta=info.context.meta
        )
        info.context.actor = await actor_for(session, info.context.meta)
        info.context.session_token = raw
        return LoginPayload(
            token=deliver_session(info, raw, session, input.session), viewer=viewer_of(info)
        )

    @strawberry.mutation(description="End this session.", extensions=[authenticated()])
    async def logout(self, info: Info) -> OkPayload:
        await service.logout(
            actor=info.context.require_actor(), raw_token=info.context.session_token
        )
        if info.context.via_cookie:
            info.context.response.delete_cookie(
                info.context.settings.session_cookie_name,
                path="/",
                secure=True,
                httponly=True,
                samesite="strict",
            )
        return OkPayload(ok=True)

    @strawberry.mutation(
        description="Change one's own password; every other session ends.",
        extensions=[authenticated()],
    )
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        await service.change_password(
            actor=info.context.require_actor(),
            current_password=input.current_password,
            new_password=input.new_password,
        )
        info.context.actor = await actor_for(info.context.actor.session, info.context.meta)  # type: ignore[union-attr,arg-type]
        return ChangePasswordPayload(viewer=viewer_of(info))

    @strawberry.mutation(
        description="Mail a reset link. The answer is the same whether or not the address is known.",
        extensions=[public()],
    )
    async def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> OkPayload:
        await service.request_password_reset(email=input.email, meta=info.context.meta)
        return OkPayload(ok=True)

    @strawberry.mutation(
        description="Set a new password with the emailed token; every session ends.",
        extensions=[public()],
    )
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> OkPayload:
        await service.reset_password(
            token=input.token, new_password=input.new_password, meta=info.context.meta
        )
        return OkPayload(ok=True)
