"""Traces (server/ops/tracing.py): request → GraphQL operation → SQL statement
spans, with the request id and the operation's name, on either database; and
nothing at all when traces are off."""

from __future__ import annotations

import dataclasses
import gzip
import http.server
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette

from server import db
from server.app import FrontdeskGraphQL, create_app
from server.ops import statements as statement_hooks
from server.ops import tracing
from server.settings import Settings, _otel_tracing, get_settings
from tests.helpers.fixtures import LOGIN, ORIGIN, PASSWORD, Tree, gid
from tests.helpers.instance import fresh, serving

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = """
query Members($org: ID!, $search: String) {
  members(organisationId: $org, first: 5, search: $search) { nodes { user { email } } }
}"""
SEARCHED = "owner@acme"


@asynccontextmanager
async def traced_app(
    exporter: InMemorySpanExporter, settings: Settings | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, Starlette]]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings or get_settings(), manage_database=False, tracer_provider=provider)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url=ORIGIN, headers={"origin": ORIGIN}
        ) as client:
            yield client, app
    finally:
        app.state.tracing.close()


async def log_in(client: httpx.AsyncClient, email: str) -> str:
    response = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {"email": email, "password": PASSWORD}}
    )
    return response.json()["data"]["login"]["token"]


def by_kind(
    spans: tuple[ReadableSpan, ...],
) -> tuple[ReadableSpan, ReadableSpan, list[ReadableSpan]]:
    [request] = [s for s in spans if s.kind is SpanKind.SERVER]
    [operation] = [s for s in spans if s.attributes and "graphql.operation.type" in s.attributes]
    sql = [s for s in spans if s.attributes and "db.system" in s.attributes]
    return request, operation, sql


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def expected_db_system() -> str:
    return "postgresql" if db.is_postgres(get_settings().database_url) else "sqlite"


