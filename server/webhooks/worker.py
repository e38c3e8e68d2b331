"""Posts queued webhook deliveries: signed, one HTTP client reused per batch,
retried with backoff on network errors and non-2xx answers, dead after the
last attempt. Claims are leases (server.core.leases), so several workers
share the queue and a crashed worker's claim expires. Each request goes
through `PinnedTransport`: its host is resolved once, every address checked,
and the connection made only to a checked address (no DNS rebinding).

Signature header: `Frontdesk-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the endpoint's secret>` — receivers recompute it and
reject old timestamps. `Frontdesk-Delivery` is the delivery's global id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from datetime import datetime, timedelta

import httpx
from strawberry.relay import to_base64

from server.core import clock
from server.core.encryption import decrypt
from server.core.leases import LeasedQueue, poll, retry_delay
from server.settings import Settings
from server.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from server.webhooks.targets import PinnedTransport, Resolver, TargetRefused, resolve

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
MAX_ERROR_LENGTH = 500


def signature(secret: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class WebhookWorker:
    """`resolver` is the DNS deliveries use (the system's unless a test gives
    one); each delivery's host is resolved once through it, checked, and
    connected to only at the addresses checked (server.webhooks.targets)."""

    def __init__(self, settings: Settings, *, resolver: Resolver = resolve) -> None:
        self.settings = settings
        self.resolver = resolver
        self.queue = LeasedQueue(
            WebhookDelivery,
            pending=DeliveryStatus.PENDING,
            sending=DeliveryStatus.SENDING,
            database_url=settings.database_url,
        )
        self.lease = timedelta(minutes=5) + BATCH_SIZE * timedelta(seconds=settings.webhook_timeout)

    async def run_forever(self, stop: asyncio.Event) -> None:
        await poll(self.run_once, stop, self.settings.mail_poll_seconds)

    async def run_once(self) -> int:
        """Post one batch of due deliveries; returns how many were delivered."""
        now = clock.now()
        lease_end = now + self.lease
        batch = await self.queue.claim(now, lease_end, BATCH_SIZE)
        if not batch:
            return 0
        endpoints = {
            e.id: e for e in await WebhookEndpoint.filter(id__in={d.endpoint_id for d in batch})
        }
        delivered = 0
        transport = PinnedTransport(
            allow_private=self.settings.webhook_allow_private, resolver=self.resolver
        )
        async with httpx.AsyncClient(
            transport=transport, timeout=self.settings.webhook_timeout, follow_redirects=False
        ) as client:
            for delivery in batch:
                endpoint = endpoints.get(delivery.endpoint_id)
                if endpoint is None or not endpoint.active:
                    await self._record(delivery, lease_end, None, "endpoint inactive", final=True)
                    continue
                delivered += await self._post(client, endpoint, delivery, lease_end)
        return delivered

    async def _post(
        self,
        client: httpx.AsyncClient,
        endpoint: WebhookEndpoint,
        delivery: WebhookDelivery,
        lease_end: datetime,
    ) -> int:
        timestamp = int(clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Frontdesk-Webhooks/1",
            "Frontdesk-Event": delivery.event,
            "Frontdesk-Event-Id": delivery.event_id,
            # The delivery's global id: what `node(id:)` and `redeliverWebhook` take.
            "Frontdesk-Delivery": to_base64("WebhookDelivery", delivery.id),
            "Frontdesk-Signature": signature(decrypt(endpoint.secret), timestamp, delivery.payload),
        }
        try:
            response = await client.post(endpoint.url, content=delivery.payload, headers=headers)
        except TargetRefused as exc:
            await self._record(delivery, lease_end, None, str(exc))
            return 0
        except httpx.HTTPError as exc:
            await self._record(delivery, lease_end, None, f"{type(exc).__name__}: {exc}")
            return 0
        if 200 <= response.status_code < 300:
            await self.queue.ours(delivery, lease_end).update(
                status=DeliveryStatus.DELIVERED,
                attempts=delivery.attempts + 1,
                last_status_code=response.status_code,
                last_error="",
                claimed_until=None,
                delivered_at=clock.now(),
            )
            return 1
        await self._record(
            delivery, lease_end, response.status_code, f"HTTP {response.status_code}"
        )
        return 0

    async def _record(
        self,
        delivery: WebhookDelivery,
        lease_end: datetime,
        status_code: int | None,
        error: str,
        *,
        final: bool = False,
    ) -> None:
        attempts = delivery.attempts + 1
        dead = final or attempts >= self.settings.webhook_max_attempts
        await self.queue.ours(delivery, lease_end).update(
            status=DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING,
            attempts=attempts,
            last_status_code=status_code,
            last_error=error[:MAX_ERROR_LENGTH],
            claimed_until=None,
            next_attempt_at=clock.now() + retry_delay(attempts),
        )
        if dead:
            logger.warning("Webhook delivery %s dead: %s", delivery.id, error[:MAX_ERROR_LENGTH])
