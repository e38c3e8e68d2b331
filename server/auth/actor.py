"""Who a request's session belongs to, as an `Actor` (loaded once per request)."""

from __future__ import annotations

from server.accounts.models import Membership, User, usable_memberships
from server.api_tokens.service import TOKEN_PREFIX, actor_for_api_token
from server.auth.models import Session
from server.auth.sessions import find_session
from server.core.actor import Actor, RequestMeta
from server.core.permissions import Role


def satisfies_two_factor_policy(membership: Membership, second_factor: str | None) -> bool:
    """Does a session signed in with `second_factor` meet the organisation's policy?"""
    organisation = membership.organisation
    if second_factor == "email" and not organisation.allow_email_codes:
        second_factor = None
    if organisation.require_two_factor and second_factor is None:
        return False
    admin = membership.role.rank >= Role.ADMIN.rank
    return not (
        organisation.require_totp_for_admins and admin and second_factor not in ("totp", "recovery")
    )


async def actor_for(session: Session, meta: RequestMeta) -> Actor:
    """The actor of a live session. Until a required password change is done,
    the user can use no organisation at all; memberships whose organisation
    wants a second factor this session lacks wait for it."""
    user = session.user if isinstance(session.user, User) else await User.get(id=session.user_id)
    memberships = [] if user.must_change_password else await usable_memberships(user.id)
    impersonator = None
    if session.impersonator_id is not None:
        impersonator = (
            session.impersonator
            if isinstance(session.impersonator, User)
            else await User.get(id=session.impersonator_id)
        )
        # An impersonation reaches only the subtree the administrator's right covers.
        memberships = [
            m for m in memberships if m.organisation.is_within(session.impersonation_scope)
        ]
    usable, waiting = [], []
    for membership in memberships:
        ok = satisfies_two_factor_policy(membership, session.second_factor)
        (usable if ok else waiting).append(membership)
    return Actor(
        user=user,
        memberships=usable,
        session=session,
        meta=meta,
        awaiting_two_factor=waiting,
        impersonator=impersonator,
    )


async def actor_from_token(raw: str, meta: RequestMeta) -> Actor | None:
    if raw.startswith(TOKEN_PREFIX):
        return await actor_for_api_token(raw, meta)
    session = await find_session(raw)
    return await actor_for(session, meta) if session is not None else None
