"""`GET /audit/export.csv`: the audit trail as a download, guarded like `auditEvents`.

The SPA links to it (the cookie counts on this read-only GET), and API
clients send their bearer token. Rows stream in pages, so a large trail
never sits in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from server.audit.models import AuditEvent
from server.audit.refs import global_id
from server.audit.schema import audit_filter
from server.audit.service import events_visible_to
from server.audit.summaries import reader_language, summarise
from server.core.actor import Decision
from server.core.errors import DomainError, ErrorCode
from server.core.guard import decode_id
from server.core.permissions import Permission
from server.http import actor_of
from server.settings import get_settings
from server.tenancy.models import Organisation

COLUMNS = [
    "id",
    "created_at",
    "organisation_id",
    "action",
    "summary",
    "actor_id",
    "actor",
    "impersonator",
    "api_token_id",
    "api_token",
    "target_type",
    "target_id",
    "target",
    "client_ip",
    "request_id",
    "details",
]
_PAGE = 500
# A cell a spreadsheet would run as a formula is prefixed with a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _id(type_name: str, pk: int | None) -> str | None:
    # Ids are global ids, the ones `node(id:)` and the API's arguments take.
    return global_id(type_name, pk) if pk is not None and type_name else None


def _row(event: AuditEvent, language: str) -> list[str]:
    return [
        _cell(v)
        for v in (
            _id("AuditEvent", event.id),
            event.created_at.isoformat(),
            _id("Organisation", event.organisation_id),
            event.action,
            summarise(event, language),
            _id("User", event.actor_id),
            event.actor_label,
            event.impersonator_label,
            _id("ApiToken", event.api_token_id),
            event.api_token_label,
            event.target_type,
            _id(event.target_type, event.target_id),
            event.target_label,
            event.client_ip,
            event.request_id,
            orjson.dumps(event.details).decode(),
        )
    ]


def _datetime(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise DomainError(ErrorCode.INVALID, "Use an ISO 8601 date and time.", field) from None


async def export_csv(request: Request) -> Response:
    actor = await actor_of(request, get_settings(), navigation=True)
    if actor is None:
        return PlainTextResponse("Sign in first.", status_code=401)
    params = request.query_params
    try:
        organisation = await Organisation.get_or_none(
            id=decode_id(params.get("organisationId", ""), "Organisation", "organisationId")
        )
        # The same decision as the `auditEvents` field's guard.
        if organisation is None:
            return PlainTextResponse("Not found.", status_code=404)
        decision = actor.decide(Permission.AUDIT_VIEW, organisation)
        if decision is Decision.HIDDEN:
            return PlainTextResponse("Not found.", status_code=404)
        if decision is Decision.FORBIDDEN:
            return PlainTextResponse("You do not have permission to do this.", status_code=403)
        events = await events_visible_to(
            actor,
            organisation=organisation,
            filters=audit_filter(
                include_descendants=params.get("includeDescendants") in ("true", "1"),
                action=params.get("action"),
                actor_id=params.get("actorId"),
                target_id=params.get("targetId"),
                since=_datetime(params.get("since"), "since"),
                until=_datetime(params.get("until"), "until"),
                search=params.get("search"),
            ),
        )
    except DomainError as error:
        status = 404 if error.code is ErrorCode.NOT_FOUND else 400
        return PlainTextResponse(error.message, status_code=status)

    language = reader_language(actor, request.headers.get("accept-language"))

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        # Newest first, like the list; keyset pages going back in time.
        last_id: int | None = None
        while True:
            older = events if last_id is None else events.filter(id__lt=last_id)
            page = await older.order_by("-id").limit(_PAGE)
            for event in page:
                writer.writerow(_row(event, language))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(page) < _PAGE:
                return
            last_id = page[-1].id

    filename = f"audit-{organisation.id}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
