"""A real SMTP server (aiosmtpd) for tests, and helpers to push the outbox through it.

async def test_invite(smtp_server):
    ...  # a mutation that queues a mail
    [message] = await smtp_server.deliver()
    link = links_in(message)[0]
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import re
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from server.mail.worker import MailWorker
from server.settings import Settings, get_settings

_HTTPS_LINK = re.compile(r"https://[^\s<>\"']+")


def free_port() -> int:
    """A port nothing listens on (aiosmtpd's Controller(port=0) fails its start check)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def links_in(message: EmailMessage) -> list[str]:
    """The https links of the message's text/plain part, in order."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return []
    return _HTTPS_LINK.findall(part.get_content())


async def deliver_outbox(settings: Settings) -> int:
    """Run the real mail worker once; returns how many mails it sent."""
    return await MailWorker(settings).run_once()


class _Handler:
    """aiosmtpd handler; runs in the controller's thread, hence the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.sessions: list[Any] = []  # one per connection that said EHLO/HELO
        self.failures: list[int] = []

    def _greeted(self, session: Any) -> None:
        with self.lock:
            if not any(known is session for known in self.sessions):
                self.sessions.append(session)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        self._greeted(session)
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):  # noqa: N802
        session.host_name = hostname
        self._greeted(session)
        return f"250 {server.hostname}"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            code = self.failures.pop(0) if self.failures else None
            if code is not None:
                kind = "4.3.0 Temporary failure" if code < 500 else "5.7.1 Rejected"
                return f"{code} {kind} (test)"
            message = email.message_from_bytes(
                envelope.original_content, policy=email.policy.default
            )
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 2.0.0 OK"


class SMTPServer:
    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._handler.lock:
            return list(self._handler.messages)

    @property
    def connections(self) -> int:
        """SMTP sessions that greeted (the controller's own start check does not)."""
        with self._handler.lock:
            return len(self._handler.sessions)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "none",
            "smtp_username": "",
            "smtp_password": "",
            "smtp_timeout": 5.0,
        }
        values.update(overrides)
        return dataclasses.replace(get_settings(), **values)

    def fail_next(self, code: int, n: int = 1) -> None:
        """Answer the next ``n`` DATA commands with ``code`` (e.g. 451 or 550)."""
        with self._handler.lock:
            self._handler.failures.extend([code] * n)

    async def wait_for(self, count: int, timeout: float = 5) -> list[EmailMessage]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            # Polling: the messages arrive in the controller's thread, not on this loop.
            while len(self.messages) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        return self.messages

    async def deliver(self, **overrides: Any) -> list[EmailMessage]:
        """Run the real worker once against this server; the newly received messages."""
        before = len(self.messages)
        await deliver_outbox(self.settings(**overrides))
        # The server stores a message before it answers DATA: nothing to wait for.
        return self.messages[before:]

    links_in = staticmethod(links_in)


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
