"""The background workers — mail and webhooks — run together inside `frontdesk
serve` (unless FRONTDESK_RUN_WORKER=false) or alone as `frontdesk worker`."""

from __future__ import annotations

import asyncio

from server.mail.worker import MailWorker
from server.settings import Settings
from server.webhooks.worker import WebhookWorker


async def run_workers(settings: Settings, stop: asyncio.Event) -> None:
    """Until `stop` is set; each finishes what it is sending and hands the rest back."""
    await asyncio.gather(
        MailWorker(settings).run_forever(stop), WebhookWorker(settings).run_forever(stop)
    )
