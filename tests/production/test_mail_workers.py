"""Mail workers as real processes on PostgreSQL (`python -m server worker`)
against an aiosmtpd sink: two workers share 1,000 mails and send each once;
SMTP down for a while delays mails without losing them; a worker killed with
SIGKILL in the middle of a batch loses nothing and sends at most the mail in
flight twice (same Message-ID); SIGTERM finishes the mail in flight and hands
the rest back."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import time
from collections import Counter

import pytest
from tortoise.transactions import in_transaction

from server import db
from server.mail.models import MailStatus, OutboxMail
from server.mail.outbox import queue_mail
from server.mail.worker import MailWorker
from server.settings import get_settings
from tests.conftest import DATABASE_URL
from tests.helpers.mailsink import MailSink
from tests.helpers.smtp import free_port
from tests.production.conftest import Processes

pytestmark = pytest.mark.skipif(
    not db.is_postgres(DATABASE_URL),
    reason="several worker processes on one database: PostgreSQL only (run with make test)",
)

LINK = "https://portal.example.test/reset#token=abc"
READY = "Mail worker running"


async def queue(n: int, prefix: str = "user") -> list[str]:
    """n pending mails in one transaction (they become due together); their Message-IDs."""
    async with in_transaction():
        mails = [
            await queue_mail(
                kind="password_reset", recipient=f"{prefix}{i}@example.test", link=LINK, minutes=30
            )
            for i in range(n)
        ]
    return [mail.message_id for mail in mails]


async def wait_until_sent(n: int, timeout: float) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while (sent := await OutboxMail.filter(status=MailStatus.SENT).count()) < n:
        if time.monotonic() > deadline:
            statuses = Counter(await OutboxMail.all().values_list("status", flat=True))
            pytest.fail(f"{sent} of {n} mails sent after {timeout}s: {dict(statuses)}")
        await asyncio.sleep(0.1)


def worker_env(sink: MailSink, **extra: str) -> dict[str, str]:
    return {
        **sink.env(),
        "FRONTDESK_MAIL_POLL_SECONDS": "0.1",
        "FRONTDESK_SMTP_TIMEOUT": "2",
        **extra,
    }


async def test_two_worker_processes_send_1000_mails_each_exactly_once(processes: Processes):
    sink = MailSink().start()
    try:
        workers = [
            processes.worker(
                name,
                **worker_env(
                    sink,
                    FRONTDESK_MAIL_BATCH_SIZE="50",
                    FRONTDESK_MAIL_FROM=f"Worker {name} <{name}@frontdesk.test>",
                ),
            )
            for name in ("a", "b")
        ]
        for worker in workers:
            await worker.wait_for_log(READY)

        queued = await queue(1000)
        await wait_until_sent(1000, timeout=60)

        counts = sink.counts()
        assert set(counts) == set(queued)
        assert [m for m, n in counts.items() if n != 1] == []
        assert len(sink.received) == 1000
        # Both processes took part (each stamps its own From on what it sends).
        senders = Counter(sender for _, sender in sink.received)
        assert set(senders) == {"Worker a <a@frontdesk.test>", "Worker b <b@frontdesk.test>"}
        assert await OutboxMail.exclude(status=MailStatus.SENT).count() == 0

        for worker in workers:
            worker.signal(signal.SIGTERM)
        assert [await worker.exit_code() for worker in workers] == [0, 0]
    finally:
        sink.stop()


async def test_mails_wait_while_smtp_is_down_and_go_out_when_it_is_back(processes: Processes):
    port = free_port()  # nothing listens here yet
    sink = MailSink(port=port)
    worker = processes.worker("worker", **worker_env(sink, FRONTDESK_MAIL_RETRY_SECONDS="0.5"))
    await worker.wait_for_log(READY)
    queued = await queue(30)
    try:
        await worker.wait_for_log("Mail transport unavailable", timeout=10)
        await asyncio.sleep(1.5)  # down for a while: several attempts to connect
        rows = await OutboxMail.all()
        assert {row.status for row in rows} <= {MailStatus.PENDING, MailStatus.SENDING}
        assert all(row.attempts == 0 for row in rows)  # not the mails' fault
        assert any("cannot open SMTP connection" in row.last_error for row in rows)

        sink.start()  # SMTP is back on the same port
        await wait_until_sent(30, timeout=20)
        assert sorted(sink.message_ids) == sorted(queued)
        assert worker.alive()
    finally:
        sink.stop()


async def test_worker_killed_mid_batch_loses_nothing(processes: Processes):
    sink = MailSink(delay=0.02).start()
    # A short lease so that the killed worker's claim runs out within the test.
    env = worker_env(sink, FRONTDESK_MAIL_BATCH_SIZE="20", FRONTDESK_MAIL_LEASE_SECONDS="2")
    try:
        first = processes.worker("first", **env)
        await first.wait_for_log(READY)
        queued = await queue(100)
        await sink.wait_for(30)  # in the middle of the second batch

        first.signal(signal.SIGKILL)
        assert await first.exit_code() == -signal.SIGKILL
        killed_at = len(sink.received)
        stranded = {row.message_id for row in await OutboxMail.filter(status=MailStatus.SENDING)}
        assert stranded, "the worker was not killed in the middle of a batch"

        second = processes.worker("second", **env)
        await wait_until_sent(100, timeout=30)

        counts = sink.counts()
        assert set(counts) == set(queued)  # nothing lost
        twice = [m for m, n in counts.items() if n > 1]
        # At most the mail in flight when the worker died went out twice, with the
        # same Message-ID, and only after the lease ran out.
        assert len(twice) <= 1, twice
        assert set(twice) <= stranded
        assert all(n <= 2 for n in counts.values())
        assert killed_at <= len(sink.received) == 100 + len(twice)
        second.signal(signal.SIGTERM)
        assert await second.exit_code() == 0
    finally:
        sink.stop()


async def test_sigterm_finishes_the_mail_in_flight_and_hands_back_the_rest(
    processes: Processes,
):
    sink = MailSink(delay=0.05).start()
    try:
        worker = processes.worker("worker", **worker_env(sink, FRONTDESK_MAIL_BATCH_SIZE="50"))
        await worker.wait_for_log(READY)
        queued = await queue(50)
        await sink.wait_for(5)

        worker.signal(signal.SIGTERM)
        assert await worker.exit_code(timeout=5) == 0

        sent = sink.message_ids
        assert len(sent) == len(set(sent)) < 50
        rows = {row.message_id: row for row in await OutboxMail.all()}
        assert {m for m, row in rows.items() if row.status == MailStatus.SENT} == set(sent)
        rest = [row for m, row in rows.items() if m not in set(sent)]
        assert all(row.status == MailStatus.PENDING and row.claimed_until is None for row in rest)

        # Handed back, not leased: the next worker sends them at once, each once.
        settings = dataclasses.replace(
            get_settings(),
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_security="none",
            mail_batch_size=50,
        )
        await MailWorker(settings).run_once()
        assert sorted(sink.message_ids) == sorted(queued)
    finally:
        sink.stop()
