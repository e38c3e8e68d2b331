"""Who a request's credential belongs to, as an `Actor` (loaded once per request):
a person's session, an impersonation session, or an API token."""

from __future__ import annotations

from server.accounts.models import Membership, User, usable_memberships
from server.api_tokens.service import TOKEN_PREFIX, actor_for_api_token
from server.auth.models import Session
from server.auth.sessions import find_session
from server.core.actor import Actor, RequestMeta
from server.core.principals import Impersonation, PersonSession, Principal


def satisfies_two_factor_policy(membership: Membership, second_factor: str | None) -> bool:
    """Does a session signed in with `second_factor` meet the organisation's policy?"""
    organisation = membership.organisation
    if second_factor == "email" and not organisation.allow_email_codes:
        second_factor = None
    if organisation.require_two_factor and second_factor is None:
        return False
    admin = membership.role.administers
    if organisation.require_passkeys_for_admins and admin and second_factor != "passkey":
        return False  # phishing-resistant: nothing but a passkey
    return not (
        organisation.require_totp_for_admins
        and admin
        and second_factor not in ("totp", "recovery", "passkey")
    )


async def actor_for(session: Session, meta: RequestMeta, *, lazy: bool = False) -> Actor:
    """The actor of a live session. Until a required password change is done,
    the user can use no organisation at all; memberships whose organisation
    wants a second factor this session lacks wait for it. `lazy` leaves the
    memberships to `Actor.load_memberships` (the GraphQL pipeline's call)."""
    user = session.user if isinstance(session.user, User) else await User.get(id=session.user_id)
    impersonator = None
    if session.impersonator_id is not None:
        impersonator = (
            session.impersonator
            if isinstance(session.impersonator, User)
            else await User.get(id=session.impersonator_id)
        )

    async def load() -> tuple[list[Membership], list[Membership]]:
        memberships = [] if user.must_change_password else await usable_memberships(user.id)
        if impersonator is not None:
            # An impersonation reaches only the subtree the administrator's right covers.
            memberships = [
                m for m in memberships if m.organisation.is_within(session.impersonation_scope)
            ]
        usable: list[Membership] = []
        waiting: list[Membership] = []
        for membership in memberships:
            ok = satisfies_two_factor_policy(membership, session.second_factor)
            (usable if ok else waiting).append(membership)
        return usable, waiting

    principal: Principal = (
        PersonSession(session) if impersonator is None else Impersonation(session, impersonator)
    )
    actor = Actor(user=user, principal=principal, load=load, meta=meta)
    return actor if lazy else await actor.load_memberships()


async def actor_from_token(
    raw: str, meta: RequestMeta, *, lazy: bool = False, sessions_only: bool = False
) -> Actor | None:
    """The actor of a session or API token; `sessions_only` (cookies) refuses API
    tokens, which are never session credentials."""
    if raw.startswith(TOKEN_PREFIX):
        if sessions_only:
            return None
        actor: Actor | None = await actor_for_api_token(raw, meta)
    else:
        session = await find_session(raw)
        actor = await actor_for(session, meta, lazy=True) if session is not None else None
    if actor is None or lazy:
        return actor
    return await actor.load_memberships()
