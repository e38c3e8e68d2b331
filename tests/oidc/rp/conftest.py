"""A real server (subprocess, its own SQLite database, the demo data), Chromium,
and the npm `openid-client` relying party in this folder (`npm ci` here:
scripts/test.sh does it). Runs in the SQLite pass, as tests/browser does. The
server and the browser come from tests/helpers/oidc_server.py."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import oidc_server
from tests.helpers.live_server import demo_server, skip_below
from tests.helpers.oidc_server import Server
from tests.helpers.smtp import free_port

HERE = Path(__file__).resolve().parent
# The server keeps codes this long, so the expired-code case waits seconds, not a minute.
CODE_SECONDS = 4


def _skip_reason() -> str | None:
    reason = oidc_server.skip_reason()
    if reason is not None:
        return reason
    if shutil.which("node") is None:
        return "node is missing (apt-get install nodejs npm)"
    if not (HERE / "node_modules" / "openid-client").is_dir():
        return "run `npm ci` in tests/oidc/rp (scripts/test.sh does)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_below(HERE, items, _skip_reason())


@pytest.fixture(autouse=True)
def clean_database() -> Iterator[None]:
    """The relying party's server has its own database, not the suite's."""
    yield


RP_PORT = free_port()


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        body = b"<!doctype html><title>Relying party</title><p>relying party</p>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="package")
def rp_pages() -> Iterator[None]:
    """The relying party's callback and goodbye pages (they show nothing of note)."""
    pages = ThreadingHTTPServer(("127.0.0.1", RP_PORT), _Pages)
    thread = threading.Thread(target=pages.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        pages.shutdown()
        pages.server_close()


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(
        tmp_path_factory.mktemp("oidc-server"),
        log_name="oidc-server.log",
        env={"FRONTDESK_OIDC_CODE_SECONDS": str(CODE_SECONDS)},
    ) as server:
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    yield from oidc_server.chromium()
