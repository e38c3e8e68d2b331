"""Client-controlled values cannot forge log lines or reach a terminal as
control sequences: a request path with CR, LF, ESC, C1 controls and Unicode
line separators gives exactly one access line, escaped, in the text and the
JSON format — through the in-process app on either database, and through a
real `frontdesk serve` process reading the request off a socket."""

from __future__ import annotations

import io
import logging
import socket
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from server.ops.logs import (
    BatchedStreamHandler,
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    escape,
    json_line,
    log_line,
)
from tests.helpers.instance import fresh, serving

# What an attacker would put in a path: a whole forged line after CR LF, an
# ANSI "clear screen" and colour, a C1 CSI, NEL, the Unicode line separator and
# a right-to-left override. Percent-encoded, as it travels in a request line.
FORGED_LINE = "2026-01-01 00:00:00,000 INFO frontdesk.access: POST /admin 200"
RAW_PATH = f"/x\r\n{FORGED_LINE}\x1b[2J\x1b[31m\x9b\x85\u2028\u2029\u202eend"
ENCODED_PATH = (
    "/x%0D%0A"
    + FORGED_LINE.replace(" ", "%20")
    + "%1B[2J%1B[31m%C2%9B%C2%85%E2%80%A8%E2%80%A9%E2%80%AEend"
)
ESCAPED_PATH = f"/x\\r\\n{FORGED_LINE}\\x1b[2J\\x1b[31m\\x9b\\x85\\u2028\\u2029\\u202eend"
UNSAFE = ["\r", "\n", "\x1b", "\x9b", "\x85", "\u2028", "\u2029", "\u202e", "\x00", "\x7f"]


def _no_unsafe_characters(text: str) -> None:
    """Nothing but printable text and the line ends between lines."""
    for line in text.split("\n"):
        assert all(char not in line for char in UNSAFE), repr(line)


# --- the escaping itself ------------------------------------------------------------------


def test_every_control_and_separator_is_escaped_and_nothing_else():
    for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x202E, 0x2066, 0x061C]:
        char = chr(code)
        assert not char.isprintable()  # what `escape`'s fast path relies on
        escaped = escape(f"a{char}b")
        assert escaped.isprintable() and escaped.startswith("a\\") and escaped.endswith("b")
        line = json_line({"v": f"a{char}b"})
        assert line.isascii() and line.isprintable(), repr(line)
        assert orjson.loads(line) == {"v": f"a{char}b"}  # the same value to a JSON reader
    kept = "Zoë 東京 ünïcode – “quotes” \\ back\\slash"
    assert escape(kept) == kept
    assert orjson.loads(json_line({"v": kept})) == {"v": kept}
    assert escape("a\r\nb\tc\x1b") == "a\\r\\nb\\tc\\x1b"


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("frontdesk.test", logging.ERROR, "", 0, message, args, None)
    record.__dict__.update(extra)
    return record


def test_text_lines_escape_the_message_the_arguments_the_fields_and_the_request_id():
    record = _record(
        "user %s said\n%s", "eve\x1b[31m", FORGED_LINE, path=RAW_PATH, request_id="r\n1"
    )
    line = TextFormatter().format(record)
    assert "\n" not in line
    _no_unsafe_characters(line)
    assert "[r\\n1]: user eve\\x1b[31m said\\n2026-01-01" in line
    assert f"path={ESCAPED_PATH}" in line


def test_a_traceback_keeps_its_lines_indented_below_the_log_line():
    try:
        raise ValueError(f"bad path {RAW_PATH}")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    text = TextFormatter().format(record)
    first, *rest = text.split("\n")
    assert first.endswith("ERROR frontdesk.test: failed")
    assert rest and all(line.startswith("  | ") for line in rest)  # no line of its own
    assert any(line.startswith("  | Traceback") for line in rest)
    _no_unsafe_characters(text)
    entry = orjson.loads(JsonFormatter().format(record))
    assert RAW_PATH in entry["exception"]


# --- through HTTP, in process ---------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_hostile_path_gives_one_escaped_access_line(http, log_format):
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream, interval=3600)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("frontdesk")
    old = logger.handlers, logger.propagate, logger.level
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    try:
        response = await http.get(ENCODED_PATH, headers={"x-request-id": "hostile-path"})
        handler.flush()
    finally:
        logger.handlers, logger.propagate = old[0], old[1]
        logger.setLevel(old[2])
    assert response.status_code == 404
    text = stream.getvalue()
    _no_unsafe_characters(text)
    [line] = [line for line in text.splitlines() if "hostile-path" in line]
    assert text.count("\n") == 1 and text.endswith("\n")  # one line for one request
    if log_format == "json":
        entry = orjson.loads(line)
        assert entry["path"] == RAW_PATH  # escaped on the wire, intact to a JSON reader
        assert entry["message"].startswith(f"GET {RAW_PATH} 404 ")
    else:
        assert f"GET {ESCAPED_PATH} 404 " in line
        assert f"path={ESCAPED_PATH} status=404" in line


def test_the_fast_json_access_line_is_escaped_like_the_logged_one():
    handler = BatchedStreamHandler(io.StringIO(), interval=3600)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("frontdesk.test.escape")
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    try:
        fields = {"path": RAW_PATH, "status": 404}
        log_line(logger, logging.INFO, f"GET {RAW_PATH}", fields)
        logger.log(logging.INFO, f"GET {RAW_PATH}", extra=fields)
        handler.flush()
    finally:
        logger.handlers, logger.propagate = [], True
        logger.setLevel(logging.NOTSET)
    text = handler.stream.getvalue()
    _no_unsafe_characters(text)
    direct, logged = (orjson.loads(line) for line in text.splitlines())
    assert direct["path"] == logged["path"] == RAW_PATH
    assert direct["message"] == logged["message"] == f"GET {RAW_PATH}"


# --- through a real server process ------------------------------------------------------------


def _raw_get(base: str, target: str) -> bytes:
    """A request line exactly as given (an HTTP client would re-encode it)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {host}\r\nX-Request-ID: hostile-path\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _wait_for(path: Path, text: str) -> str:
    deadline = time.monotonic() + 10  # access lines are batched for up to 0.5 s
    while text not in (content := path.read_text(errors="replace")):
        assert time.monotonic() < deadline, content
        time.sleep(0.05)
    return content


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_real_server_writes_one_escaped_line_for_a_hostile_path(migrated, tmp_path, log_format):
    instance = fresh(migrated, tmp_path)
    instance.extra_env["FRONTDESK_LOG_FORMAT"] = log_format
    with serving(instance) as base:
        assert _raw_get(base, ENCODED_PATH).startswith(b"HTTP/1.1 404")
        httpx.get(f"{base}/healthz", headers={"x-request-id": "after"})
        log = _wait_for(instance.directory / "serve.log", "hostile-path")
    _no_unsafe_characters(log)
    [line] = [line for line in log.splitlines() if "hostile-path" in line]
    if log_format == "json":
        assert all(orjson.loads(each) for each in log.splitlines())  # no line but ours
        assert orjson.loads(line)["path"] == RAW_PATH
    else:
        assert not any(each.startswith(FORGED_LINE) for each in log.splitlines())
        assert f"path={ESCAPED_PATH} status=404" in line
