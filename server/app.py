"""The ASGI application: /graphql, SCIM under /scim/v2/, the OpenID Connect provider
(/.well-known/openid-configuration, /oidc/…), the admin SPA under /admin/,
/healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import HTTPException as StrawberryHTTPException
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types import ExecutionResult

from server import db, trusted_documents
from server.admin_assets import index_response, versioned_endpoint
from server.admin_locale import catalogue_endpoint
from server.audit.export import export_csv
from server.core.context import Context, current_request_id
from server.core.pipeline import OperationNotFound
from server.core.policy import MASKED_MESSAGE
from server.http import authenticate, request_meta
from server.oidc.http import OIDC_PATHS, oidc_routes
from server.ops import metrics
from server.ops.health import healthz, readyz_endpoint
from server.ops.logs import log_line
from server.schema import build_pipeline, build_schema
from server.scim.http import scim_routes
from server.settings import Settings, get_settings
from server.workers import run_workers

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from server.ops.tracing import Tracing

logger = logging.getLogger("frontdesk")
access_logger = logging.getLogger("frontdesk.access")
# Probes and scrapes are logged at DEBUG only (unless they fail): they come every few seconds.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "admin"
# Images from any https:// address: a reseller's logo lives on its own site.
_ADMIN_CSP = (
    b"default-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'; "
    b"base-uri 'none'; form-action 'self'; object-src 'none'"
)
# Request ids: unique per process by a counter, across processes by a random
# prefix (reading the system's random source per request is not free).
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count(1)
# The request headers RequestGuard reads.
_GUARDED_HEADERS = frozenset({b"x-request-id", b"content-length", b"content-type", b"accept"})
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


# extensions.code of the requests refused before any GraphQL ran, by HTTP status.
_REFUSAL_CODES = {
    400: "BAD_REQUEST",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
# GraphQL over HTTP's own media type, and the one older clients know.
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_MEANS_JSON = frozenset({JSON, "application/*", "*/*"})
_DOCUMENT_ID_FORMAT = 'The `documentId` must be "sha256:" and 64 lowercase hexadecimal digits.'


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer with, by the request's Accept header: JSON when
    there is none (as GraphQL over HTTP asks), the higher q-value of the two
    otherwise (the first listed on a tie), None when neither is acceptable."""
    if not accept or not accept.strip():
        return JSON
    chosen, chosen_quality = None, 0.0
    for part in accept.split(","):
        kind, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        kind = kind.lower()
        candidate = (
            GRAPHQL_RESPONSE_JSON if kind == GRAPHQL_RESPONSE_JSON else JSON if kind in _MEANS_JSON
            else None
        )  # fmt: skip
        if candidate is not None and quality > chosen_quality:
            chosen, chosen_quality = candidate, quality
    return chosen


def graphql_refusal(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    media_type: str | None = JSON,
) -> Response:
    """A request refused before (or instead of) running any GraphQL, as
    GraphQL-over-HTTP wants it: JSON with `errors` (500: the masked message)."""
    error: dict[str, Any] = {"message": message}
    if status in _REFUSAL_CODES:
        error["extensions"] = {"code": _REFUSAL_CODES[status]}
    return Response(
        orjson.dumps({"errors": [error]}),
        status_code=status,
        media_type=media_type or JSON,
        headers=headers,
    )


def execution_started(result: GraphQLExecutionResult | ExecutionResult) -> bool:
    """Whether the operation ran: a request error (syntax, validation, limits,
    variables that do not fit) comes with no data and no error on a field path."""
    return result.data is not None or any(error.path for error in result.errors or ())


