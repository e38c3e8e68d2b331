"""Logging set-up: text for people, JSON lines for machines.

``FRONTDESK_LOG_FORMAT=json`` (the default in production) writes one JSON
object per line: ``time``, ``level``, ``logger``, ``message``,
``request_id`` (of the request being served, from
``server.core.context.current_request_id``), every ``extra=`` field given to
the call, and ``exception`` with the traceback when there is one. The same
configuration is handed to uvicorn so that every server process (``serve
--workers N`` starts fresh interpreters) logs the same way.
"""

from __future__ import annotations

import contextlib
import logging
import logging.config
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from server.core.context import current_request_id

# Attributes every LogRecord has: whatever else is on a record came as `extra=`.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "request_id",
    # uvicorn's own formatter hint, not data.
    "color_message",
}
FORMATS = ("text", "json")

# Neither format prints where a call was made from, or thread and process
# details: not collecting them saves a good part of each log line's cost (the
# logging HOWTO, "Optimization"), and every request writes one. Set on import,
# so in every server process that loads these formatters.
logging._srcfile = None  # type: ignore[attr-defined]
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was written for."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id.get()
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """The record's `extra=` fields, in the order given."""
    return {
        k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = _entry(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            getattr(record, "request_id", "") or current_request_id.get(),
            _extras(record),
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def _entry(
    created: float,
    level: str,
    logger: str,
    message: str,
    request_id: str,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """A JSON line's object: the standard keys, then the extra fields (which
    cannot replace them)."""
    entry: dict[str, Any] = {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": message,
        "request_id": request_id or None,
    }
    for key, value in fields.items():
        entry.setdefault(key, value)
    return entry


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request id]: message key=value …``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "") or current_request_id.get()
        record.rid = f" [{request_id}]" if request_id else ""
        text = super().format(record)
        extras = {k: v for k, v in _extras(record).items() if k != "rid"}
        if extras:
            text += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return text


class BatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes the access log (`frontdesk.access`, one
    line per request) in batches: one write of up to `PIPE_BUF` bytes instead
    of one per line, at most `interval` seconds late. Every other line is
    written at once, after the batch before it, so that start-up, shutdown,
    warnings and errors are never held back (uvicorn ends a SIGTERM by
    raising the signal again: no exit handler flushes after it).

    A write per line was about half of what the access log cost a request
    (BENCHMARKS.md). A batch never exceeds `PIPE_BUF`, so the lines of several
    server processes sharing one pipe never interleave mid-line. A process
    killed with SIGKILL loses at most `interval` seconds of access lines.
    """

    PIPE_BUF = 4096
    BATCHED = "frontdesk.access"

    def __init__(self, stream: Any = None, interval: float = 0.5) -> None:
        super().__init__(stream)
        self.interval = interval
        self.pending: list[str] = []
        self.pending_bytes = 0
        self._flusher: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write(self.format(record) + self.terminator, record.name, record.levelno)
        except Exception:
            self.handleError(record)

    def write(self, line: str, logger: str, level: int) -> None:
        """Queue a formatted line; write the queue now unless it is an access line."""
        batched = logger == self.BATCHED and level < logging.WARNING
        with self.lock:  # type: ignore[union-attr]
            size = len(line) if line.isascii() else len(line.encode())
            if self.pending_bytes + size > self.PIPE_BUF:
                self.flush()
            self.pending.append(line)
            self.pending_bytes += size
            if not batched:
                self.flush()
            elif self._flusher is None:  # started on first use
                self._flusher = threading.Thread(
                    target=self._flush_periodically, name="log-flush", daemon=True
                )
                self._flusher.start()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self.pending:
                text = "".join(self.pending)
                self.pending.clear()
                self.pending_bytes = 0
                self.stream.write(text)
            super().flush()

    def _flush_periodically(self) -> None:
        while True:
            time.sleep(self.interval)
            # A broken stream is reported by the next emit (handleError), not here.
            with contextlib.suppress(Exception):
                self.flush()


def log_line(logger: logging.Logger, level: int, message: str, fields: dict[str, Any]) -> None:
    """What `logger.log(level, message, extra=fields)` writes, written without
    a LogRecord when the only handler the line reaches is a JSON
    BatchedStreamHandler, as `logging_config("json")` sets up for production.
    Making the record, walking the logger tree and the generic formatter cost
    the access log ~65 µs a request (BENCHMARKS.md). The caller has checked
    `logger.isEnabledFor(level)`."""
    handler = _only_json_handler(logger, level)
    if handler is None:
        logger.log(level, message, extra=fields)
        return
    entry = _entry(
        time.time(),
        logging.getLevelName(level),
        logger.name,
        message,
        current_request_id.get(),
        fields,
    )
    try:
        handler.write(
            orjson.dumps(entry, default=str).decode() + handler.terminator, logger.name, level
        )
    except Exception:  # a broken stream: logging reports it its own way (handleError)
        logger.log(level, message, extra=fields)


def _only_json_handler(logger: logging.Logger, level: int) -> BatchedStreamHandler | None:
    found = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if level < handler.level:
                continue
            if (
                found is not None
                or type(handler) is not BatchedStreamHandler
                or type(handler.formatter) is not JsonFormatter
                or any(type(f) is not RequestIdFilter for f in handler.filters)
            ):
                return None
            found = handler
        current = current.parent if current.propagate else None
    return found


def logging_config(log_format: str = "text", level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary (also given to uvicorn)."""
    if log_format not in FORMATS:
        raise ValueError(f"FRONTDESK_LOG_FORMAT must be one of {FORMATS}, not {log_format!r}")
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "()": BatchedStreamHandler,
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["default"], "level": level},
        # uvicorn's loggers write through the root handler; our access log
        # (frontdesk.access) replaces uvicorn's, which lacks the request id.
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(log_format, level))
