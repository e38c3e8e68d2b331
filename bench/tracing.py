"""What traces cost per request, in-process.

    python -m bench.tracing DATA.json [--requests 1000] [--reps 5]
        (FRONTDESK_DATABASE_URL set by the caller, as for bench.statements)
    prints a line per query and mode, then JSON: {query: {mode: CPU µs per request}}

The real ASGI app (httpx + ASGITransport, so RequestGuard, authentication,
the GraphQL pipeline and the database all count) in three modes, built afresh
for each repetition and taken in turn, so that drift hits all three alike:

* off: no OTEL_* variable: the baseline, the app exactly as without OpenTelemetry
  (nothing imported, nothing wrapped; tests/ops/test_tracing.py checks that);
* sampled out: traces on with a sampler that records nothing: the
  instrumentation's own cost (middleware, wrappers, non-recording spans);
* on: every span recorded and handed to a batch processor whose exporter keeps
  them in memory: the cost on the request path of exporting everything
  (OTLP's encoding and sending happen on the processor's own thread).

Figures are the process's CPU time per request (the exporter's thread
included), medians of the repetitions, and ratios to off in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.common import MEMBERS_QUERY, VIEWER_QUERY
from server import db
from server.settings import get_settings

# (TracerProvider or None, the in-memory exporter or None): OpenTelemetry is
# imported only for the traced modes, after the first "off" run.
Mode = tuple[Any, Any]


def _off() -> Mode:
    return None, None


def _sampled_out() -> Mode:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    return TracerProvider(sampler=ALWAYS_OFF), None


def _on() -> Mode:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider, exporter = TracerProvider(), InMemorySpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider, exporter


MODES: dict[str, Callable[[], Mode]] = {"off": _off, "sampled out": _sampled_out, "on": _on}
WARM = 50


async def _time(mode: Mode, body: dict[str, Any], token: str, requests: int) -> tuple[float, int]:
    """CPU seconds per request, and the spans one request made."""
    from server.app import create_app

    provider, exporter = mode
    app = create_app(get_settings(), manage_database=False, tracer_provider=provider)
    headers = {"authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://portal.bench.example"
        ) as client:
            for _ in range(WARM):  # warm the document, plan and statement caches
                response = await client.post("/graphql", json=body, headers=headers)
            if response.status_code != 200 or response.json().get("errors"):
                raise RuntimeError(f"query failed: {response.status_code} {response.text}")
            # CPU time of the process (the batch processor's thread included): on a
            # shared machine it moves far less with other work than the wall clock.
            started = time.process_time()
            for _ in range(requests):
                await client.post("/graphql", json=body, headers=headers)
            seconds = (time.process_time() - started) / requests
    finally:
        if app.state.tracing is not None:
            app.state.tracing.close()
    spans = 0
    if provider is not None:
        provider.shutdown()  # exports what the batch still holds
    if exporter is not None:
        spans = len(exporter.get_finished_spans()) // (requests + WARM)
    return seconds, spans


async def measure(data: dict[str, Any], requests: int, reps: int) -> dict[str, dict[str, float]]:
    await db.init_db(get_settings().database_url)
    # (body, requests per run): a page of members costs about five viewers.
    queries = {
        "viewer": ({"query": VIEWER_QUERY}, requests),
        "members first=25": (
            {"query": MEMBERS_QUERY, "variables": {"org": data["customer_id"], "first": 25}},
            max(requests // 5, 1),
        ),
    }
    results: dict[str, dict[str, float]] = {}
    try:
        for label, (body, count) in queries.items():
            times: dict[str, list[float]] = {mode: [] for mode in MODES}
            spans = 0
            for _ in range(reps):
                for mode, provider in MODES.items():
                    seconds, made = await _time(provider(), body, data["viewer_token"], count)
                    times[mode].append(seconds)
                    spans = max(spans, made)
            medians = {mode: statistics.median(values) * 1e6 for mode, values in times.items()}
            results[label] = medians
            off = medians["off"]
            for mode, micros in medians.items():
                print(
                    f"  {label}: traces {mode}: {micros:.0f} µs CPU per request"
                    f" ({micros / off:.3f} × off)"
                    + (f", {spans} spans per request" if mode == "on" else ""),
                    flush=True,
                )
    finally:
        await db.close_db()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("--requests", type=int, default=1000, help="viewer requests per run")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with open(args.data) as handle:
        data = json.load(handle)
    print(json.dumps(asyncio.run(measure(data, args.requests, args.reps))))


if __name__ == "__main__":
    main()
