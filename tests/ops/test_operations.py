"""Operations in process, on either database: liveness and readiness,
Prometheus metrics (and who may read them), JSON logs carrying the request id,
and a mail worker stopped in the middle of a batch."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.core import clock
from server.core.context import current_request_id
from server.mail.models import MailStatus, OutboxMail
from server.mail.outbox import queue_mail
from server.mail.worker import MailWorker
from server.ops import health, metrics
from server.ops.logs import (
    BatchedStreamHandler,
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    log_line,
    logging_config,
)
from server.settings import Settings, get_settings
from tests.helpers.fixtures import LOGIN, ORIGIN, PASSWORD, GraphQLClient, Tree
from tests.helpers.mailsink import MailSink

LINK = "https://portal.example.test/reset#token=x"


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url=ORIGIN, headers={"origin": ORIGIN}
    ) as client:
        yield client


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values


class BrokenDatabase:
    def __init__(self, error: BaseException | None = None, delay: float = 0) -> None:
        self.error = error
        self.delay = delay
        self.expired = 0

    async def execute_query(self, query: str, values: object = None) -> None:
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error

    async def _expire_connections(self) -> None:
        self.expired += 1


# --- /healthz and /readyz -----------------------------------------------------------------


async def test_healthz_answers_without_the_database(http, monkeypatch):
    broken = BrokenDatabase(ConnectionRefusedError("refused"))
    monkeypatch.setattr(health.connections, "get", lambda name: broken)
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(http):
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_503_with_a_reason_when_the_database_is_gone(http, monkeypatch):
    broken = BrokenDatabase(ConnectionRefusedError("connect call failed ('10.0.0.5', 5432)"))
    monkeypatch.setattr(health.connections, "get", lambda name: broken)
    response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "error"}
    assert body["reason"] == "database unreachable (ConnectionRefusedError)"
    assert "10.0.0.5" not in response.text  # no addresses or messages leak out
    assert response.headers["retry-after"]
    assert broken.expired == 1  # the pool is told to replace its (dead) connections


async def test_readyz_gives_up_after_the_timeout():
    broken = BrokenDatabase(delay=5)
    settings = dataclasses.replace(get_settings(), readiness_timeout_seconds=0.2)
    async with client_for(settings) as client:
        original = health.connections.get
        health.connections.get = lambda name: broken  # type: ignore[method-assign]
        try:
            response = await asyncio.wait_for(client.get("/readyz"), timeout=3)
        finally:
            health.connections.get = original  # type: ignore[method-assign]
    assert response.status_code == 503
    assert response.json()["reason"] == "database did not answer within 0.2 s"


# --- /metrics -------------------------------------------------------------------------------


async def test_metrics_are_served_in_development(http):
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    values = scraped(response.text)
    assert values[("frontdesk_database_up", ())] == 1
    for status in ("pending", "sending", "dead"):
        assert ("frontdesk_outbox_mails", (("status", status),)) in values


async def test_metrics_can_be_switched_off():
    settings = dataclasses.replace(get_settings(), metrics_enabled=False)
    async with client_for(settings) as client:
        assert (await client.get("/metrics")).status_code == 404


def test_metrics_are_off_by_default_in_production(monkeypatch):
    monkeypatch.setenv("FRONTDESK_ENV", "production")
    monkeypatch.delenv("FRONTDESK_METRICS", raising=False)
    get_settings.cache_clear()
    try:
        assert get_settings().metrics_enabled is False
        assert get_settings().log_format == "json"
        monkeypatch.setenv("FRONTDESK_METRICS", "true")
        get_settings.cache_clear()
        assert get_settings().metrics_enabled is True
    finally:
        get_settings.cache_clear()


async def test_metrics_token_is_required_when_set():
    settings = dataclasses.replace(get_settings(), metrics_token="s3cret-scrape-token")
    async with client_for(settings) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        right = await client.get(
            "/metrics", headers={"authorization": "Bearer s3cret-scrape-token"}
        )
        assert right.status_code == 200
        assert "frontdesk_outbox_mails" in right.text


async def test_latency_by_route_and_operation(http):
    graphql_before = sample(
        "frontdesk_graphql_operation_duration_seconds_count", operation="Ping", type="query"
    )
    route_before = sample(
        "frontdesk_http_request_duration_seconds_count",
        route="/graphql",
        method="POST",
        status="200",
    )
    for _ in range(3):
        response = await GraphQLClient(http).post("query Ping { __typename }")
        assert response.status_code == 200
    assert (
        sample("frontdesk_graphql_operation_duration_seconds_count", operation="Ping", type="query")
        == graphql_before + 3
    )
    assert (
        sample(
            "frontdesk_http_request_duration_seconds_count",
            route="/graphql",
            method="POST",
            status="200",
        )
        == route_before + 3
    )
    scrape = (await http.get("/metrics")).text
    assert 'frontdesk_graphql_operation_duration_seconds_bucket{le="0.005",operation="Ping"' in (
        scrape
    )


async def test_unknown_paths_share_one_route_label(http):
    before = sample(
        "frontdesk_http_request_duration_seconds_count", route="other", method="GET", status="404"
    )
    for path in ("/nowhere", "/wp-login.php", "/x/y/z"):
        await http.get(path)
    assert (
        sample(
            "frontdesk_http_request_duration_seconds_count",
            route="other",
            method="GET",
            status="404",
        )
        == before + 3
    )


def test_operation_names_are_bounded(monkeypatch):
    monkeypatch.setattr(metrics, "_operation_names", set())
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("bad name!") == "other"
    names = [metrics.operation_label(f"Op{i}") for i in range(metrics.MAX_OPERATION_NAMES + 5)]
    assert names[: metrics.MAX_OPERATION_NAMES] == [
        f"Op{i}" for i in range(metrics.MAX_OPERATION_NAMES)
    ]
    assert set(names[metrics.MAX_OPERATION_NAMES :]) == {"other"}
    assert metrics.operation_label("Op0") == "Op0"  # known names keep their label


def test_error_codes():
    # The GraphQL policy classifies (tests/api/test_engines.py); the metric counts its codes.
    before = sample("frontdesk_graphql_errors_total", code="FORBIDDEN")
    metrics.observe_operation("Op", "query", 0.001, ["FORBIDDEN", "FORBIDDEN"])
    assert sample("frontdesk_graphql_errors_total", code="FORBIDDEN") == before + 2


async def test_errors_by_code(http):
    unauthenticated = sample("frontdesk_graphql_errors_total", code="UNAUTHENTICATED")
    invalid = sample("frontdesk_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED")
    anonymous = GraphQLClient(http)
    await anonymous("{ organisations { totalCount } }")
    await anonymous("{ noSuchField }")
    assert sample("frontdesk_graphql_errors_total", code="UNAUTHENTICATED") == unauthenticated + 1
    assert sample("frontdesk_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == invalid + 1


async def test_logins_and_lockouts_are_counted(tree: Tree, http, monkeypatch):
    frozen = clock.now()
    monkeypatch.setattr(clock, "now", lambda: frozen)  # the 1 s lock cannot run out
    email = tree["acme.member"].email
    before = {
        outcome: sample("frontdesk_logins_total", outcome=outcome)
        for outcome in ("success", "failed", "throttled")
    }
    lockouts = sample("frontdesk_lockouts_total", key="account")
    refused = sample("frontdesk_locked_attempts_total", key="account")
    user_errors = sample("frontdesk_user_errors_total", code="INVALID_CREDENTIALS")
    anonymous = GraphQLClient(http)

    await anonymous.ok(LOGIN, {"email": email, "password": PASSWORD})
    free = get_settings().throttle_account_attempts
    for _ in range(free):
        await anonymous.refused(LOGIN, {"email": email, "password": "wrong password, sorry"})
    # The last free attempt locked the account: the right password is refused now.
    assert await anonymous.refused(LOGIN, {"email": email, "password": PASSWORD}) == [
        "INVALID_CREDENTIALS"
    ]

    assert sample("frontdesk_logins_total", outcome="success") == before["success"] + 1
    assert sample("frontdesk_logins_total", outcome="failed") == before["failed"] + free
    assert sample("frontdesk_logins_total", outcome="throttled") == before["throttled"] + 1
    assert sample("frontdesk_lockouts_total", key="account") == lockouts + 1
    assert sample("frontdesk_locked_attempts_total", key="account") == refused + 1
    assert (
        sample("frontdesk_user_errors_total", code="INVALID_CREDENTIALS") == user_errors + free + 1
    )


async def test_outbox_depth_and_age(http):
    first = await queue_mail(
        kind="password_reset", recipient="a@example.test", link=LINK, minutes=1
    )
    await queue_mail(kind="password_reset", recipient="b@example.test", link=LINK, minutes=1)
    dead = await queue_mail(kind="password_reset", recipient="c@example.test", link=LINK, minutes=1)
    await OutboxMail.filter(id=dead.id).update(status=MailStatus.DEAD)
    await OutboxMail.filter(id=first.id).update(
        status=MailStatus.SENDING, claimed_until=clock.now() + timedelta(minutes=5)
    )
    clock.advance(timedelta(minutes=10))

    values = scraped((await http.get("/metrics")).text)

    assert values[("frontdesk_outbox_mails", (("status", "pending"),))] == 1
    assert values[("frontdesk_outbox_mails", (("status", "sending"),))] == 1
    assert values[("frontdesk_outbox_mails", (("status", "dead"),))] == 1
    age = values[("frontdesk_outbox_oldest_pending_age_seconds", ())]
    assert 600 <= age < 700


async def test_outbox_metrics_without_a_database(http, monkeypatch):
    def fails(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError

    monkeypatch.setattr(OutboxMail, "filter", fails)
    response = await http.get("/metrics")
    assert response.status_code == 200
    values = scraped(response.text)
    assert values[("frontdesk_database_up", ())] == 0
    assert ("frontdesk_outbox_mails", (("status", "pending"),)) not in values


# --- logs -----------------------------------------------------------------------------------


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "frontdesk.test", logging.WARNING, __file__, 1, "hi %s", ("x",), None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_lines_carry_the_request_id_and_extra_fields():
    token = current_request_id.set("req-42")
    try:
        RequestIdFilter().filter(record := _record(organisation_id=7, duration_ms=1.5))
    finally:
        current_request_id.reset(token)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = orjson.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "frontdesk.test"
    assert entry["message"] == "hi x"
    assert entry["request_id"] == "req-42"
    assert entry["organisation_id"] == 7 and entry["duration_ms"] == 1.5
    assert entry["time"].endswith("+00:00")


def test_json_lines_hold_exceptions_on_one_line():
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        record = _record()
        record.exc_info = sys.exc_info()
    entry = orjson.loads(JsonFormatter().format(record))
    assert entry["request_id"] is None
    assert "RuntimeError: boom" in entry["exception"]


def test_text_lines_show_the_request_id():
    line = TextFormatter().format(_record(request_id="req-7", status=200))
    assert "WARNING frontdesk.test [req-7]: hi x status=200" in line


def test_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config("xml")


class _Writes(io.StringIO):
    """A stream that remembers each write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def _batched_handler(interval: float) -> tuple[BatchedStreamHandler, _Writes]:
    stream = _Writes()
    handler = BatchedStreamHandler(stream, interval=interval)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler, stream


