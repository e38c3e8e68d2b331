"""Shared by tests/ops/test_health_and_metrics.py, tests/ops/test_logs_and_workers.py: Operations in process, on either database: liveness and readiness,"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.settings import Settings
from tests.helpers.fixtures import ORIGIN

LINK = "https://portal.example.test/reset#token=x"


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url=ORIGIN, headers={"origin": ORIGIN}
    ) as client:
        yield client


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values


class BrokenDatabase:
    def __init__(self, error: BaseException | None = None, delay: float = 0) -> None:
        self.error = error
        self.delay = delay
        self.expired = 0

    async def execute_query(self, query: str, values: object = None) -> None:
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error

    async def _expire_connections(self) -> None:
        self.expired += 1
