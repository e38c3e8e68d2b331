"""The baselines: hand-written Starlette + Tortoise JSON endpoints returning
the same data as the GraphQL queries, from the same database, with the same
session lookup. Bench-only; never mounted in the real app.

    uvicorn bench.baseline:create_app --factory
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.relay import GlobalID

from server import db
from server.accounts.models import Membership
from server.auth.actor import actor_from_token
from server.auth.sessions import find_session
from server.core.actor import RequestMeta
from server.core.permissions import Permission
from server.settings import get_settings
from server.tenancy.models import Organisation


def _json(data: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _gid(type_name: str, pk: int) -> str:
    return str(GlobalID(type_name, str(pk)))


async def viewer(request: Request) -> Response:
    """`{ viewer { user { id email } } }`: the session lookup, then the user."""
    await request.body()
    token = _bearer(request)
    session = await find_session(token) if token else None
    if session is None:
        return _json({"data": {"viewer": None}})
    user = session.user
    return _json({"data": {"viewer": {"user": {"id": _gid("User", user.id), "email": user.email}}}})


async def viewer_with_actor(request: Request) -> Response:
    """The same answer, authenticated exactly as the GraphQL server does it: the
    session and the actor's usable memberships (what every permission check needs)."""
    await request.body()
    token = _bearer(request)
    meta = RequestMeta(client_ip=request.client.host if request.client else "")
    actor = await actor_from_token(token, meta) if token else None
    if actor is None:
        return _json({"data": {"viewer": None}})
    user = actor.user
    return _json({"data": {"viewer": {"user": {"id": _gid("User", user.id), "email": user.email}}}})


async def members(request: Request) -> Response:
    """A page of an organisation's members with their user, organisation and
    role, after the same authentication and permission check."""
    body = orjson.loads(await request.body())
    token = _bearer(request)
    meta = RequestMeta(client_ip=request.client.host if request.client else "")
    actor = await actor_from_token(token, meta) if token else None
    if actor is None:
        return _json({"error": "unauthenticated"}, 401)
    organisation = await Organisation.get_or_none(id=int(body["org"]))
    if organisation is None or not actor.can(Permission.MEMBERS_VIEW, organisation):
        return _json({"error": "not found"}, 404)
    members = Membership.filter(organisation_id=organisation.id)
    total = await members.count()
    rows = (
        await members.order_by("id")
        .limit(int(body["first"]))
        .select_related("user", "organisation")
    )
    nodes = [
        {
            "id": _gid("Membership", m.id),
            "role": m.role.value,
            "user": {"id": _gid("User", m.user.id), "email": m.user.email},
            "organisation": {
                "id": _gid("Organisation", m.organisation.id),
                "name": m.organisation.name,
            },
        }
        for m in rows
    ]
    return _json({"data": {"members": {"totalCount": total, "nodes": nodes}}})


def create_app() -> Starlette:
    settings = get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.init_db(settings.database_url)
        try:
            yield
        finally:
            await db.close_db()

    return Starlette(
        routes=[
            Route("/viewer", viewer, methods=["POST"]),
            Route("/viewer-with-actor", viewer_with_actor, methods=["POST"]),
            Route("/members", members, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
