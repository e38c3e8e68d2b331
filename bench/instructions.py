"""Instructions per request, counted by valgrind's callgrind: the viewer query
and its plain-route baseline, in-process (the ASGI apps called directly, as
uvicorn would call them, the JSON access log on, as in production).

Throughput on a shared VM moves ±10 % between runs; instruction counts do
not, so they show what a change does to the request path exactly. They do
not show the cost of cache misses, system calls or the GIL, which the
throughput part does: the two complement each other (BENCHMARKS.md).

    bash bench/run.sh --only instructions     # this part alone (bench/main.py runs it)

Each target runs twice under callgrind, with 100 and with 600 requests after
the same start-up; the difference divided by 500 is the cost of a request,
start-up and shutdown cancelling out.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import uvloop

from bench.common import PYTHON, ROOT, VIEWER_QUERY, run_child

TARGETS = ("baseline", "graphql")
# The same viewer with traces on, every span recorded into memory (bench/tracing.py).
TRACED = "graphql-traced"
FEW, MANY = 100, 600


async def _drive(target: str, requests: int, data: dict[str, Any]) -> None:
    # Imported here: only the child under valgrind loads the server.
    from bench import baseline
    from server import db
    from server.app import create_app
    from server.ops.logs import configure_logging
    from server.settings import get_settings

    configure_logging("json", "INFO")
    settings = get_settings()
    await db.init_db(settings.database_url)
    if target in ("graphql", TRACED):
        app, path, body = (
            create_app(settings, manage_database=False, tracer_provider=_provider(target)),
            "/graphql",
            json.dumps({"query": VIEWER_QUERY}).encode(),
        )
    else:
        app, path, body = baseline.create_app(), "/viewer", b"{}"
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {data['viewer_token']}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    for _ in range(requests):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent.clear()
        await app(scope, receive, send)
        if sent[0]["status"] != 200 or b'"email"' not in sent[-1]["body"]:
            raise SystemExit(f"{target}: unexpected answer {sent!r}")
    await db.close_db()


def _provider(target: str) -> Any:
    """None (traces off), or for TRACED a provider exporting every span into
    memory as it ends (synchronously: callgrind counts that thread anyway)."""
    if target != TRACED:
        return None
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    return provider


def _count(target: str, requests: int, data_path: Path, env: dict[str, str], work: Path) -> int:
    out = work / f"callgrind.{target}.{requests}"
    log = work / f"instructions.{target}.{requests}.log"
    with log.open("wb") as stderr:
        run_child(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                PYTHON,
                "-m",
                "bench.instructions",
                str(data_path),
                target,
                str(requests),
            ],
            cwd=ROOT,
            env={**env, "PYTHONHASHSEED": "0"},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            timeout=900,
        )
    found = re.search(r"^summary: (\d+)", out.read_text(errors="replace"), re.MULTILINE)
    out.unlink()
    if found is None:
        raise RuntimeError(f"no callgrind summary for {target} ({log})")
    return int(found.group(1))


def per_request(
    data_path: Path, env: dict[str, str], work: Path, targets: tuple[str, ...] = TARGETS
) -> dict[str, int]:
    """Instructions per request of each target (runs two valgrinds at a time)."""
    runs = [(target, n) for n in (FEW, MANY) for target in targets]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(
            zip(
                runs,
                pool.map(lambda run: _count(run[0], run[1], data_path, env, work), runs),
                strict=True,
            )
        )
    return {
        target: (counts[(target, MANY)] - counts[(target, FEW)]) // (MANY - FEW)
        for target in targets
    }


def main() -> None:
    """One run, under valgrind (see `_count`): DATA_JSON TARGET REQUESTS."""
    data_path, target, requests = sys.argv[1:4]
    data = json.loads(Path(data_path).read_text())
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the access log, written and dropped
    uvloop.run(_drive(target, int(requests), data))


if __name__ == "__main__":
    main()
