"""Browser tests: the admin SPA in Debian's Chromium, driven by Playwright,
against the real server and a real SMTP server.

One server per run: `python -m server serve` as a subprocess on a free port,
with a throwaway SQLite database (migrated and seeded with the demo tree) and
its mail worker sending to an aiosmtpd on 127.0.0.1. The browser loads the
app from exactly FRONTDESK_PUBLIC_URL (http://127.0.0.1:PORT; Chromium counts
127.0.0.1 as a secure context, so the Secure `__Host-` cookie works).

Skipped when FRONTDESK_BROWSER_TESTS=0, in the PostgreSQL pass
(FRONTDESK_TEST_DATABASE_URL set) and when Chromium is missing.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.live_server import DemoServer, demo_server
from tests.helpers.smtp import SMTPServer

CHROMIUM = os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_HERE = Path(__file__).resolve().parent


def _skip_reason() -> str | None:
    if os.environ.get("FRONTDESK_BROWSER_TESTS", "1") == "0":
        return "FRONTDESK_BROWSER_TESTS=0"
    if os.environ.get("FRONTDESK_TEST_DATABASE_URL"):
        return "browser tests run in the SQLite pass only"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError:
        return "playwright / axe-playwright-python not installed (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason is None:
        return
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def clean_database() -> Iterator[None]:
    """The browser tests use the server's own database, not the suite's."""
    yield


# --- mail --------------------------------------------------------------------------

_LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass
class Mailbox:
    smtp: SMTPServer
    seen: set[int] = field(default_factory=set)

    def wait_for(self, to: str, subject: str = "", timeout: float = 15) -> EmailMessage:
        """The next mail to `to` (whose subject contains `subject`) not taken yet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, message in enumerate(self.smtp.messages):
                if index in self.seen:
                    continue
                if to.lower() in str(message["To"]).lower() and subject in str(message["Subject"]):
                    self.seen.add(index)
                    return message
            time.sleep(0.1)
        got = [(str(m["To"]), str(m["Subject"])) for m in self.smtp.messages]
        raise AssertionError(f"no mail to {to} ({subject!r}) within {timeout}s; got {got}")

    @staticmethod
    def link(message: EmailMessage, path: str) -> str:
        part = message.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
        for link in _LINK.findall(text):
            if path in link:
                return link
        raise AssertionError(f"no {path} link in:\n{text}")


@pytest.fixture(scope="package")
def smtp() -> Iterator[SMTPServer]:
    # aiosmtpd logs each connection from its own thread, which outlives the
    # output capture of the test that made it; only problems are worth a line.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    server = SMTPServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(smtp: SMTPServer) -> Mailbox:
    return Mailbox(smtp, seen=set(range(len(smtp.messages))))


# --- the server ---------------------------------------------------------------------


@dataclass
class Server(DemoServer):
    def age_session(self, email: str, minutes: int = 10) -> None:
        """Make the person's sessions look signed in `minutes` ago (step-up tests).

        Test harness only: the app has no such switch. Written in the format
        Tortoise stores, read from the row itself."""
        with sqlite3.connect(self.database, timeout=10) as db:
            rows = db.execute(
                'SELECT s.id, s.authenticated_at FROM "session" s JOIN "user" u ON u.id = s.user_id '
                "WHERE u.email = ?",
                (email,),
            ).fetchall()
            assert rows, f"{email} has no session"
            for session_id, stamp in rows:
                aged = _parse(stamp) - timedelta(minutes=minutes)
                text = aged.isoformat(sep=" " if " " in str(stamp) else "T")
                db.execute(
                    'UPDATE "session" SET authenticated_at = ? WHERE id = ?', (text, session_id)
                )


def _parse(stamp: Any):
    from datetime import datetime

    return datetime.fromisoformat(str(stamp))


@pytest.fixture(scope="package")
def server(smtp: SMTPServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(smtp, tmp_path_factory.mktemp("browser-server"), "127.0.0.1")


@pytest.fixture(scope="package")
def localhost_server(
    smtp: SMTPServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A second server whose public URL is http://localhost:PORT: WebAuthn needs a
    domain for its relying party id (Chromium refuses an IP address such as 127.0.0.1)."""
    yield from _serve(smtp, tmp_path_factory.mktemp("browser-localhost"), "localhost")


def _serve(smtp: SMTPServer, work: Path, host: str) -> Iterator[Server]:
    settings = {
        "FRONTDESK_SMTP_HOST": "127.0.0.1",
        "FRONTDESK_SMTP_PORT": str(smtp.port),
        "FRONTDESK_SMTP_SECURITY": "none",
        "FRONTDESK_MAIL_POLL_SECONDS": "0.2",
        # The app as a locked-down deployment runs it: every screen of every browser
        # test sends only the documents of static/admin/documents.json, by id.
        "FRONTDESK_TRUSTED_DOCUMENTS": "enforce",
        # The webhook journey's receiver listens on 127.0.0.1.
        "FRONTDESK_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    log_name = "server.log" if host == "127.0.0.1" else f"server-{host}.log"
    with demo_server(work, log_name=log_name, host=host, env=settings) as started:
        yield Server(url=started.url, database=started.database, password=started.password)


# --- the browser --------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    # Package scope, not session: the sync API keeps its event loop running
    # while it is open, which the asyncio tests after this package must not see.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def app(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    from tests.browser.helpers import App

    portal = App(browser, server, name=request.node.name)
    try:
        yield portal
        if request.node.stash.get(_FAILED, False):
            portal.shoot_all("failure")  # what each page showed when the test failed
    finally:
        portal.close()
