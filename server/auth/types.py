"""GraphQL types of signing in: the viewer, sessions, challenges, two-factor state."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from strawberry import relay

from server.accounts.types import MembershipNode, UserNode
from server.api_tokens.schema import ApiTokenNode
from server.auth.actor import actor_for
from server.auth.models import RecoveryCode, Session
from server.auth.two_factor import TwoFactorMethod, methods_of
from server.core import clock
from server.core.context import Info
from server.core.nodes import node_of
from server.tenancy.models import Organisation
from server.tenancy.refs import OrganisationRef


@strawberry.enum(description="How a new session reaches the client.")
class SessionDelivery(Enum):
    TOKEN = strawberry.enum_value(
        "TOKEN", description="In the payload, for `Authorization: Bearer`."
    )
    COOKIE = strawberry.enum_value(
        "COOKIE", description="As an HttpOnly, Secure, SameSite cookie (the admin SPA)."
    )


@strawberry.type(description="The viewer's second factors.")
class TwoFactorStatus:
    totp_enabled: bool
    email_enabled: bool
    methods: list[TwoFactorMethod]
    recovery_codes_left: int


@strawberry.type(name="Session", description="One signed-in browser or API client of the viewer.")
@node_of(Session)
class SessionType(relay.Node):
    id: relay.NodeID[int]
    created_at: datetime
    last_seen_at: datetime
    authenticated_at: datetime = strawberry.field(
        description="Last password (and code) check: log-in or re-authentication."
    )
    expires_at: datetime
    client_ip: str
    user_agent: str

    @strawberry.field(description="This is the session making the request.")
    def current(self, info: Info) -> bool:
        actor = info.context.actor
        return bool(actor and actor.session and actor.session.id == self.id)


if TYPE_CHECKING:
    SessionNode: TypeAlias = Session  # the value is the row (core/nodes.py)
else:
    SessionNode = SessionType


@strawberry.type(description="Who is acting as the viewer, and until when.")
class Impersonation:
    impersonator_email: str
    impersonator_name: str
    reason: str
    started_at: datetime
    expires_at: datetime
    organisation_id: strawberry.Private[int | None]

    @strawberry.field(description="Where the portal was opened.")
    async def organisation(self, info: Info) -> OrganisationRef | None:
        if self.organisation_id is None:
            return None
        return await info.context.loaders.by_id(Organisation).load(self.organisation_id)


def impersonation_of(info: Info) -> Impersonation | None:
    actor = info.context.actor
    if actor is None or actor.impersonator is None or actor.session is None:
        return None
    return Impersonation(
        impersonator_email=actor.impersonator.email,
        impersonator_name=actor.impersonator.display_name,
        reason=actor.session.impersonation_reason,
        started_at=actor.session.created_at,
        expires_at=actor.session.expires_at,
        organisation_id=actor.session.impersonation_organisation_id,
    )


@strawberry.type(description="The signed-in person and what they may do.")
class Viewer:
    user: UserNode = strawberry.field(
        description="The person: signed in, acted as, or, for an API token, its creator "
        "(then only their id, email and names: the rest belongs to the person)."
    )
    must_change_password: bool = strawberry.field(
        description="Until the password is changed, no organisation can be used."
    )
    session_expires_at: datetime | None
    impersonation: Impersonation | None = strawberry.field(
        description="Set while an administrator acts as the viewer: for a banner with a Stop button."
    )

    @strawberry.field(
        description='The language the person chose for mails and the admin app ("en", '
        "\"de\"), or null: then their organisation's default, then the browser's."
    )
    def language(self) -> str | None:
        return self.user.language

    @strawberry.field(description="The API token making this request, when one is.")
    def api_token(self, info: Info) -> ApiTokenNode | None:
        return info.context.require_actor().api_token

    @strawberry.field(
        description="Usable memberships (active, in active organisations); "
        "`organisation.viewerPermissions` gives the effective permissions there."
    )
    def memberships(self, info: Info) -> list[MembershipNode]:
        return info.context.require_actor().reachable_memberships

    @strawberry.field(
        description="Memberships whose organisation requires a second factor this session "
        "lacks: enrol (or sign in with the app) to use them."
    )
    def awaiting_two_factor(self, info: Info) -> list[MembershipNode]:
        return info.context.require_actor().awaiting_two_factor

    @strawberry.field
    async def two_factor(self, info: Info) -> TwoFactorStatus:
        user = info.context.require_actor().user
        left = await RecoveryCode.filter(user_id=user.id, used_at=None).count()
        return TwoFactorStatus(
            totp_enabled=user.has_totp,
            email_enabled=user.email_two_factor,
            methods=methods_of(user),
            recovery_codes_left=left,
        )


# What an operation may select and still run without the actor's memberships:
# who is signed in, nothing about where they may act (core/pipeline.py).
IDENTITY_FIELDS = frozenset(
    {
        "Query.viewer",
        "Viewer.user",
        "Viewer.mustChangePassword",
        "Viewer.sessionExpiresAt",
        *(
            f"User.{name}"
            for name in (
                "id",
                "email",
                "firstName",
                "lastName",
                "displayName",
                "title",
                "officePhone",
                "mobilePhone",
                "fax",
                "status",
                "lastLoginAt",
                "createdAt",
                "twoFactorEnabled",
            )
        ),
    }
)


def viewer_of(info: Info) -> Viewer | None:
    actor = info.context.actor
    if actor is None:
        return None
    return Viewer(
        user=actor.user if actor.personal else actor.user.as_named_only(),
        must_change_password=actor.user.must_change_password,
        session_expires_at=actor.session.expires_at if actor.session else None,
        impersonation=impersonation_of(info),
    )


async def sign_in(
    info: Info,
    raw: str,
    session: Session,
    delivery: SessionDelivery,
    *,
    impersonation: bool = False,
) -> str | None:
    """Make `session` this request's, and deliver it: a cookie (an impersonation
    gets its own, beside the administrator's), or the token handed back for a
    Bearer header."""
    info.context.actor = await actor_for(session, info.context.meta)
    info.context.session_token = raw
    if delivery is SessionDelivery.TOKEN:
        return raw
    settings = info.context.settings
    # An impersonation cookie lives exactly as long as its session: the browser
    # drops it at expiry and the administrator's own cookie counts again.
    lifetime = (
        max(0, int((session.expires_at - clock.now()).total_seconds()))
        if impersonation
        else settings.session_absolute_hours * 3600
    )
    info.context.response.set_cookie(
        settings.impersonation_cookie_name if impersonation else settings.session_cookie_name,
        raw,
        max_age=lifetime,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return None


@strawberry.type(description="The second step of a log-in: prove a second factor.")
class LoginChallengeType:
    token: str = strawberry.field(description="Pass it to `verifyTwoFactor`. Valid 5 minutes.")
    expires_at: datetime
    methods: list[TwoFactorMethod]