class FrontdeskGraphQL(GraphQL):
    """POST /graphql: JSON in, our context, the operation run by the engine
    the settings name (the pipeline of core/pipeline.py, or Strawberry's own
    `Schema.execute`), JSON out. Strawberry's view serves GraphiQL on GET
    when enabled; every other request gets a JSON refusal."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
            multipart_uploads_enabled=False,
        )
        self.settings = settings
        self.pipeline = build_pipeline()
        self.stock = settings.graphql_engine == "stock"
        self.manifest = trusted_documents.load_manifest()
        self.pipeline.documents.trusted = frozenset(self.manifest.by_id.values())
        self.enforce_documents = settings.trusted_documents == "enforce"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        media_type = response_media_type(request.headers.get("accept"))
        if scope["type"] != "http" or scope["method"] != "POST":
            if self.graphql_ide and self.should_render_graphql_ide(request):  # type: ignore[arg-type]  # Strawberry's protocol types `method` as a Literal, Starlette as str
                await super().__call__(scope, receive, send)
                return
            allowed = "GET, POST" if self.graphql_ide else "POST"
            response = graphql_refusal(
                405,
                "Send GraphQL requests as POST with application/json.",
                {"allow": allowed},
                media_type=media_type,
            )
        elif media_type is None:
            response = graphql_refusal(
                406, f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}.", media_type=JSON
            )
        else:
            try:
                response = await self._post(request, media_type)
            except StrawberryHTTPException as error:
                response = graphql_refusal(error.status_code, error.reason, media_type=media_type)
            except HTTPException as error:  # the body grew past the limit while read
                response = graphql_refusal(error.status_code, error.detail, media_type=media_type)
        await response(scope, receive, send)

    def _document(
        self, query: str | None, document_id: str | None, context: Context
    ) -> str | GraphQLError:
        """The text to run: the manifest's for a `documentId`; the request's own,
        unless trusted documents are enforced for this request and it is none of them."""
        if document_id is not None:
            text = self.manifest.text(document_id)
            if text is not None:
                return text
            # Checked only now: a regular expression costs more than the lookup.
            if not trusted_documents.valid_document_id(document_id):
                raise StrawberryHTTPException(400, _DOCUMENT_ID_FORMAT)
            return trusted_documents.unknown_document(document_id)
        assert query is not None  # _operation_request gives one of the two
        if not self.enforce_documents or trusted_documents.may_send_any_document(context):
            return query
        return self.manifest.trusts(query) or trusted_documents.document_required()

    async def _execute(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        extensions: dict[str, Any] | None,
        context: Context,
    ) -> GraphQLExecutionResult | ExecutionResult:
        if not self.stock:
            return await self.pipeline.run(
                query,
                variables=variables,
                operation_name=operation_name,
                extensions=extensions,
                context=context,
            )
        # Strawberry's own path: the same policy runs as a schema extension;
        # memberships are loaded up front (the pipeline loads them when needed).
        await context.load_actor()
        try:
            return await self.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
                operation_extensions=extensions,
            )
        except CannotGetOperationTypeError:
            raise OperationNotFound(operation_name) from None

    async def _post(self, request: Request, media_type: str) -> Response:
        # RequestGuard let only application/json bodies within the size limit through.
        request_body = await request.body()
        query, document_id, variables, operation_name, extensions = _operation_request(request_body)
        sub_response = Response()
        sub_response.status_code = None  # type: ignore[assignment]  # unset: 200
        del sub_response.headers["content-length"]
        context = await self.get_context(request, sub_response)
        started = time.perf_counter()
        trusted = self._document(query, document_id, context)
        if isinstance(trusted, GraphQLError):
            # A request error like a document that does not validate: no data.
            errors = self.pipeline.policy.finish(None, "unknown", started, [trusted])
            result: GraphQLExecutionResult | ExecutionResult = GraphQLExecutionResult(None, errors)
        else:
            try:
                result = await self._execute(
                    trusted, variables, operation_name, extensions, context
                )
            except OperationNotFound:
                raise StrawberryHTTPException(400, "Can't get GraphQL operation type") from None
        body: dict[str, Any] = {"data": result.data}
        status = sub_response.status_code or 200
        if media_type == GRAPHQL_RESPONSE_JSON and not execution_started(result):
            # GraphQL over HTTP: a request error is a 400 with no `data` at all. Older
            # clients asking for application/json keep 200 and `"data": null`.
            del body["data"]
            status = 400
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        try:
            content = orjson.dumps(body)
        except orjson.JSONEncodeError:  # a lone surrogate echoed from the request
            content = json.dumps(body).encode()  # escapes it
        response = Response(content, status_code=status, media_type=media_type)
        response.headers.raw.extend(sub_response.headers.raw)
        return response

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]  # HTTP only: no WebSocket here
        meta = request_meta(request, self.settings)
        current_request_id.set(meta.request_id)
        # Memberships wait until the operation needs them (core/pipeline.py).
        actor, token, via_cookie = await authenticate(request, self.settings, meta, lazy=True)
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            meta=meta,
            actor=actor,
            session_token=token,
            via_cookie=via_cookie,
        )


def _operation_request(
    body: bytes,
) -> tuple[str | None, str | None, dict[str, Any] | None, str | None, dict[str, Any] | None]:
    """(query, documentId, variables, operationName, extensions) of a JSON request
    body, exactly one of query and documentId given; or a 400."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        # Valid JSON that orjson refuses: escaped lone surrogates ("\ud800"), or
        # nesting deeper than its limit of 1,024 (which the stdlib refuses too,
        # with a RecursionError of its own).
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise StrawberryHTTPException(400, "Unable to parse request body as JSON") from None
    if isinstance(data, list):
        raise StrawberryHTTPException(400, "Batching is not enabled")
    if not isinstance(data, dict):
        raise StrawberryHTTPException(400, "The request body must be a JSON object.")
    query = data.get("query")
    document_id = data.get("documentId")
    if document_id is not None:
        # A trusted document by id (server/trusted_documents.py), in place of its text.
        if query is not None:
            raise StrawberryHTTPException(400, "Send either `query` or `documentId`, not both.")
        if not isinstance(document_id, str):
            raise StrawberryHTTPException(400, _DOCUMENT_ID_FORMAT)
    elif not isinstance(query, str) or not query:
        if query is None or query == "":
            raise StrawberryHTTPException(400, "No GraphQL query found in the request")
        raise StrawberryHTTPException(400, "The GraphQL operation's `query` must be a string.")
    checks = (("variables", dict), ("extensions", dict), ("operationName", str))
    for key, kind in checks:
        value = data.get(key)
        if value is not None and not isinstance(value, kind):
            article = "an object" if kind is dict else "a string"
            raise StrawberryHTTPException(
                400, f"The GraphQL operation's `{key}` must be {article} or null, if provided."
            )
    return (
        query,
        document_id,
        data.get("variables"),
        data.get("operationName"),
        data.get("extensions"),
    )


