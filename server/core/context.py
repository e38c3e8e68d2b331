"""The typed per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from server.core.actor import Actor, RequestMeta
from server.core.errors import Unauthenticated
from server.core.loaders import Loaders
from server.settings import Settings

# For log lines written far from the request (masked errors).
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")


@dataclass
class Context:
    request: Request
    response: Response
    settings: Settings
    meta: RequestMeta
    actor: Actor | None = None
    # The raw session token of this request (for logout), and how it came.
    session_token: str | None = None
    via_cookie: bool = False
    loaders: Loaders = field(default_factory=Loaders)
    # What field guards loaded and checked, by the field's path (core/guard.py).
    checked: dict[tuple[str | int, ...], Any] = field(default_factory=dict)

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise Unauthenticated()
        return self.actor

    async def load_actor(self) -> None:
        """The actor's memberships, before the fields that check them. Their
        organisations came with them: a field naming one of them (an admin's
        own organisation, the usual case) finds it loaded."""
        if self.actor is None:
            return
        await self.actor.load_memberships()
        organisations = self.loaders.organisation
        for membership in self.actor.memberships:
            organisations.prime(membership.organisation_id, membership.organisation)


Info = StrawberryInfo[Context, None]
