"""Outbox worker: claims due mails, sends a batch over one connection, records the outcome.

Claims are leases (status ``sending`` until ``claimed_until``): a crashed worker's
claim expires and another worker sends the mail. Every state change after the
claim is conditional on our lease, so a worker whose lease was taken over
cannot overwrite the new owner's outcome.

Stopping (SIGTERM, server shutdown) lets the mail being sent finish and hands
the rest of the batch back at once: nothing waits for a lease to expire, and
nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from tortoise.functions import Count

from server.core import clock
from server.core.leases import LeasedQueue, poll, retry_delay
from server.core.prepared import PreparedUpdate
from server.mail.models import MailStatus, OutboxMail
from server.mail.transport import (
    MailTransport,
    PermanentMailError,
    TemporaryMailError,
    build_message,
    transport_for,
    wire_message,
)
from server.settings import Settings

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000


# The update of every mail sent, its SQL built once (server/core/prepared.py):
# Tortoise would build it for every mail, which costs more than running it.
_MARK_SENT = PreparedUpdate(
    OutboxMail,
    lambda mail_id, lease_end, sent_at: OutboxMail.filter(
        id=mail_id, status=MailStatus.SENDING, claimed_until=lease_end
    ).update(status=MailStatus.SENT, claimed_until=None, sent_at=sent_at, sealed=None),
)


class MailWorker:
    def __init__(
        self,
        settings: Settings,
        transport_factory: Callable[[Settings], MailTransport] = transport_for,
    ) -> None:
        self.settings = settings
        self.transport_factory = transport_factory
        # The lease must outlast the batch, or another worker would resend it; as a
        # backstop, sending stops while one slow send (several SMTP round trips) still fits.
        timeout = timedelta(seconds=settings.smtp_timeout)
        if settings.mail_lease_seconds > 0:
            self.lease = timedelta(seconds=settings.mail_lease_seconds)
        else:
            self.lease = timedelta(minutes=5) + settings.mail_batch_size * timeout
        self.lease_margin = min(5 * timeout, self.lease / 2)
        self.queue = LeasedQueue(
            OutboxMail,
            pending=MailStatus.PENDING,
            sending=MailStatus.SENDING,
            database_url=settings.database_url,
        )

    def _retry_delay(self, attempts: int) -> timedelta:
        return retry_delay(attempts, self.settings.mail_retry_seconds)

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Send one batch of due mails; returns how many were sent. Once ``stop``
        is set, the mail being sent is finished and the rest handed back."""
        # Built first: a configuration error must not leave claimed rows behind.
        transport = self.transport_factory(self.settings)
        now = clock.now()
        lease_end = now + self.lease
        batch = await self.queue.claim(now, lease_end, self.settings.mail_batch_size)
        if not batch:
            return 0
        sent = 0
        remaining = list(batch)
        try:
            async with transport:
                while remaining and clock.now() < lease_end - self.lease_margin:
                    if stop is not None and stop.is_set():
                        break
                    mail = remaining.pop(0)
                    try:
                        await self._send(transport, mail)
                    except TemporaryMailError as exc:
                        await self._retry_later(mail, lease_end, str(exc))
                        if exc.connection_lost:
                            break  # the rest goes back to pending below
                    except (PermanentMailError, ValueError) as exc:
                        await self._finish(mail, lease_end, MailStatus.DEAD, str(exc))
                    else:
                        await self._finish(mail, lease_end, MailStatus.SENT)
                        sent += 1
        except TemporaryMailError as exc:
            # Could not connect (server down, STARTTLS missing): not the mails' fault,
            # so no attempt is counted, but wait before hammering the server again.
            logger.warning("Mail transport unavailable: %s", self._redact(str(exc)))
            for mail in remaining:
                await self._release(mail, lease_end, str(exc), delay=True)
            return sent
        # Connection lost, lease running out or stopping: due again at once.
        reason = "worker stopped" if stop is not None and stop.is_set() else "batch interrupted"
        for mail in remaining:
            await self._release(mail, lease_end, reason, delay=False)
        return sent

    async def _send(self, transport: MailTransport, mail: OutboxMail) -> None:
        # SMTP takes the message in wire form, built without the `email` package
        # (which costs ~3 ms of CPU per mail); other transports get an EmailMessage.
        send_wire: Callable[[str, str, bytes], Awaitable[None]] | None = getattr(
            transport, "send_wire", None
        )
        wire = wire_message(mail, self.settings) if send_wire is not None else None
        if send_wire is not None and wire is not None:
            await send_wire(*wire)
        else:
            await transport.send(build_message(mail, self.settings))

    async def _finish(
        self,
        mail: OutboxMail,
        lease_end: datetime,
        status: MailStatus,
        error: str = "",
        **extra: object,
    ) -> None:
        # A sent or dead mail's link or code is no longer needed (server/mail/sealed.py).
        changes: dict[str, object] = {
            "status": status,
            "claimed_until": None,
            "sealed": None,
            **extra,
        }
        if status == MailStatus.SENT and not extra:
            # The update of every mail sent: its SQL is built once.
            if await _MARK_SENT.execute(mail.id, lease_end, clock.now()) != 1:
                logger.warning("Mail %s: lease lost before recording %s", mail.id, status.value)
            return
        if status == MailStatus.SENT:
            changes["sent_at"] = clock.now()
        else:
            changes["last_error"] = self._redact(error)
            logger.error("Mail %s dead: %s", mail.id, changes["last_error"])
        if await self.queue.ours(mail, lease_end).update(**changes) != 1:
            logger.warning("Mail %s: lease lost before recording %s", mail.id, status.value)

    async def _retry_later(self, mail: OutboxMail, lease_end: datetime, error: str) -> None:
        attempts = mail.attempts + 1
        if attempts >= self.settings.mail_max_attempts:
            await self._finish(mail, lease_end, MailStatus.DEAD, error, attempts=attempts)
            return
        await self.queue.ours(mail, lease_end).update(
            status=MailStatus.PENDING,
            attempts=attempts,
            next_attempt_at=clock.now() + self._retry_delay(attempts),
            claimed_until=None,
            last_error=self._redact(error),
        )

    async def _release(
        self, mail: OutboxMail, lease_end: datetime, error: str, *, delay: bool
    ) -> None:
        next_attempt = (
            clock.now() + self._retry_delay(mail.attempts) if delay else mail.next_attempt_at
        )
        await self.queue.ours(mail, lease_end).update(
            status=MailStatus.PENDING,
            next_attempt_at=next_attempt,
            claimed_until=None,
            last_error=self._redact(error),
        )

    def _redact(self, text: str) -> str:
        # Server replies and exception texts may echo the login: never store it.
        for secret in (self.settings.smtp_password, self.settings.smtp_username):
            if secret:
                text = text.replace(secret, "***")
        return text[:MAX_ERROR_LENGTH]

    async def run_forever(self, stop: asyncio.Event) -> None:
        await poll(lambda: self.run_once(stop), stop, self.settings.mail_poll_seconds)

    async def queue_depth(self) -> dict[str, int]:
        counts = {status.value: 0 for status in MailStatus}
        rows = await OutboxMail.annotate(n=Count("id")).group_by("status").values("status", "n")
        for row in rows:
            counts[MailStatus(row["status"]).value] = row["n"]
        return counts
