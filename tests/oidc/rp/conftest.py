"""A real server (subprocess, its own SQLite database, the demo data), Chromium,
and the npm `openid-client` relying party in this folder (`npm ci` here:
scripts/test.sh does it). Runs in the SQLite pass, as tests/browser does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, _run
from tests.helpers.smtp import free_port

HERE = Path(__file__).resolve().parent
# The server keeps codes this long, so the expired-code case waits seconds, not a minute.
CODE_SECONDS = 4


def _skip_reason() -> str | None:
    if os.environ.get("FRONTDESK_BROWSER_TESTS", "1") == "0":
        return "FRONTDESK_BROWSER_TESTS=0"
    if os.environ.get("FRONTDESK_TEST_DATABASE_URL"):
        return "the relying party runs in the SQLite pass only (its server has its own database)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if shutil.which("node") is None:
        return "node is missing (apt-get install nodejs npm)"
    if not (HERE / "node_modules" / "openid-client").is_dir():
        return "run `npm ci` in tests/oidc/rp (scripts/test.sh does)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason is None:
        return
    for item in items:
        if Path(str(item.fspath)).resolve().parent == HERE:
            item.add_marker(pytest.mark.skip(reason=reason))


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


@dataclass
class Server:
    url: str
    password: str  # every demo user's


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("oidc-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        {
            "FRONTDESK_DATABASE_URL": f"sqlite://{work / 'frontdesk.sqlite3'}",
            "FRONTDESK_PUBLIC_URL": url,
            "FRONTDESK_SECRET_KEY": Fernet.generate_key().decode(),
            "FRONTDESK_MAIL_DIR": str(work / "mail"),
            "FRONTDESK_ARGON2_MEMORY_KIB": "1024",
            "FRONTDESK_ARGON2_TIME_COST": "1",
            "FRONTDESK_THROTTLE_ADDRESS_ATTEMPTS": "100000",
            "FRONTDESK_THROTTLE_ACCOUNT_ATTEMPTS": "1000",
            "FRONTDESK_OIDC_CODE_SECONDS": str(CODE_SECONDS),
        }
    )
    _run(["migrate"], env)
    seeded = _run(["seed-demo"], env)
    password = re.search(r"Password:\s+(\S+)", seeded)
    assert password, seeded
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / "oidc-server.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start; see test-artifacts/browser")
            time.sleep(0.1)
        yield Server(url=url, password=password.group(1))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()
