"""SCIM answers: JSON as `application/scim+json`, and every refusal as a SCIM
Error (RFC 7644 §3.12): its status and, where the RFC has one, its `scimType`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import ValidationError
from scim2_models import (
    Error,
    ForbiddenException,
    InvalidValueException,
    MutabilityException,
    NotFoundException,
    SCIMException,
    UniquenessException,
)
from starlette.requests import Request
from starlette.responses import Response

from server.core.errors import DomainError, ErrorCode
from server.ops import metrics
from server.scim import provisioning

logger = logging.getLogger("frontdesk.scim")

SCIM_JSON = "application/scim+json"
_FORBIDDEN_CODES = frozenset(
    {
        ErrorCode.HIGHER_ROLE,
        ErrorCode.SELF_ACTION,
        ErrorCode.LAST_OWNER,
        ErrorCode.OUT_OF_SCOPE_ROLE,
        ErrorCode.SEAT_LIMIT,
    }
)

Handler = Callable[[Request], Awaitable[Response]]


def scim_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=SCIM_JSON, headers=headers)


def error_response(error: Error) -> Response:
    status = int(error.status or 400)
    headers = {"www-authenticate": 'Bearer realm="scim"'} if status == 401 else None
    return scim_response(error.model_dump(), status, headers)


def _from_domain(error: DomainError) -> SCIMException:
    if isinstance(error, provisioning.Conflict):
        return UniquenessException(detail=error.message)
    if isinstance(error, provisioning.Immutable):
        return MutabilityException(detail=error.message)
    if error.code is ErrorCode.NOT_FOUND:
        return NotFoundException(detail=error.message)
    if error.code in _FORBIDDEN_CODES:
        return ForbiddenException(detail=error.message)
    if error.code in (ErrorCode.ALREADY_MEMBER, ErrorCode.EMAIL_TAKEN, ErrorCode.INVITE_PENDING):
        return UniquenessException(detail=error.message)
    where = f"{error.field}: " if error.field else ""
    return InvalidValueException(detail=f"{where}{error.message}")


def scim_endpoint(handler: Handler) -> Handler:
    """Turns every expected refusal into a SCIM Error response."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except SCIMException as error:
            return error_response(error.to_error())
        except ValidationError as error:
            return error_response(Error.from_validation_errors(error)[0])
        except DomainError as error:
            return error_response(_from_domain(error).to_error())
        except Exception:
            # A fault: logged and counted as RequestGuard would, answered in SCIM's format.
            logger.exception("Unexpected error serving %s %s", request.method, request.url.path)
            metrics.internal_fault()
            return error_response(Error(status=500, detail="Internal error."))

    return endpoint


def list_body(resources: list[dict[str, Any]], *, total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def by_method(handlers: dict[str, Handler]) -> Handler:
    """One path's endpoint: the handler for the request's method, or a SCIM 405."""
    allowed = ", ".join(handlers)

    async def endpoint(request: Request) -> Response:
        handler = handlers.get(request.method)
        if handler is None:
            error = Error(status=405, detail=f"Use {allowed} here.")
            response = error_response(error)
            response.headers["allow"] = allowed
            return response
        return await handler(request)

    return endpoint
