"""Passkeys in GraphQL: the viewer's list, registering, renaming and removing
them, and signing in, the second step and step-up with one
(server/auth/passkeys.py). Options go out and answers come back as the JSON
of WebAuthn's `PublicKeyCredential*Options` and `PublicKeyCredential.toJSON()`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
from strawberry import relay

from server.auth import passkeys
from server.auth.actor import actor_for
from server.auth.models import Passkey
from server.auth.schema import LoginPayload, ReauthenticatePayload, ViewerPayload
from server.auth.schema import _remember_device as remember_device
from server.auth.types import SessionDelivery, sign_in, viewer_of
from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import STEP_UP_SECONDS, authenticated, decode_id, public
from server.core.nodes import node_of


@strawberry.type(name="Passkey", description="One of the viewer's passkeys.")
@node_of(Passkey)
class PasskeyType(relay.Node):
    id: relay.NodeID[int]
    name: str
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="Its last sign-in, second step or confirmation; null: never used."
    )

    @strawberry.field(description='How the browser reaches it ("internal", "hybrid", "usb"…).')
    @staticmethod
    def transports(row: strawberry.Parent[Passkey]) -> list[str]:
        return [t for t in row.transports.split(",") if t]


if TYPE_CHECKING:
    PasskeyNode: TypeAlias = Passkey  # the value is the row (core/nodes.py)
else:
    PasskeyNode = PasskeyType


@strawberry.type
class PasskeyOptionsPayload(Payload):
    options: str | None = strawberry.field(
        default=None,
        description="JSON for `navigator.credentials.create()` / `.get()` (binary values "
        "base64url, as `PublicKeyCredential.parseCreationOptionsFromJSON` reads them). "
        "Its challenge works once, for 5 minutes.",
    )


@strawberry.input
class FinishPasskeyRegistrationInput:
    response: str = strawberry.field(
        description="The new credential as JSON (`PublicKeyCredential.toJSON()`)."
    )
    name: str | None = strawberry.field(
        default=None, description='Up to 100 characters; default "Passkey N".'
    )


@strawberry.type
class PasskeyPayload(Payload):
    passkey: PasskeyNode | None = None


@strawberry.input
class RenamePasskeyInput:
    passkey_id: strawberry.ID
    name: str


@strawberry.input
class PasskeyInput:
    passkey_id: strawberry.ID


@strawberry.input
class SignInWithPasskeyInput:
    response: str = strawberry.field(
        description="The browser's answer as JSON (`PublicKeyCredential.toJSON()`)."
    )
    session: SessionDelivery = SessionDelivery.TOKEN


@strawberry.input
class PasskeyChallengeInput:
    challenge: str = strawberry.field(description="The log-in's challenge token.")


@strawberry.input
class VerifyTwoFactorPasskeyInput:
    challenge: str = strawberry.field(description="The log-in's challenge token.")
    response: str = strawberry.field(
        description="The browser's answer as JSON (`PublicKeyCredential.toJSON()`)."
    )
    session: SessionDelivery = SessionDelivery.TOKEN


@strawberry.input
class PasskeyResponseInput:
    response: str = strawberry.field(
        description="The browser's answer as JSON (`PublicKeyCredential.toJSON()`)."
    )


def _device_cookie(info: Info) -> str | None:
    return info.context.request.cookies.get(info.context.settings.device_cookie_name)


def _has_second_factor(info: Info, arguments: dict[str, Any]) -> bool:
    # A first factor needs no step-up; adding one beside others does (as for an app).
    return info.context.require_actor().user.has_second_factor


@strawberry.type
class Query:
    @strawberry.field(
        description="The viewer's passkeys, oldest first.",
        extensions=[authenticated(impersonation=False, api_tokens=False)],
    )
    async def passkeys(self, info: Info) -> list[PasskeyNode]:
        return await passkeys.passkeys_of(info.context.require_actor().user.id)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Start registering a passkey: the options for `navigator.credentials.create()`.",
        extensions=[
            authenticated(
                recent_auth=STEP_UP_SECONDS,
                when=_has_second_factor,
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def begin_passkey_registration(self, info: Info) -> PasskeyOptionsPayload:
        options = await passkeys.begin_registration(info.context.require_actor())
        return PasskeyOptionsPayload(options=options)

    @strawberry.mutation(
        description="Keep the passkey the browser made; the person is mailed, their other "
        "sessions end and this one counts as signed in with a passkey.",
        extensions=[
            authenticated(
                recent_auth=STEP_UP_SECONDS,
                when=_has_second_factor,
                impersonation=False,
                api_tokens=False,
            )
        ],
    )
    async def finish_passkey_registration(
        self, info: Info, input: FinishPasskeyRegistrationInput
    ) -> PasskeyPayload:
        actor = info.context.require_actor()
        passkey = await passkeys.finish_registration(actor, input.response, input.name)
        await _reload_actor(info)
        return PasskeyPayload(passkey=passkey)

    @strawberry.mutation(
        description="Rename one of the viewer's passkeys.",
        extensions=[authenticated(impersonation=False, api_tokens=False)],
    )
    async def rename_passkey(self, info: Info, input: RenamePasskeyInput) -> PasskeyPayload:
        passkey = await passkeys.rename(
            info.context.require_actor(),
            decode_id(input.passkey_id, "Passkey", "passkeyId"),
            input.name,
        )
        return PasskeyPayload(passkey=passkey)

    @strawberry.mutation(
        description="Remove one of the viewer's passkeys; other sessions end.",
        extensions=[
            authenticated(recent_auth=STEP_UP_SECONDS, impersonation=False, api_tokens=False)
        ],
    )
    async def remove_passkey(self, info: Info, input: PasskeyInput) -> ViewerPayload:
        await passkeys.remove(
            info.context.require_actor(), decode_id(input.passkey_id, "Passkey", "passkeyId")
        )
        await _reload_actor(info)
        return ViewerPayload(viewer=viewer_of(info))

    @strawberry.mutation(
        description="Start a sign-in without a password: the options for "
        "`navigator.credentials.get()` (any passkey of this site may answer).",
        extensions=[public()],
    )
    async def begin_passkey_sign_in(self, info: Info) -> PasskeyOptionsPayload:
        return PasskeyOptionsPayload(options=await passkeys.begin_sign_in())

    @strawberry.mutation(
        description="Sign in with a passkey alone (it must check who holds it). Throttled "
        "as a sign-in with a password; refused answers all get the same error.",
        extensions=[public()],
    )
    async def sign_in_with_passkey(self, info: Info, input: SignInWithPasskeyInput) -> LoginPayload:
        raw, session, device = await passkeys.sign_in(
            input.response, info.context.meta, device_cookie=_device_cookie(info)
        )
        token = await sign_in(info, raw, session, input.session)
        remember_device(info, input.session, device)
        return LoginPayload(token=token, viewer=viewer_of(info))

    @strawberry.mutation(
        description="The second step of a log-in with a passkey: the options for "
        "`navigator.credentials.get()` (the person's passkeys).",
        extensions=[public()],
    )
    async def begin_passkey_two_factor(
        self, info: Info, input: PasskeyChallengeInput
    ) -> PasskeyOptionsPayload:
        return PasskeyOptionsPayload(options=await passkeys.begin_second_factor(input.challenge))

    @strawberry.mutation(
        description="Complete a log-in with a passkey. A refused answer counts as a wrong code.",
        extensions=[public()],
    )
    async def verify_two_factor_passkey(
        self, info: Info, input: VerifyTwoFactorPasskeyInput
    ) -> LoginPayload:
        raw, session, device = await passkeys.verify_second_factor(
            input.challenge, input.response, info.context.meta, device_cookie=_device_cookie(info)
        )
        token = await sign_in(info, raw, session, input.session)
        remember_device(info, input.session, device)
        return LoginPayload(token=token, viewer=viewer_of(info))

    @strawberry.mutation(
        description="Start confirming it is you with a passkey (step-up): the options for "
        "`navigator.credentials.get()`.",
        extensions=[authenticated(impersonation=False, api_tokens=False)],
    )
    async def begin_passkey_reauthentication(self, info: Info) -> PasskeyOptionsPayload:
        options = await passkeys.begin_reauthentication(info.context.require_actor())
        return PasskeyOptionsPayload(options=options)

    @strawberry.mutation(
        description="Confirm it is you with a passkey, for actions that need a recent "
        "sign-in. Opens a fresh session in place of this one.",
        extensions=[authenticated(impersonation=False, api_tokens=False)],
    )
    async def reauthenticate_with_passkey(
        self, info: Info, input: PasskeyResponseInput
    ) -> ReauthenticatePayload:
        raw, session = await passkeys.reauthenticate(info.context.require_actor(), input.response)
        token = await sign_in(info, raw, session, _delivery(info))
        return ReauthenticatePayload(token=token, viewer=viewer_of(info))


def _delivery(info: Info) -> SessionDelivery:
    return SessionDelivery.COOKIE if info.context.via_cookie else SessionDelivery.TOKEN


async def _reload_actor(info: Info) -> None:
    actor = info.context.require_actor()
    assert actor.session is not None  # these fields refuse tokens and impersonations
    info.context.actor = await actor_for(actor.session, info.context.meta)
