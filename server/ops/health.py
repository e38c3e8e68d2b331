"""Liveness and readiness.

``/healthz``: the process is up and its event loop answers (restart it when
this fails). ``/readyz``: it can serve, i.e. the database answers within
``FRONTDESK_READINESS_TIMEOUT`` seconds (send it no traffic while this fails;
do not restart it: it recovers on its own once the database is back).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise import connections

from server.settings import Settings

logger = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _drop_pooled_connections() -> None:
    """Make the pool replace every connection it holds (asyncpg): after a
    database restart they are all dead, and new ones are opened on demand."""
    try:
        client = connections.get("default")
        expire = getattr(client, "_expire_connections", None)
        if expire is not None:
            await expire()
    except Exception:  # noqa: BLE001 - best effort; the next check tries again
        logger.debug("Could not expire pooled connections", exc_info=True)


async def database_problem(timeout: float) -> str | None:  # noqa: ASYNC109
    """None when ``SELECT 1`` succeeds in time, else a short reason."""
    try:
        client = connections.get("default")
        await asyncio.wait_for(client.execute_query("SELECT 1"), timeout)
    except TimeoutError:
        reason = f"database did not answer within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        reason = f"database unreachable ({type(exc).__name__})"
    else:
        return None
    await _drop_pooled_connections()
    return reason


def readyz_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def readyz(request: Request) -> Response:
        problem = await database_problem(settings.readiness_timeout_seconds)
        if problem is not None:
            logger.warning("Not ready: %s", problem)
            return JSONResponse(
                {"status": "unavailable", "checks": {"database": "error"}, "reason": problem},
                status_code=503,
                headers={"cache-control": "no-store", "retry-after": "5"},
            )
        return JSONResponse(
            {"status": "ok", "checks": {"database": "ok"}},
            headers={"cache-control": "no-store"},
        )

    return readyz
