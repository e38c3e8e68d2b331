"""Server-side sessions: opaque random tokens, only their SHA-256 stored,
with idle and absolute timeouts. Deleting the row ends the session at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from server.accounts.models import User, UserStatus
from server.auth.models import Session
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.prepared import PreparedSelect
from server.core.tokens import hash_token, new_token
from server.settings import get_settings

SESSION_PREFIX = "fds_"
# Write last_seen_at at most this often: a write per request would cost more than it tells.
_TOUCH_EVERY = timedelta(seconds=60)
# Every request looks its session up: the SQL is built once (server/core/prepared.py).
_BY_TOKEN_HASH = PreparedSelect(
    Session,
    lambda token_hash: Session.filter(token_hash=token_hash).select_related("user", "impersonator"),
)


async def create_session(
    user: User, meta: RequestMeta, *, second_factor: str | None = None
) -> tuple[str, Session]:
    """A new session (a new token at every log-in and re-authentication)."""
    settings = get_settings()
    raw, digest = new_token(SESSION_PREFIX)
    now = clock.now()
    session = await Session.create(
        token_hash=digest,
        user=user,
        created_at=now,
        last_seen_at=now,
        authenticated_at=now,
        second_factor=second_factor,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        client_ip=meta.client_ip[:64],
        user_agent=meta.user_agent[:255],
    )
    return raw, session


async def find_session(raw: str) -> Session | None:
    """The live session for a token (its user loaded), or None."""
    found = await _BY_TOKEN_HASH.fetch(hash_token(raw))
    if not found:
        return None
    session = found[0]
    now = clock.now()
    idle_limit = session.last_seen_at + timedelta(minutes=get_settings().session_idle_minutes)
    impersonator = session.impersonator if session.impersonator_id is not None else None
    if (
        now >= session.expires_at
        or now >= idle_limit
        or session.user.status is not UserStatus.ACTIVE
        or (impersonator is not None and impersonator.status is not UserStatus.ACTIVE)
    ):
        if impersonator is None:
            await session.delete()
        # An impersonation is left to the sweep (impersonation/service.py), which
        # ends it once and tells the member: nothing here may send that mail twice.
        return None
    if now - session.last_seen_at >= _TOUCH_EVERY:
        session.last_seen_at = now
        await Session.filter(id=session.id).update(last_seen_at=now)
    return session


async def live_sessions(user_id: int) -> list[Session]:
    """The user's sessions that have not timed out, most recently used first."""
    now = clock.now()
    idle_since = now - timedelta(minutes=get_settings().session_idle_minutes)
    return await Session.filter(
        user_id=user_id, expires_at__gt=now, last_seen_at__gt=idle_since
    ).order_by("-last_seen_at", "-id")


async def end_session(raw: str) -> None:
    await Session.filter(token_hash=hash_token(raw)).delete()


async def end_sessions(user_id: int, *, except_session_id: int | None = None) -> None:
    """End the user's sessions. Impersonations of them expire at once instead: the
    sweep ends those and mails the member what was done (impersonation/service.py)."""
    sessions = Session.filter(user_id=user_id)
    if except_session_id is not None:
        sessions = sessions.exclude(id=except_session_id)
    await sessions.filter(impersonator_id__isnull=False).update(expires_at=clock.now())
    await sessions.filter(impersonator_id__isnull=True).delete()


# How an impersonation ends (stopped, signed out): impersonation/ registers it,
# as it stands above auth/ in the layers.
ImpersonationEnd = Callable[[Actor, str], Awaitable[None]]
_impersonation_end: list[ImpersonationEnd] = []


def on_impersonation_end(handler: ImpersonationEnd) -> None:
    _impersonation_end[:] = [handler]


async def end_impersonation(actor: Actor, how: str) -> None:
    """End the impersonation `actor` runs in (`how`: "stopped" or "signedOut")."""
    for handler in _impersonation_end:
        await handler(actor, how)
