"""The provider's endpoints (Starlette routes): discovery, JWKS, and the code
flow (server/oidc/flow.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server.oidc import keys
from server.oidc.discovery import configuration
from server.settings import Settings

# Relying parties cache these: an hour, and a rotated key is announced long before it signs alone.
_PUBLIC_CACHE = {"cache-control": "public, max-age=300"}


def oidc_routes(settings: Settings) -> list[BaseRoute]:
    async def discovery(request: Request) -> Response:
        return JSONResponse(configuration(settings), headers=_PUBLIC_CACHE)

    async def jwks(request: Request) -> Response:
        return JSONResponse(
            await keys.jwks(),
            media_type="application/jwk-set+json",
            headers=_PUBLIC_CACHE,
        )

    return [
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/oidc/jwks", jwks, methods=["GET"]),
    ]
