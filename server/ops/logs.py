"""Logging set-up: text for people, JSON lines for machines.

``FRONTDESK_LOG_FORMAT=json`` (the default in production) writes one JSON
object per line: ``time``, ``level``, ``logger``, ``message``,
``request_id`` (of the request being served, from
``server.core.context.current_request_id``), every ``extra=`` field given to
the call, and ``exception`` with the traceback when there is one. The same
configuration is handed to uvicorn so that every server process (``serve
--workers N`` starts fresh interpreters) logs the same way.

Logged values come from clients (a request path, a header), so no value may
start a line of its own or reach a terminal as a control sequence: both
formats escape control characters (C0, DEL, C1), the Unicode line and
paragraph separators and the bidirectional overrides in every value, the text
format as ``\\r``, ``\\n``, ``\\x1b``, ``\\u2028``, JSON as ``\\uXXXX``.
"""

from __future__ import annotations

import contextlib
import logging
import logging.config
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any, TextIO

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
logging._srcfile = None
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False


# What a terminal or a line-based reader would act on rather than show:
# C0 controls (CR, LF, ESC, …), DEL and C1 controls (NEL, CSI, …), the Unicode
# line and paragraph separators, and the bidirectional marks and overrides.
_C0 = r"\x00-\x1f"
_OTHERS = r"\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_C0}{_OTHERS}]")
# Without the C0 controls, which orjson already writes as escapes.
_UNSAFE_IN_JSON = re.compile(f"[{_OTHERS}]")
# Without LF, which separates a traceback's lines.
_UNSAFE_IN_TRACEBACK = re.compile(rf"[\x00-\x09\x0b-\x1f{_OTHERS}]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape(value: str) -> str:
    """`value` with every character in `_UNSAFE` written as a Python-style
    escape. `str.isprintable()` is false for all of them and true for nearly
    every real value, so the common case costs one C-level scan."""
    return value if value.isprintable() else _UNSAFE.sub(_escaped, value)


def json_line(entry: dict[str, Any]) -> str:
    """`entry` as one JSON line. orjson escapes C0 controls itself; DEL, C1
    controls and the Unicode separators it writes raw, and they occur only
    inside strings, so they become ``\\uXXXX`` there (the same value to a JSON
    reader). ASCII output without DEL, nearly every line, is left as it is."""
    text = orjson.dumps(entry, default=str).decode()
    if text.isascii() and "\x7f" not in text:  # ~70 ns for an access line
        return text
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _traceback(text: str) -> str:
    """A traceback for the text format: its own line breaks kept, every line
    indented under the log line (so that an exception message cannot begin a
    line that reads like a log line of its own), and other controls escaped."""
    text = _UNSAFE_IN_TRACEBACK.sub(_escaped, text)
    return "\n".join("  | " + line for line in text.split("\n"))


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
        return json_line(entry)


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
    """``time LEVEL logger [request id]: message key=value …``, every value
    escaped (`escape`), a traceback indented below."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "") or current_request_id.get()
        text = f"{self.formatTime(record)} {record.levelname} {record.name}"
        if request_id:
            text += f" [{escape(request_id)}]"
        text += ": " + escape(record.getMessage())
        extras = _extras(record)
        if extras:
            text += " " + " ".join(f"{k}={escape(str(v))}" for k, v in extras.items())
        if record.exc_info:
            text += "\n" + _traceback(self.formatException(record.exc_info))
        elif record.exc_text:
            text += "\n" + _traceback(record.exc_text)
        if record.stack_info:
            text += "\n" + _traceback(self.formatStack(record.stack_info))
        return text


class BatchedStreamHandler(logging.StreamHandler[TextIO]):
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
        with self.lock:  # type: ignore[union-attr]  # Handler.__init__ made it (typeshed: Optional)
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
        with self.lock:  # type: ignore[union-attr]  # Handler.__init__ made it (typeshed: Optional)
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
        handler.write(json_line(entry) + handler.terminator, logger.name, level)
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
