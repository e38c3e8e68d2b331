"""An SMTP sink for fault tests: records the Message-ID and From of every mail
it accepts (duplicates included), can answer slowly, and can go down and come
back on the same port."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from email.parser import BytesHeaderParser
from typing import Any

from aiosmtpd.controller import Controller

from tests.helpers.smtp import free_port


class _Recorder:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.received: list[tuple[str, str]] = []  # (Message-ID, From), in order

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = BytesHeaderParser().parsebytes(envelope.original_content)
        with self.lock:
            # Stored before the 250 reply: a sender killed now has sent this mail.
            self.received.append((str(headers["Message-ID"]), str(headers["From"])))
        return "250 2.0.0 OK"


class MailSink:
    def __init__(self, *, delay: float = 0.0, port: int | None = None) -> None:
        self.port = port or free_port()
        self._recorder = _Recorder(delay)
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        self._controller = Controller(self._recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[tuple[str, str]]:
        with self._recorder.lock:
            return list(self._recorder.received)

    @property
    def message_ids(self) -> list[str]:
        return [message_id for message_id, _ in self.received]

    def counts(self) -> Counter[str]:
        return Counter(self.message_ids)

    def env(self) -> dict[str, str]:
        """Worker settings pointing at this sink (plain SMTP on loopback)."""
        return {
            "FRONTDESK_SMTP_HOST": "127.0.0.1",
            "FRONTDESK_SMTP_PORT": str(self.port),
            "FRONTDESK_SMTP_SECURITY": "none",
            "FRONTDESK_SMTP_USERNAME": "",
            "FRONTDESK_SMTP_PASSWORD": "",
        }

    async def wait_for(self, count: int, timeout: float = 10) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sink got {len(self.received)} of {count} mails")
            await asyncio.sleep(0.01)
