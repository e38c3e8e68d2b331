"""The background workers — mail and webhooks — run together inside `frontdesk
serve` (unless FRONTDESK_RUN_WORKER=false) or alone as `frontdesk worker`, with
the periodic job that ends impersonations which ran out (and mails their member)."""

from __future__ import annotations

import asyncio

from server.core.leases import poll
from server.impersonation.service import close_expired
from server.mail.worker import MailWorker
from server.settings import Settings
from server.webhooks.worker import WebhookWorker

# How often expired impersonations are looked for: their mail goes out within this.
IMPERSONATION_SWEEP_SECONDS = 15.0


async def run_workers(settings: Settings, stop: asyncio.Event) -> None:
    """Until `stop` is set; each finishes what it is sending and hands the rest back."""
    await asyncio.gather(
        MailWorker(settings).run_forever(stop),
        WebhookWorker(settings).run_forever(stop),
        poll(close_expired, stop, IMPERSONATION_SWEEP_SECONDS),
    )