class RequestGuard:
    """Per request: an id for logs and audit, a body-size limit, JSON-only
    POSTs to /graphql, security headers on every response, and a JSON 500
    (logged, counted as INTERNAL) for any exception that escapes, on a
    connection that stays usable."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope["headers"]
            if k in _GUARDED_HEADERS
        }
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"
        scope.setdefault("state", {})["request_id"] = request_id
        # Every log line written while serving this request carries its id.
        id_token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500  # what the response started with; 500 if it never started
        path = scope["path"]

        started_response = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                extra = [(b"x-request-id", request_id.encode()), *_SECURITY_HEADERS]
                if path.startswith("/admin"):
                    extra.append((b"content-security-policy", _ADMIN_CSP))
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        try:
            refusal = self._refusal(scope["method"], path, headers)
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
            else:
                await self.app(scope, self._limited(receive), send_with_headers)
        except Exception:
            if started_response:
                raise  # nothing left to answer with: the server closes the connection
            logger.exception("Unexpected error serving %s %s", scope["method"], path)
            metrics.internal_fault()
            await graphql_refusal(500, MASKED_MESSAGE)(scope, receive, send_with_headers)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            current_request_id.reset(id_token)

    def _limited(self, receive: Receive) -> Receive:
        """`receive`, refusing bodies that grow past the limit while being read."""
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise HTTPException(413, "Request body too large.")
            return message

        return limited_receive

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        path, method = scope["path"], scope["method"]
        metrics.observe_request(path, method, status, seconds)
        level = logging.DEBUG if path in _QUIET_PATHS and status < 400 else logging.INFO
        if access_logger.isEnabledFor(level):
            client = scope.get("client")
            log_line(
                access_logger,
                level,
                f"{method} {path} {status} {seconds * 1000:.1f} ms",
                {
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "peer": client[0] if client else "",
                },
            )

    def _refusal(self, method: str, path: str, headers: dict[str, str]) -> Response | None:
        graphql = path == "/graphql"
        media_type = response_media_type(headers.get("accept"))
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            if graphql:
                return graphql_refusal(413, "Request body too large.", media_type=media_type)
            return PlainTextResponse("Request body too large.", status_code=413)
        if graphql and method == "POST":
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return graphql_refusal(
                    415, "Send GraphQL requests as application/json.", media_type=media_type
                )
        return None


class ApiCors(CORSMiddleware):
    """CORS_ORIGINS for the API, never for the OpenID Connect provider: its token,
    revocation and userinfo endpoints answer no origin's browser code (a browser
    app needs a backend), and discovery and the JWKS are open to every origin
    on their own (server/oidc/http.py)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(OIDC_PATHS):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class AdminFiles(StaticFiles):
    """The admin SPA: unknown paths under /admin/ get index.html (client-side routes),
    which names the app's files at versioned, cached addresses (server/admin_assets.py)."""

    def __init__(self, *, directory: Path) -> None:
        super().__init__(directory=directory, html=True, check_dir=False)
        self.root = directory

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path in ("", ".", "index.html"):
            return await index_response(Request(scope), self.root)
        try:
            return await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404:
                raise
            return await index_response(Request(scope), self.root)


