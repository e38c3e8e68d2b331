"""OpenTelemetry traces: a span per HTTP request, per GraphQL operation and per
SQL statement, exported over OTLP (HTTP/protobuf).

Imported only when traces are on (`Settings.tracing`: OpenTelemetry's own
variables, see server/settings.py); otherwise nothing here is loaded and the
request path runs exactly as without it: no middleware, no wrapped method, no
tracer call (tests/ops/test_tracing.py checks, bench/tracing.py measures).

The spans nest as a request's work does:

* the request (a SERVER span of OpenTelemetry's ASGI middleware, placed just
  inside RequestGuard so that the request id is known; named by the route,
  `POST /graphql`), with `frontdesk.request_id`;
* the GraphQL operation (`query Viewer`), with `graphql.operation.name`,
  `graphql.operation.type`, the request id, and status ERROR with
  `graphql.error.codes` when the result carries errors. Authentication runs
  before it, so its statements are the request's children;
* each SQL statement (a CLIENT span per `execute_*` call of a Tortoise client,
  server/ops/statements.py), with `db.system` and `db.statement`: the text
  Tortoise sends, whose values travel apart as parameters, with any quoted
  literal replaced by `?` besides. Statements run outside a traced request
  (the workers' polling) open no span.

Exceptions set ERROR on the span they pass through; so does a 5xx response.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.http import get_excluded_urls
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from server.core.context import current_request_id
from server.core.policy import MASKED_MESSAGE, VALIDATION_FAILED, operation_of
from server.ops.statements import wrap_statements

if TYPE_CHECKING:
    from server.app import FrontdeskGraphQL

logger = logging.getLogger("frontdesk")

DEFAULT_SERVICE_NAME = "frontdesk"
REQUEST_ID = "frontdesk.request_id"
_DB_SYSTEMS = {"postgres": "postgresql", "sqlite": "sqlite"}
# A quoted SQL literal ('' escapes a quote inside one).
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_MAX_STATEMENT = 4096
# Set while a statement's span is open: an execute_* calling another opens one span.
_in_statement: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "frontdesk_in_statement", default=False
)


def provider_from_environment() -> TracerProvider:
    """The SDK's provider as OpenTelemetry's variables describe it (sampler,
    resource, OTLP endpoint, headers, timeout, batch sizes), with the service
    named "frontdesk" unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") != "http/protobuf":
        logger.warning("Traces are sent as OTLP over HTTP/protobuf, whatever the protocol asked")
    named = SERVICE_NAME in OTELResourceDetector().detect().attributes
    resource = Resource.create({} if named else {SERVICE_NAME: DEFAULT_SERVICE_NAME})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # For any other instrumentation in the process (none of ours reads it).
    trace.set_tracer_provider(provider)
    return provider


def statement_text(query: str) -> str:
    """The statement as a span shows it: no quoted literal, at most 4 KiB."""
    if "'" in query:
        query = _LITERAL.sub("?", query)
    return query[:_MAX_STATEMENT]


def error_codes(errors: Sequence[GraphQLError]) -> list[str]:
    """`extensions.code` of each error as the client sees it (the policy masked faults)."""
    codes = []
    for error in errors:
        code = (error.extensions or {}).get("code")
        if not isinstance(code, str):
            code = "INTERNAL" if error.message == MASKED_MESSAGE else VALIDATION_FAILED
        codes.append(code)
    return codes


class Tracing:
    """What one application traces with; `close()` undoes what it wrapped."""

    def __init__(self, provider: TracerProvider, *, owned: bool = False) -> None:
        self.provider = provider
        self.owned = owned  # made from the environment: shut down (flushed) on close
        self.tracer = provider.get_tracer("frontdesk")
        self._unwrap = wrap_statements(self._statement_span)

    # --- the request -----------------------------------------------------------------------

    def middleware(self, routes: Sequence[BaseRoute]) -> Middleware:
        """OpenTelemetry's ASGI middleware: one span per request, none for its
        body's `receive` and `send` calls."""

        def span_details(scope: Scope) -> tuple[str, dict[str, str]]:
            # Named by the route, not the path: /admin/… paths are countless.
            method = scope.get("method", "HTTP")
            for route in routes:
                match, _ = route.matches(scope)
                if match is not Match.NONE:
                    path = getattr(route, "path", "") or scope["path"]
                    return f"{method} {path}", {"http.route": path}
            return method, {}

        def request_hook(span: trace.Span, scope: Scope) -> None:
            if span.is_recording():
                span.set_attribute(REQUEST_ID, scope.get("state", {}).get("request_id", ""))

        return Middleware(
            OpenTelemetryMiddleware,
            tracer_provider=self.provider,
            excluded_urls=get_excluded_urls("ASGI"),
            default_span_details=span_details,
            server_request_hook=request_hook,
            exclude_spans=["receive", "send"],
        )

    # --- the GraphQL operation -------------------------------------------------------------

    def trace_operations(self, endpoint: FrontdeskGraphQL) -> None:
        """Run each of `endpoint`'s operations (either engine) inside a span."""
        execute = endpoint._execute
        documents = endpoint.pipeline.documents
        tracer = self.tracer

        @functools.wraps(execute)
        async def traced(
            query: str,
            variables: dict[str, Any] | None,
            operation_name: str | None,
            extensions: dict[str, Any] | None,
            context: Any,
        ) -> Any:
            try:  # parsed once: the engine finds the document in the same cache
                document = documents.parse(query)
            except GraphQLError:
                document = None
            name, kind = operation_of(document, operation_name)
            attributes = {"graphql.operation.type": kind, REQUEST_ID: current_request_id.get()}
            if name:
                attributes["graphql.operation.name"] = name
            span_name = f"{kind} {name}" if name else kind
            with tracer.start_as_current_span(span_name, attributes=attributes) as span:
                result = await execute(query, variables, operation_name, extensions, context)
                if result.errors:
                    codes = error_codes(result.errors)
                    span.set_attribute("graphql.error.codes", codes)
                    span.set_status(Status(StatusCode.ERROR, codes[0]))
                return result

        setattr(endpoint, "_execute", traced)  # noqa: B010  # an instance attribute shadowing the method

    # --- SQL statements --------------------------------------------------------------------

    def _statement_span(self, execute: Callable[..., Any]) -> Callable[..., Any]:
        tracer = self.tracer

        @functools.wraps(execute)
        async def traced(client: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            if _in_statement.get() or not trace.get_current_span().is_recording():
                return await execute(client, query, *args, **kwargs)
            system = _DB_SYSTEMS.get(client.capabilities.dialect, client.capabilities.dialect)
            verb = query.lstrip().split(None, 1)[0].upper() if query.strip() else system
            attributes = {
                "db.system": system,
                "db.operation": verb,
                "db.statement": statement_text(query),
            }
            token = _in_statement.set(True)
            try:
                with tracer.start_as_current_span(
                    verb, kind=SpanKind.CLIENT, attributes=attributes
                ):
                    return await execute(client, query, *args, **kwargs)
            finally:
                _in_statement.reset(token)

        return traced

    def close(self) -> None:
        """Put Tortoise's methods back; flush and stop the exporter if ours."""
        self._unwrap()
        if self.owned:
            self.provider.shutdown()
