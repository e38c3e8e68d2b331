"""Signing in: viewer, log-in with a second factor, sessions, passwords,
two-factor enrolment and re-authentication (step-up)."""

from __future__ import annotations

from typing import Any

import strawberry

from server.auth import service, two_factor
from server.auth.actor import actor_for
from server.auth.sessions import live_sessions
from server.auth.types import (
    LoginChallengeType,
    SessionDelivery,
    SessionNode,
    Viewer,
    sign_in,
    viewer_of,
)
from server.core.actor import Actor
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import STEP_UP_SECONDS, authenticated, decode_id, public


def _has_second_factor(info: Info, arguments: dict[str, Any]) -> bool:
    # Enrolling a first factor needs no step-up; replacing one does.
    return info.context.require_actor().user.has_second_factor


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
    challenge: LoginChallengeType | None = strawberry.field(
        default=None,
        description="Set when a second factor is needed: no session yet, call `verifyTwoFactor`.",
    )
    viewer: Viewer | None = None


@strawberry.input
class VerifyTwoFactorInput:
    challenge: str
    code: str = strawberry.field(
        description="From the authenticator app, the email, or a recovery code "
        "(xxxxxx-xxxxxx-xxxxxx-xxxxxx; codes made before: xxxxx-xxxxx). "
        "After 5 wrong codes the challenge is over: sign in again."
    )
    session: SessionDelivery = SessionDelivery.TOKEN


@strawberry.input
class ChallengeInput:
    challenge: str


@strawberry.type
class OkPayload(Payload):
    ok: bool = False


@strawberry.type
class ViewerPayload(Payload):
    viewer: Viewer | None = None


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.type
class ChangePasswordPayload(Payload):
    token: str | None = strawberry.field(
        default=None,
        description="The session's new token (bearer sessions; a cookie session gets a new "
        "cookie). The old one no longer works. Shown once.",
    )
    viewer: Viewer | None = None


@strawberry.input
class RequestPasswordResetInput:
    email: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str


@strawberry.input
class ReauthenticateInput:
    password: str
    code: str | None = strawberry.field(
        default=None,
        description="Second factor, if enrolled. Users with emailed codes only: leave it "
        "out to have a code sent, then call again with it.",
    )


@strawberry.type
class ReauthenticatePayload(Payload):
    token: str | None = strawberry.field(
        default=None, description="The new session token (bearer sessions). Shown once."
    )
    code_sent: bool = strawberry.field(default=False, description="An emailed code is on its way.")
    viewer: Viewer | None = None


@strawberry.type
class TotpEnrolmentPayload(Payload):
    secret: str | None = strawberry.field(default=None, description="For typing in by hand.")
    uri: str | None = strawberry.field(default=None, description="The otpauth:// URI.")
    qr_svg: str | None = strawberry.field(default=None, description="The URI as an SVG QR code.")


@strawberry.input
class CodeInput:
    code: str


@strawberry.type
class RecoveryCodesPayload(Payload):
    recovery_codes: list[str] | None = strawberry.field(
        default=None, description="Ten single-use codes. Shown once: store them safely."
    )
    viewer: Viewer | None = None


@strawberry.input
class EmailTwoFactorInput:
    enabled: bool


@strawberry.input
class SessionInput:
    session_id: strawberry.ID


def _device_cookie(info: Info) -> str | None:
    return info.context.request.cookies.get(info.context.settings.device_cookie_name)


