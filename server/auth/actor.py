"""Who a request's session belongs to, as an `Actor` (loaded once per request)."""

from __future__ import annotations

from server.accounts.models import User
from server.accounts.service import usable_memberships
from server.auth.models import Session
from server.auth.sessions import find_session
from server.core.actor import Actor, RequestMeta


async def actor_for(session: Session, meta: RequestMeta) -> Actor:
    """The actor of a live session. Until a required password change is done,
    the user can use no organisation at all."""
    user = session.user if isinstance(session.user, User) else await User.get(id=session.user_id)
    memberships = [] if user.must_change_password else await usable_memberships(user.id)
    return Actor(user=user, memberships=memberships, session=session, meta=meta)


async def actor_from_token(raw: str, meta: RequestMeta) -> Actor | None:
    session = await find_session(raw)
    return await actor_for(session, meta) if session is not None else None