async def test_a_query_nests_request_operation_and_statement_spans(tree: Tree) -> None:
    exporter = InMemorySpanExporter()
    async with traced_app(exporter) as (client, _):
        token = await log_in(client, "owner@acme.example.com")
        exporter.clear()
        response = await client.post(
            "/graphql",
            json={
                "query": MEMBERS,
                "operationName": "Members",
                "variables": {"org": gid("Organisation", tree.acme.id), "search": SEARCHED},
            },
            headers={"authorization": f"Bearer {token}", "x-request-id": "trace-me-1"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["members"]["nodes"]
    spans = exporter.get_finished_spans()
    request, operation, sql = by_kind(spans)

    assert request.name == "POST /graphql"
    assert request.attributes is not None
    assert request.attributes["frontdesk.request_id"] == "trace-me-1"
    assert request.attributes["http.route"] == "/graphql"
    assert request.status.status_code is StatusCode.UNSET
    assert request.parent is None

    assert operation.name == "query Members"
    assert parent_of(operation) == request.context.span_id
    assert operation.context.trace_id == request.context.trace_id
    assert operation.attributes == {
        "graphql.operation.type": "query",
        "graphql.operation.name": "Members",
        "frontdesk.request_id": "trace-me-1",
    }
    assert operation.status.status_code is StatusCode.UNSET

    # Authentication runs before the operation: its statements belong to the request.
    parents = {parent_of(s) for s in sql}
    assert parents == {request.context.span_id, operation.context.span_id}
    in_operation = [s for s in sql if parent_of(s) == operation.context.span_id]
    assert len(in_operation) >= 2  # the members page and their users at least
    assert len(spans) == 2 + len(sql)
    for span in sql:
        assert span.kind is SpanKind.CLIENT
        assert span.attributes is not None
        assert span.attributes["db.system"] == expected_db_system()
        statement = str(span.attributes["db.statement"])
        assert span.name == statement.split()[0].upper() == span.attributes["db.operation"]
        # The values went as parameters: neither the search nor the token shows.
        assert "acme" not in statement.lower()
        assert token not in statement
        assert span.start_time is not None and request.start_time is not None
        assert request.start_time <= span.start_time
    assert any("SELECT" in str(s.attributes["db.statement"]) for s in in_operation)  # type: ignore[index]


async def test_strawberrys_own_engine_is_traced_alike(tree: Tree) -> None:
    exporter = InMemorySpanExporter()
    stock = dataclasses.replace(get_settings(), graphql_engine="stock")
    async with traced_app(exporter, stock) as (client, _):
        token = await log_in(client, "admin@acme.example.com")
        exporter.clear()
        response = await client.post(
            "/graphql",
            json={"query": MEMBERS, "variables": {"org": gid("Organisation", tree.acme.id)}},
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.json()["data"]["members"]["nodes"]
    request, operation, sql = by_kind(exporter.get_finished_spans())
    assert operation.name == "query Members"
    assert parent_of(operation) == request.context.span_id
    assert operation.context.span_id in {parent_of(s) for s in sql}


async def test_a_failing_operation_sets_the_error_status(tree: Tree) -> None:
    exporter = InMemorySpanExporter()
    async with traced_app(exporter) as (client, _):
        refused = await client.post(
            "/graphql",
            json={
                "query": MEMBERS,
                "variables": {"org": gid("Organisation", tree.acme.id)},
            },
        )
        spans = exporter.get_finished_spans()
        exporter.clear()
        broken = await client.post("/graphql", json={"query": "query Broken { viewer { "})
        broken_spans = exporter.get_finished_spans()
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    request, operation, _ = by_kind(spans)
    assert operation.name == "query Members"  # one operation in the document: no name needed
    assert operation.status.status_code is StatusCode.ERROR
    assert operation.status.description == "UNAUTHENTICATED"
    assert operation.attributes is not None
    assert operation.attributes["graphql.error.codes"] == ("UNAUTHENTICATED",)
    assert operation.attributes["frontdesk.request_id"] == refused.headers["x-request-id"]
    assert request.attributes is not None
    assert request.attributes["frontdesk.request_id"] == refused.headers["x-request-id"]

    assert "errors" in broken.json()
    _, operation, sql = by_kind(broken_spans)
    assert operation.name == "unknown"  # the document does not parse
    assert operation.status.status_code is StatusCode.ERROR
    assert sql == []


def test_quoted_literals_never_reach_a_span() -> None:
    assert (
        tracing.statement_text("SELECT 1 FROM t WHERE a='x''y' AND b=? AND c = 'z'")
        == "SELECT 1 FROM t WHERE a=? AND b=? AND c = ?"
    )
    assert tracing.statement_text("SELECT $1") == "SELECT $1"


async def test_closing_puts_the_database_methods_back(database: str) -> None:
    before = {(cls, name): fn for cls, name, fn in statement_hooks.execute_methods()}
    exporter = InMemorySpanExporter()
    async with traced_app(exporter):
        wrapped = {(cls, name): fn for cls, name, fn in statement_hooks.execute_methods()}
        assert all(wrapped[key] is not fn for key, fn in before.items())
        assert all(fn.__code__.co_filename == tracing.__file__ for fn in wrapped.values())
    after = {(cls, name): fn for cls, name, fn in statement_hooks.execute_methods()}
    assert after == before


# --- off ----------------------------------------------------------------------------------


def test_tracing_is_on_only_for_an_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    assert not _otel_tracing()
    monkeypatch.setenv("OTEL_SERVICE_NAME", "portal")
    assert not _otel_tracing()  # a name alone exports nothing
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert _otel_tracing()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not _otel_tracing()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "false")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert not _otel_tracing()
    monkeypatch.delenv("OTEL_TRACES_EXPORTER")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces")
    assert _otel_tracing()


async def test_off_the_app_is_as_without_tracing(database: str) -> None:
    settings = get_settings()
    assert not settings.tracing
    before = {(cls, name): fn for cls, name, fn in statement_hooks.execute_methods()}
    app = create_app(settings, manage_database=False)
    assert app.state.tracing is None
    assert [m.cls.__name__ for m in app.user_middleware] == ["RequestGuard"]  # type: ignore[attr-defined]
    [endpoint] = [r.endpoint for r in app.routes if getattr(r, "path", "") == "/graphql"]  # type: ignore[attr-defined]
    assert isinstance(endpoint, FrontdeskGraphQL)
    assert "_execute" not in vars(endpoint)  # the class's own method runs
    after = {(cls, name): fn for cls, name, fn in statement_hooks.execute_methods()}
    assert after == before
    assert not any(fn.__code__.co_filename == tracing.__file__ for fn in after.values())


OFF_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    import httpx
    from server.app import create_app
    from server.settings import get_settings

    async def main():
        app = create_app(get_settings(), manage_database=False)
        assert get_settings().tracing is False and app.state.tracing is None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200
        print(sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry"))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize(
    "otel", [{}, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SDK_DISABLED": "true"}]
)
def test_off_nothing_of_opentelemetry_is_imported(otel: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")} | otel
    done = subprocess.run(  # noqa: S603  # our own interpreter and code
        [sys.executable, "-c", OFF_PROCESS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


# --- exported over OTLP --------------------------------------------------------------------


class Collector(http.server.ThreadingHTTPServer):
    """A stand-in OTLP/HTTP receiver: keeps every export request it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[str, ExportTraceServiceRequest]] = []
        super().__init__(("127.0.0.1", 0), _CollectorHandler)


class _CollectorHandler(http.server.BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:  # noqa: N802  # http.server's naming
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        message = ExportTraceServiceRequest()
        message.ParseFromString(body)
        self.server.received.append((self.path, message))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def test_spans_go_out_over_otlp_as_the_environment_says(
    tree: Tree, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{collector.server_port}")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    assert _otel_tracing()
    provider = tracing.provider_from_environment()
    app = create_app(get_settings(), manage_database=False, tracer_provider=provider)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            response = await client.post(
                "/graphql", json={"query": "query Me { viewer { user { id } } }"}
            )
        assert response.status_code == 200
    finally:
        app.state.tracing.close()
        provider.shutdown()  # flushes the batch to the collector
    [(path, message)] = collector.received
    assert path == "/v1/traces"
    [resource_spans] = message.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "frontdesk"
    assert resource["deployment.environment"] == "test"
    names = {span.name for scope in resource_spans.scope_spans for span in scope.spans}
    assert {"POST /graphql", "query Me"} <= names


def test_frontdesk_serve_sends_its_spans(
    migrated: Path, tmp_path: Path, collector: Collector
) -> None:
    """The real command: traces on from the environment alone, flushed when it stops."""
    instance = fresh(migrated, tmp_path / "served")
    instance.extra_env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_port}",
        OTEL_SERVICE_NAME="portal-test",
        OTEL_PYTHON_EXCLUDED_URLS="healthz",
        # This checkout's code, whichever one the virtualenv installed.
        PYTHONPATH=str(ROOT),
    )
    with serving(instance) as base:
        response = httpx.post(
            f"{base}/graphql",
            json={"query": "query Me { viewer { user { id } } }"},
            headers={"x-request-id": "served-1"},
        )
        assert response.status_code == 200
    # Stopped: the lifespan's end flushed the batch (the schedule delay is 5 s).
    spans = {
        span.name: (resource_spans.resource, span)
        for _, message in collector.received
        for resource_spans in message.resource_spans
        for scope in resource_spans.scope_spans
        for span in scope.spans
    }
    assert set(spans) == {"POST /graphql", "query Me"}  # the health probes were excluded
    resource, request = spans["POST /graphql"]
    names = {a.key: a.value.string_value for a in resource.attributes}
    assert names["service.name"] == "portal-test"
    attributes = {a.key: a.value.string_value for a in request.attributes}
    assert attributes["frontdesk.request_id"] == "served-1"
    assert spans["query Me"][1].parent_span_id == request.span_id
