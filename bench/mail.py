"""Mail throughput: the real MailWorker draining the outbox into a local aiosmtpd
sink (separate process), with connection reuse (one SMTP connection per
batch, as in production) and with one connection per mail.

    python -m bench.mail OUT.json REUSE_MAILS PER_MAIL_MAILS REPEATS
    (FRONTDESK_DATABASE_URL set by the caller; the database is migrated here)
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self

import uvloop

from bench.common import PYTHON, ROOT, free_port, stop_on_sigterm
from server import db
from server.core import clock
from server.mail.models import MailStatus, OutboxMail
from server.mail.templates import render
from server.mail.transport import SMTPTransport
from server.mail.worker import MailWorker
from server.settings import Settings, get_settings


class OneConnectionPerMail:
    """The comparison: every mail opens, greets and quits its own SMTP connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def send(self, message: EmailMessage) -> None:
        async with SMTPTransport(self.settings) as transport:
            await transport.send(message)


async def queue(count: int) -> None:
    rendered = render("password_changed", name="Ada Lovelace")
    now = clock.now()
    rows = [
        OutboxMail(
            kind="password_changed",
            message_id=f"<{uuid.uuid4().hex}@bench.example>",
            recipient=f"user{i}@bench.example",
            subject=rendered.subject,
            text_body=rendered.text,
            html_body=rendered.html,
            status=MailStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            last_error="",
            created_at=now,
        )
        for i in range(count)
    ]
    await OutboxMail.bulk_create(rows, batch_size=1000)


async def one_run(settings: Settings, count: int, per_mail: bool) -> dict[str, Any]:
    port = free_port()
    sink = subprocess.Popen(  # noqa: ASYNC220, S603
        [PYTHON, "-m", "bench.smtp_sink", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None
        sink.stdout.readline()  # "ready"
        smtp = dataclasses.replace(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_username="",
            smtp_password="",
            smtp_timeout=10.0,
        )
        await OutboxMail.all().delete()
        await queue(count)
        worker = (
            MailWorker(smtp, transport_factory=OneConnectionPerMail)
            if per_mail
            else MailWorker(smtp)
        )
        started = time.perf_counter()
        sent = 0
        while True:
            batch = await worker.run_once()
            if batch == 0:
                break
            sent += batch
        elapsed = time.perf_counter() - started
    finally:
        sink.terminate()
        out, _ = sink.communicate(timeout=10)
    received = json.loads(out.strip().splitlines()[-1])
    return {
        "mails": count,
        "sent": sent,
        "seconds": elapsed,
        "per_second": sent / elapsed,
        "received": received["messages"],
        "unique_message_ids": received["unique"],
        "connections": received["connections"],
    }


async def measure(reuse: int, per_mail: int, repeats: int) -> dict[str, list[dict[str, Any]]]:
    settings = get_settings()
    await db.migrate(settings.database_url)
    await db.close_db()
    await db.init_db(settings.database_url)
    results: dict[str, list[dict[str, Any]]] = {"reuse": [], "per_mail": []}
    try:
        for _ in range(repeats):
            results["reuse"].append(await one_run(settings, reuse, per_mail=False))
            results["per_mail"].append(await one_run(settings, per_mail, per_mail=True))
    finally:
        await db.close_db()
    return results


def main() -> None:
    stop_on_sigterm()
    out, reuse, per_mail, repeats = sys.argv[1], *map(int, sys.argv[2:5])
    # uvloop, as in `frontdesk serve` (where the worker runs by default).
    results = uvloop.run(measure(reuse, per_mail, repeats))
    with open(out, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