def create_app(
    settings: Settings | None = None,
    *,
    manage_database: bool = True,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """The application. `manage_database=False` leaves database set-up and the
    mail worker to the caller (tests). Traces are on when the settings say so
    (OTEL_EXPORTER_OTLP_ENDPOINT) or a `tracer_provider` is given (tests, bench);
    the lifespan closes `app.state.tracing`, or with `manage_database=False` the
    caller does (that puts Tortoise's wrapped methods back)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        await db.init_db(settings.database_url)
        # What start-up built (schema, models, modules) lives as long as the process:
        # out of the cyclic collector's full passes, which otherwise stop the event
        # loop for ~30 ms every few seconds under load (BENCHMARKS.md, latency).
        gc.collect()
        gc.freeze()
        if settings.production and settings.metrics_enabled and not settings.metrics_token:
            logger.warning("/metrics is open to anyone: set FRONTDESK_METRICS_TOKEN")
        stop = asyncio.Event()
        worker: asyncio.Task[Any] | None = None
        if settings.run_worker_in_server:
            worker = asyncio.create_task(run_workers(settings, stop))
        try:
            yield
        finally:
            # Requests in flight have finished (uvicorn waits for them before the
            # lifespan ends); the worker finishes the mail it is sending and
            # hands the rest of its batch back.
            stop.set()
            if worker is not None:
                await worker
            await db.close_db()
            if app.state.tracing is not None:
                app.state.tracing.close()  # flushes the spans still queued

    static_dir = _STATIC_DIR if _STATIC_DIR.is_dir() else Path("static/admin")
    graphql = FrontdeskGraphQL(settings)
    routes = [
        Route("/graphql", graphql),  # first: matched in that order; refuses other methods itself
        Route("/", lambda request: RedirectResponse("/admin/")),
        Route("/healthz", healthz),
        Route("/readyz", readyz_endpoint(settings)),
        Route("/audit/export.csv", export_csv),
        Route("/admin/locale/{language}.json", catalogue_endpoint),
        Route("/admin/v/{version}/{path:path}", versioned_endpoint(static_dir)),
        Mount("/scim/v2", routes=scim_routes(settings)),
        *oidc_routes(settings),
        Mount("/admin", AdminFiles(directory=static_dir)),
    ]
    if settings.metrics_enabled:
        routes.append(Route("/metrics", metrics.metrics_endpoint(settings)))
    middleware = [Middleware(RequestGuard, settings=settings)]
    if settings.cors_origins:
        # Other origins may call the API with bearer tokens, never with our cookie.
        middleware.append(
            Middleware(
                ApiCors,
                allow_origins=settings.cors_origins,
                allow_methods=["POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                allow_credentials=False,
                max_age=600,
            )
        )
    tracing = _tracing(settings, tracer_provider)
    if tracing is not None:
        tracing.trace_operations(graphql)
        # Inside RequestGuard: the request id is known when the request's span starts.
        middleware.insert(1, tracing.middleware(routes))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.tracing = tracing
    return app


def _tracing(settings: Settings, provider: TracerProvider | None) -> Tracing | None:
    """None when traces are off: then OpenTelemetry is not even imported."""
    if provider is None and not settings.tracing:
        return None
    from server.ops import tracing

    if provider is None:
        return tracing.Tracing(tracing.provider_from_environment(), owned=True)
    return tracing.Tracing(provider)
