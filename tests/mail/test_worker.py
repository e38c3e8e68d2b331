"""The outbox worker against a real SMTP server (aiosmtpd) and a real database."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest

from server.core import clock
from server.mail.models import MailStatus, OutboxMail
from server.mail.outbox import queue_mail
from server.mail.transport import TemporaryMailError, transport_for
from server.mail.worker import MailWorker, retry_delay
from server.settings import get_settings
from tests.helpers.smtp import SMTPServer, deliver_outbox, free_port, links_in


async def _queue(recipient: str = "ada@example.test", **context: object) -> OutboxMail:
    values = {"link": "https://portal.example.test/reset?token=abc", "minutes": 30}
    values.update(context)
    return await queue_mail(kind="password_reset", recipient=recipient, **values)


async def _reload(mail: OutboxMail) -> OutboxMail:
    return await OutboxMail.get(id=mail.id)


async def test_sends_queued_mail_through_smtp(smtp_server: SMTPServer) -> None:
    mail = await _queue()

    [message] = await smtp_server.deliver()

    assert message["To"] == "ada@example.test"
    assert message["Subject"] == mail.subject
    assert message["Message-ID"] == mail.message_id
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert links_in(message) == ["https://portal.example.test/reset?token=abc"]
    row = await _reload(mail)
    assert row.status == MailStatus.SENT
    assert row.sent_at is not None
    assert row.claimed_until is None


async def test_batch_uses_one_connection(smtp_server: SMTPServer) -> None:
    for i in range(3):
        await _queue(f"user{i}@example.test")

    sent = await deliver_outbox(smtp_server.settings())

    assert sent == 3
    assert len(await smtp_server.wait_for(3)) == 3
    assert smtp_server.connections == 1


async def test_temporary_failure_is_retried_with_backoff(smtp_server: SMTPServer) -> None:
    mail = await _queue()
    smtp_server.fail_next(451)

    assert await smtp_server.deliver() == []

    row = await _reload(mail)
    assert row.status == MailStatus.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at > clock.now() + timedelta(seconds=20)
    assert row.last_error.startswith("451")
    assert await smtp_server.deliver() == []  # not due yet

    clock.advance(timedelta(minutes=2))
    [message] = await smtp_server.deliver()

    assert message["Message-ID"] == mail.message_id
    assert (await _reload(mail)).status == MailStatus.SENT


async def test_permanent_failure_is_dead_at_once(smtp_server: SMTPServer) -> None:
    mail = await _queue()
    smtp_server.fail_next(550)

    assert await smtp_server.deliver() == []

    row = await _reload(mail)
    assert row.status == MailStatus.DEAD
    assert row.last_error.startswith("550")
    clock.advance(timedelta(hours=2))
    assert await smtp_server.deliver() == []


async def test_dead_after_max_attempts(smtp_server: SMTPServer) -> None:
    mail = await _queue()
    smtp_server.fail_next(451, n=3)

    await smtp_server.deliver(mail_max_attempts=2)
    assert (await _reload(mail)).status == MailStatus.PENDING
    clock.advance(timedelta(hours=2))
    await smtp_server.deliver(mail_max_attempts=2)

    row = await _reload(mail)
    assert row.status == MailStatus.DEAD
    assert row.attempts == 2
    assert smtp_server.messages == []


def test_backoff_grows_and_is_capped() -> None:
    assert timedelta(seconds=22) <= retry_delay(1) <= timedelta(seconds=38)
    assert timedelta(seconds=45) <= retry_delay(2) <= timedelta(seconds=75)
    assert retry_delay(30) <= timedelta(hours=1, minutes=15)


async def test_server_down_loses_nothing() -> None:
    mail = await _queue()
    settings = dataclasses.replace(
        get_settings(),
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_timeout=2.0,
    )

    assert await deliver_outbox(settings) == 0

    row = await _reload(mail)
    assert row.status == MailStatus.PENDING
    assert row.attempts == 0  # the mail is not to blame
    assert row.claimed_until is None
    assert "cannot open SMTP connection" in row.last_error


async def test_expired_claim_is_picked_up_again(smtp_server: SMTPServer) -> None:
    crashed = await _queue("crashed@example.test")
    busy = await _queue("busy@example.test")
    now = clock.now()
    await OutboxMail.filter(id=crashed.id).update(
        status=MailStatus.SENDING, claimed_until=now - timedelta(minutes=1)
    )
    await OutboxMail.filter(id=busy.id).update(
        status=MailStatus.SENDING, claimed_until=now + timedelta(minutes=5)
    )

    [message] = await smtp_server.deliver()

    assert message["To"] == "crashed@example.test"
    assert (await _reload(crashed)).status == MailStatus.SENT
    assert (await _reload(busy)).status == MailStatus.SENDING


async def test_concurrent_workers_send_each_mail_once(smtp_server: SMTPServer) -> None:
    mails = [await _queue(f"user{i}@example.test") for i in range(6)]
    settings = smtp_server.settings(mail_batch_size=4)

    results = await asyncio.gather(MailWorker(settings).run_once(), MailWorker(settings).run_once())
    results += await asyncio.gather(
        MailWorker(settings).run_once(), MailWorker(settings).run_once()
    )

    assert sum(results) == 6
    received = sorted(str(m["Message-ID"]) for m in await smtp_server.wait_for(6))
    assert received == sorted(m.message_id for m in mails)
    assert await MailWorker(settings).queue_depth() == {
        "pending": 0,
        "sending": 0,
        "sent": 6,
        "dead": 0,
    }


async def test_file_transport_writes_eml(tmp_path: Path) -> None:
    mail = await _queue()
    settings = dataclasses.replace(get_settings(), smtp_host="", mail_dir=str(tmp_path))

    assert await deliver_outbox(settings) == 1

    [written] = list(tmp_path.glob("*.eml"))  # noqa: ASYNC240 - test, tiny directory
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)  # noqa: ASYNC240
    assert message["Message-ID"] == mail.message_id
    assert message["Subject"] == mail.subject
    assert message["To"] == "ada@example.test"
    assert (await _reload(mail)).status == MailStatus.SENT


@pytest.mark.parametrize(
    "recipient",
    ["ada@example.test\r\nBcc: eve@example.test", "ada@example.test\nX: y", "a@b\x00c"],
)
async def test_header_injection_is_refused(recipient: str) -> None:
    with pytest.raises(ValueError):
        await _queue(recipient)
    assert await OutboxMail.all().count() == 0


async def test_starttls_required_fails_closed(smtp_server: SMTPServer) -> None:
    mail = await _queue()

    with pytest.raises(TemporaryMailError, match="STARTTLS"):
        async with transport_for(smtp_server.settings(smtp_security="starttls")):
            pass
    assert await smtp_server.deliver(smtp_security="starttls") == []

    row = await _reload(mail)
    assert row.status == MailStatus.PENDING
    assert row.attempts == 0
    assert smtp_server.messages == []


async def test_last_error_never_holds_credentials() -> None:
    mail = await _queue()
    settings = dataclasses.replace(
        get_settings(),
        smtp_host="smtp.example.test",
        smtp_username="mailer",
        smtp_password="s3cr3t-pw",
    )

    class LeakyTransport:
        async def __aenter__(self) -> LeakyTransport:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

        async def send(self, message: object) -> None:
            raise TemporaryMailError("535 auth failed for mailer with s3cr3t-pw")

    await MailWorker(settings, lambda _s: LeakyTransport()).run_once()

    row = await _reload(mail)
    assert "s3cr3t-pw" not in row.last_error
    assert "mailer" not in row.last_error
    assert row.attempts == 1


async def test_configuration_error_claims_nothing() -> None:
    mail = await _queue()
    # Credentials over plain SMTP to a remote host: the transport refuses to exist.
    settings = dataclasses.replace(
        get_settings(), smtp_host="smtp.example.test", smtp_security="none", smtp_username="mailer"
    )

    with pytest.raises(ValueError, match="without TLS"):
        await MailWorker(settings).run_once()

    assert (await _reload(mail)).status == MailStatus.PENDING


async def test_run_forever_stops_promptly(smtp_server: SMTPServer) -> None:
    await _queue()
    stop = asyncio.Event()
    worker = MailWorker(smtp_server.settings(mail_poll_seconds=30))

    task = asyncio.create_task(worker.run_forever(stop))
    await smtp_server.wait_for(1)
    stop.set()

    await asyncio.wait_for(task, timeout=2)
    assert (await worker.queue_depth())["sent"] == 1
