"""Work queues in a table: rows move from pending to sending under a lease.

Workers claim due rows — pending and due, or sending with an expired lease
(a crashed worker's claim) — with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several workers share the work, and with a conditional UPDATE per row on
SQLite (which ignores FOR UPDATE). Every later change is conditional on the
lease, so a worker whose lease ran out cannot overwrite the new owner's outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.core.prepared import PreparedUpdate
from server.db import is_postgres

Row = TypeVar("Row", bound=Model)
logger = logging.getLogger(__name__)

BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
JITTER = 0.25


def retry_delay(attempts: int, base: float = BASE_DELAY_SECONDS) -> timedelta:
    """Exponential backoff (30 s, 60 s, ... capped at 1 h) with ±25 % jitter so
    rows that failed together do not all retry in the same second."""
    seconds = min(MAX_DELAY_SECONDS, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=seconds * random.uniform(1 - JITTER, 1 + JITTER))


class LeasedQueue(Generic[Row]):
    def __init__(self, model: type[Row], *, pending: Any, sending: Any, database_url: str) -> None:
        self.model = model
        self.pending = pending
        self.sending = sending
        self.postgres = is_postgres(database_url)
        # SQLite's per-row claim, its SQL built once (server/core/prepared.py):
        # Tortoise would build it for every row, which costs more than running it.
        self._claim_one = PreparedUpdate(
            model,
            lambda now, pk, lease_end: model.filter(self.due(now), id=pk).update(
                status=sending, claimed_until=lease_end
            ),
        )

    def due(self, now: datetime) -> Q:
        return Q(status=self.pending, next_attempt_at__lte=now) | Q(
            status=self.sending, claimed_until__lt=now
        )

    async def claim(self, now: datetime, lease_end: datetime, limit: int) -> list[Row]:
        model = self.model
        if self.postgres:
            async with in_transaction() as conn:
                rows = (
                    await model.filter(self.due(now))
                    .order_by("next_attempt_at", "id")
                    .limit(limit)
                    .select_for_update(skip_locked=True)
                    .using_db(conn)
                )
                if rows:
                    await (
                        model.filter(id__in=[row.pk for row in rows])
                        .using_db(conn)
                        .update(status=self.sending, claimed_until=lease_end)
                    )
        else:
            candidates = (
                await model.filter(self.due(now)).order_by("next_attempt_at", "id").limit(limit)
            )
            # SQLite ignores FOR UPDATE: a conditional UPDATE per row, the winner
            # is whoever changes it (row count 1).
            rows = [
                row
                for row in candidates
                if await self._claim_one.execute(now, row.pk, lease_end) == 1
            ]
        for row in rows:
            row.status, row.claimed_until = self.sending, lease_end
        return list(rows)

    def ours(self, row: Row, lease_end: datetime) -> QuerySet[Row]:
        return self.model.filter(id=row.pk, status=self.sending, claimed_until=lease_end)


async def poll(
    run_once: Callable[[], Awaitable[int]], stop: asyncio.Event, interval: float
) -> None:
    """Run batches until `stop`: at once again after a non-empty batch, else after
    `interval`. A failed batch (a database hiccup) is logged, never fatal:
    its claims expire on their own."""
    while not stop.is_set():
        done = 0
        try:
            done = await run_once()
        except Exception:
            logger.exception("Worker batch failed")
        if done:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