def _line(logger: str, message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(logger, level, "", 0, message, (), None)


def test_access_lines_are_written_in_whole_batches_within_a_pipe_write():
    assert logging_config("json")["handlers"]["default"]["()"] is BatchedStreamHandler
    handler, stream = _batched_handler(interval=3600)
    lines = [f"GET /{i} {'é' * (i % 50)}" for i in range(300)]
    for line in lines:
        handler.handle(_line("frontdesk.access", line))
    assert stream.writes, "4 KiB of lines are written without waiting"
    handler.handle(_line("frontdesk.access", "x" * 10_000))  # longer than a batch: alone
    handler.handle(_line("frontdesk.access", "held back"))
    assert not stream.getvalue().endswith("held back\n")
    handler.handle(_line("uvicorn.error", "Application shutdown complete."))  # at once
    assert stream.getvalue().splitlines() == [
        *lines,
        "x" * 10_000,
        "held back",
        "Application shutdown complete.",
    ]
    for text in stream.writes:
        assert text.endswith("\n")  # whole lines only
        assert len(text.encode()) <= BatchedStreamHandler.PIPE_BUF or text.count("\n") == 1
    assert len(stream.writes) < len(lines) / 10
    handler.handle(_line("frontdesk.access", "failed", logging.WARNING))
    assert stream.getvalue().endswith("failed\n")


def test_quiet_access_lines_are_written_within_the_interval():
    handler, stream = _batched_handler(interval=0.05)
    handler.handle(_line("frontdesk.access", "first"))
    assert stream.getvalue() == ""
    deadline = time.monotonic() + 5
    while stream.getvalue() != "first\n" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.getvalue() == "first\n"
    handler.handle(_line("frontdesk.access", "second"))
    handler.flush()  # as logging.shutdown() does at exit
    assert stream.getvalue() == "first\nsecond\n"


def test_access_lines_without_a_record_read_like_logged_ones():
    """`log_line` skips the LogRecord only when the line would reach nothing
    but a JSON BatchedStreamHandler, and then writes what logging would."""
    handler, stream = _batched_handler(interval=3600)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("frontdesk.test.fast.access")
    parent = logging.getLogger("frontdesk.test.fast")
    parent.handlers, parent.propagate = [handler], False
    parent.setLevel(logging.INFO)
    fields = {"method": "POST", "path": "/graphql", "status": 200, "duration_ms": 1.5, "peer": ""}
    token = current_request_id.set("req-9")
    try:
        logger.log(logging.INFO, "POST /graphql 200 1.5 ms", extra=fields)
        log_line(logger, logging.INFO, "POST /graphql 200 1.5 ms", fields)
        handler.flush()
        logged, direct = (orjson.loads(line) for line in stream.getvalue().splitlines())
        assert logged.pop("time")[:16] == direct.pop("time")[:16]
        assert direct == logged
        assert list(direct) == list(logged)
        assert logged["request_id"] == "req-9" and logged["logger"] == "frontdesk.test.fast.access"

        # Anything else listening (another handler, a filter, another format): logging itself.
        other = io.StringIO()
        extra_handler = logging.StreamHandler(other)
        logger.addHandler(extra_handler)
        log_line(logger, logging.INFO, "seen by both", fields)
        assert other.getvalue() == "seen by both\n"
        logger.removeHandler(extra_handler)
        handler.setFormatter(TextFormatter())
        log_line(logger, logging.INFO, "as text", fields)
        handler.flush()
        assert "as text method=POST path=/graphql status=200" in stream.getvalue()
    finally:
        current_request_id.reset(token)
        parent.handlers, parent.propagate = [], True
        parent.setLevel(logging.NOTSET)


def test_a_broken_log_stream_does_not_fail_the_request(capsys):
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("disk full")

    handler = BatchedStreamHandler(Broken(), interval=3600)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("frontdesk.test.broken")
    logger.handlers, logger.propagate = [handler], False
    try:
        log_line(logger, logging.WARNING, "POST /graphql 500 1.0 ms", {"status": 500})
    finally:
        logger.handlers, logger.propagate = [], True
    assert "disk full" in capsys.readouterr().err  # reported the way logging reports it


async def test_every_request_log_line_carries_the_request_id(http, tree: Tree):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("frontdesk")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        await GraphQLClient(http).post(
            LOGIN,
            {"email": tree["acme.owner"].email, "password": PASSWORD},
            **{"x-request-id": "trace-0815"},
        )
        await http.get("/nowhere", headers={"x-request-id": "trace-0816"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    entries = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    access = [e for e in entries if e["logger"] == "frontdesk.access"]
    assert [(e["path"], e["status"], e["request_id"]) for e in access] == [
        ("/graphql", 200, "trace-0815"),
        ("/nowhere", 404, "trace-0816"),
    ]
    assert all(e["request_id"] in {"trace-0815", "trace-0816"} for e in entries)
    assert PASSWORD not in stream.getvalue()
    assert current_request_id.get() == ""  # nothing leaks past the request


# --- the mail worker, stopped mid-batch -----------------------------------------------------


def test_lease_and_retry_base_are_configurable():
    default = MailWorker(get_settings())
    assert default.lease == timedelta(minutes=5) + 50 * timedelta(seconds=10)
    short = MailWorker(
        dataclasses.replace(
            get_settings(), mail_lease_seconds=4, smtp_timeout=10, mail_retry_seconds=2
        )
    )
    assert short.lease == timedelta(seconds=4)
    assert short.lease_margin == timedelta(seconds=2)  # half the lease, not 5 timeouts
    assert timedelta(seconds=1.5) <= short._retry_delay(1) <= timedelta(seconds=2.5)


async def test_stopped_worker_finishes_the_mail_in_flight_and_hands_back_the_rest():
    sink = MailSink(delay=0.05).start()
    try:
        mails = [
            await queue_mail(
                kind="password_reset", recipient=f"u{i}@example.test", link=LINK, minutes=1
            )
            for i in range(20)
        ]
        settings = dataclasses.replace(
            get_settings(),
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_security="none",
            smtp_timeout=5.0,
            mail_batch_size=20,
            mail_poll_seconds=30,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(MailWorker(settings).run_forever(stop))
        await sink.wait_for(5)
        stop.set()
        await asyncio.wait_for(task, timeout=2)

        sent_ids = set(sink.message_ids)
        assert 5 <= len(sent_ids) < 20 and len(sink.message_ids) == len(sent_ids)
        rows = {row.message_id: row for row in await OutboxMail.all()}
        assert {m for m, r in rows.items() if r.status == MailStatus.SENT} == sent_ids
        rest = [r for m, r in rows.items() if m not in sent_ids]
        assert all(r.status == MailStatus.PENDING and r.claimed_until is None for r in rest)
        assert all(r.attempts == 0 and r.last_error == "worker stopped" for r in rest)

        # The rest goes out with the next run, nothing twice.
        assert await MailWorker(settings).run_once() == 20 - len(sent_ids)
        assert sorted(sink.message_ids) == sorted(m.message_id for m in mails)
    finally:
        sink.stop()