def _remember_device(info: Info, delivery: SessionDelivery, value: str | None) -> None:
    """Give the browser its (new) device cookie after a successful sign-in
    (server/auth/devices.py). Browsers only (cookie sessions): a client asking
    for a bearer token gets no cookie at all."""
    if value is None or delivery is not SessionDelivery.COOKIE:
        return
    settings = info.context.settings
    info.context.response.set_cookie(
        settings.device_cookie_name,
        value,
        max_age=settings.device_cookie_days * 86400,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def _delivery(info: Info) -> SessionDelivery:
    return SessionDelivery.COOKIE if info.context.via_cookie else SessionDelivery.TOKEN


async def _reload_actor(info: Info, actor: Actor) -> None:
    """The actor again after a change to the person's second factors (the fields
    calling this refuse API tokens and impersonations: `actor` has its own session)."""
    assert actor.session is not None
    info.context.actor = await actor_for(actor.session, info.context.meta)


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in person; null when not signed in.")
    def viewer(self, info: Info) -> Viewer | None:
        return viewer_of(info)

    @strawberry.field(
        description="The viewer's live sessions, newest first.", extensions=[authenticated()]
    )
    async def sessions(self, info: Info) -> list[SessionNode]:
        user_id = info.context.require_actor().user.id
        return await live_sessions(user_id)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Sign in. Wrong, unknown, locked and disabled accounts get the same error. "
        "With a second factor the answer is a `challenge` for `verifyTwoFactor`.",
        extensions=[public()],
    )
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        result = await service.login(
            email=input.email,
            password=input.password,
            meta=info.context.meta,
            device_cookie=_device_cookie(info),
        )
        if result.challenge is not None:
            assert result.challenge_token is not None  # set with the challenge
            challenge = LoginChallengeType(
                token=result.challenge_token,
                expires_at=result.challenge.expires_at,
                methods=result.methods,
            )
            return LoginPayload(challenge=challenge)
        assert result.token is not None and result.session is not None  # no challenge: a session
        token = await sign_in(info, result.token, result.session, input.session)
        _remember_device(info, input.session, result.device_cookie)
        return LoginPayload(token=token, viewer=viewer_of(info))

    @strawberry.mutation(
        description="Complete a log-in with a code from the app, the email or a recovery code.",
        extensions=[public()],
    )
    async def verify_two_factor(self, info: Info, input: VerifyTwoFactorInput) -> LoginPayload:
        raw, session, device = await two_factor.verify_login(
            input.challenge, input.code, info.context.meta, device_cookie=_device_cookie(info)
        )
        token = await sign_in(info, raw, session, input.session)
        _remember_device(info, input.session, device)
        return LoginPayload(token=token, viewer=viewer_of(info))

    @strawberry.mutation(
        description="Send a new emailed code for a log-in challenge (the previous one dies).",
        extensions=[public()],
    )
    async def send_two_factor_email(self, info: Info, input: ChallengeInput) -> OkPayload:
        await two_factor.resend_email_code(input.challenge)
        return OkPayload(ok=True)

    @strawberry.mutation(
        description="End this session. Inside an impersonation (a member's portal) it ends the "
        "impersonation (audited as `impersonation.ended`, the member is mailed) and, when the "
        "session came as a cookie, the administrator's own session in that browser too: both "
        "cookies are cleared and the browser is signed out. With a Bearer token only the "
        "impersonation ends; the administrator's own token stays valid.",
        extensions=[authenticated(before_password_change=True)],
    )
    async def logout(self, info: Info) -> OkPayload:
        actor = info.context.require_actor()
        settings = info.context.settings
        via_cookie = info.context.via_cookie
        own_token = (
            info.context.request.cookies.get(settings.session_cookie_name)
            if via_cookie and actor.impersonating
            else None
        )
        await service.logout(actor=actor, raw_token=info.context.session_token, own_token=own_token)
        if via_cookie:
            names = [settings.session_cookie_name]
            if actor.impersonating:
                names.append(settings.impersonation_cookie_name)
            for name in names:
                info.context.response.delete_cookie(
                    name, path="/", secure=True, httponly=True, samesite="strict"
                )
        return OkPayload(ok=True)

    @strawberry.mutation(
        description="End one of the viewer's sessions.",
        extensions=[authenticated(impersonation=False, api_tokens=False)],
    )
    async def revoke_session(self, info: Info, input: SessionInput) -> OkPayload:
        await service.revoke_session(
            actor=info.context.require_actor(),
            session_id=decode_id(input.session_id, "Session", "sessionId"),
        )
        return OkPayload(ok=True)

    @strawberry.mutation(
        description="End every session of the viewer but this one.",
        extensions=[authenticated(impersonation=False, api_tokens=False)],
    )
    async def revoke_other_sessions(self, info: Info) -> OkPayload:
        await service.revoke_other_sessions(actor=info.context.require_actor())
        return OkPayload(ok=True)

    @strawberry.mutation(
        description="Check the password (and second factor) again, for actions that need a "
        "recent sign-in. Opens a fresh session in place of this one.",
        extensions=[authenticated(impersonation=False, api_tokens=False)],
    )
    async def reauthenticate(self, info: Info, input: ReauthenticateInput) -> ReauthenticatePayload:
        fresh = await two_factor.reauthenticate(
            info.context.require_actor(), password=input.password, code=input.code
        )
        if fresh is None:
            return ReauthenticatePayload(code_sent=True)
        token = await sign_in(info, *fresh, _delivery(info))
        return ReauthenticatePayload(token=token, viewer=viewer_of(info))

    @strawberry.mutation(
        description="Change one's own password; every other session ends, and this one "
        "goes on under a new token.",
        extensions=[
            authenticated(impersonation=False, api_tokens=False, before_password_change=True)
        ],
    )
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        raw, session = await service.change_password(
            actor=info.context.require_actor(),
            current_password=input.current_password,
            new_password=input.new_password,
        )
        token = await sign_in(info, raw, session, _delivery(info))
        return ChangePasswordPayload(token=token, viewer=viewer_of(info))

    @strawberry.mutation(
        description="Mail a reset link. The answer is the same, in words and in time, "
        "whether or not the address is known.",
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

    @strawberry.mutation(
        description="Start setting up an authenticator app: a new secret, pending until "
        "`confirmTotp` sees a first code from it or `cancelTotpEnrolment` drops it. Asked "
        "again while one is pending (a reloaded page), it returns the same secret.",
        extensions=[
            authenticated(
                recent_auth=STEP_UP_SECONDS,
                when=_has_second_factor,
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def enrol_totp(self, info: Info) -> TotpEnrolmentPayload:
        enrolment = await two_factor.start_totp_enrolment(info.context.require_actor())
        return TotpEnrolmentPayload(
            secret=enrolment.secret, uri=enrolment.uri, qr_svg=enrolment.qr_svg
        )

    @strawberry.mutation(
        description="Finish the app set-up with a first code; returns recovery codes once "
        "and signs out every other session.",
        extensions=[
            authenticated(
                recent_auth=STEP_UP_SECONDS,
                when=_has_second_factor,
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def confirm_totp(self, info: Info, input: CodeInput) -> RecoveryCodesPayload:
        actor = info.context.require_actor()
        codes = await two_factor.confirm_totp(actor, input.code)
        await _reload_actor(info, actor)
        return RecoveryCodesPayload(recovery_codes=codes, viewer=viewer_of(info))

    @strawberry.mutation(
        description="Drop the pending authenticator secret of `enrolTotp`; the next set-up "
        "starts with a new one. An app already turned on stays on. Nothing pending: no change.",
        extensions=[authenticated(impersonation=False, api_tokens=False)],
    )
    async def cancel_totp_enrolment(self, info: Info) -> OkPayload:
        await two_factor.cancel_totp_enrolment(info.context.require_actor())
        return OkPayload(ok=True)

    @strawberry.mutation(
        description="Turn emailed sign-in codes on or off.",
        extensions=[
            authenticated(
                recent_auth=STEP_UP_SECONDS,
                when=_has_second_factor,
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def set_email_two_factor(self, info: Info, input: EmailTwoFactorInput) -> ViewerPayload:
        actor = info.context.require_actor()
        await two_factor.set_email_two_factor(actor, input.enabled)
        await _reload_actor(info, actor)
        return ViewerPayload(viewer=viewer_of(info))

    @strawberry.mutation(
        description="New recovery codes; the old ones stop working.",
        extensions=[
            authenticated(recent_auth=STEP_UP_SECONDS, impersonation=False, api_tokens=False)
        ],
    )
    async def regenerate_recovery_codes(self, info: Info) -> RecoveryCodesPayload:
        codes = await two_factor.regenerate_recovery_codes(info.context.require_actor())
        return RecoveryCodesPayload(recovery_codes=codes, viewer=viewer_of(info))

    @strawberry.mutation(
        description="Turn every second factor off; other sessions end.",
        extensions=[
            authenticated(recent_auth=STEP_UP_SECONDS, impersonation=False, api_tokens=False)
        ],
    )
    async def disable_two_factor(self, info: Info) -> ViewerPayload:
        actor = info.context.require_actor()
        await two_factor.disable_two_factor(actor)
        await _reload_actor(info, actor)
        return ViewerPayload(viewer=viewer_of(info))
