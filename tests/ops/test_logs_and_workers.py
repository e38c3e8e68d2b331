"""Operations: JSON and text logs, batched access lines, and a mail worker
stopped mid-batch."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import sys
import time
from datetime import timedelta

import orjson
import pytest

from server.core.context import current_request_id
from server.mail.models import MailStatus, OutboxMail
from server.mail.outbox import queue_mail
from server.mail.worker import MailWorker
from server.ops.logs import (
    BatchedStreamHandler,
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    log_line,
    logging_config,
)
from server.settings import get_settings
from tests.helpers.fixtures import LOGIN, PASSWORD, GraphQLClient, Tree
from tests.helpers.mailsink import MailSink
from tests.ops.probes import (
    LINK,
)

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
