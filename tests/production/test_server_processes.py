"""Server processes (`python -m server serve`) on PostgreSQL: /readyz through a
database restart without restarting the server, a lock made through one
process holding in another, metrics of `serve --workers 2` adding up across
its processes with JSON logs carrying request ids, and a graceful shutdown
that finishes the request in flight and the mail being sent."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server import db
from server.auth.models import LoginThrottle
from server.core import clock
from server.mail.models import MailStatus, OutboxMail
from tests.conftest import DATABASE_URL
from tests.helpers.fixtures import LOGIN, PASSWORD, Tree
from tests.helpers.mailsink import MailSink
from tests.helpers.smtp import free_port
from tests.production.conftest import ROOT, Process, Processes
from tests.production.test_mail_workers import queue

pytestmark = pytest.mark.skipif(
    not db.is_postgres(DATABASE_URL),
    reason="several server processes on one database: PostgreSQL only (run with make test)",
)

ORIGIN = os.environ["FRONTDESK_PUBLIC_URL"]
BASH = shutil.which("bash") or "/bin/bash"
WRONG = "not the password at all"


async def login(process: Process, email: str, password: str, **headers: str) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{process.url}/graphql",
            json={"query": LOGIN, "variables": {"email": email, "password": password}},
            headers={"origin": ORIGIN, **headers},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["login"]


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["errors"]]


# --- a PostgreSQL of our own, to restart ----------------------------------------------------


@dataclass
class Cluster:
    port: int
    data: Path
    pgbin: str

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/frontdesk_readyz"

    def pg_ctl(self, *args: str) -> None:
        command = [f"{self.pgbin}/pg_ctl", "-D", str(self.data), *args]
        if os.getuid() == 0:
            command = [shutil.which("runuser") or "runuser", "-u", "postgres", "--", *command]
        subprocess.run(  # noqa: S603 - fixed arguments
            command,
            check=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self.pg_ctl("-l", str(self.data / "server.log"), "-w", "-t", "60", "-o", options, "start")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A throwaway cluster from scripts/pg.sh on a port of its own (the shared
    one is never restarted), removed afterwards."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.skip("PostgreSQL binaries not installed")
    port = free_port()
    data = Path(f"/tmp/frontdesk-pg-restart-{os.getpid()}-{port}")  # noqa: S108 - postgres must reach it
    env = {**os.environ, "FRONTDESK_PG_PORT": str(port), "FRONTDESK_PG_DATA": str(data)}
    script = str(ROOT / "scripts" / "pg.sh")
    started = subprocess.run(  # noqa: S603 - our own script
        [BASH, script, "start"], env=env, capture_output=True, text=True, timeout=120
    )
    try:
        assert started.returncode == 0, started.stderr
        yield Cluster(port, data, bins[-1])
    finally:
        subprocess.run([BASH, script, "stop"], env=env, capture_output=True, timeout=60)  # noqa: S603
        Path(f"{data}.lock").unlink(missing_ok=True)


async def test_readyz_follows_a_database_restart_without_a_server_restart(
    cluster: Cluster, processes: Processes
):
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres")
    try:
        await conn.execute('CREATE DATABASE "frontdesk_readyz"')
    finally:
        await conn.close()
    migrate = subprocess.run(  # noqa: S603, ASYNC221 - a one-off command before the server starts
        [sys.executable, "-m", "server", "migrate"],
        env=processes.env(FRONTDESK_DATABASE_URL=cluster.url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    server = processes.serve(
        "server", FRONTDESK_DATABASE_URL=cluster.url, FRONTDESK_READINESS_TIMEOUT="1"
    )
    await server.wait_healthy()

    async with httpx.AsyncClient(timeout=5) as client:

        async def ready() -> httpx.Response:
            return await client.get(f"{server.url}/readyz")

        assert (await ready()).status_code == 200
        assert codes(await login(server, "nobody@example.test", WRONG)) == ["INVALID_CREDENTIALS"]

        cluster.stop()  # noqa: ASYNC251 - pg_ctl -w: the database is down when it returns
        down = await ready()
        assert down.status_code == 503
        assert down.json()["status"] == "unavailable"
        assert down.json()["reason"].startswith("database ")
        assert (await client.get(f"{server.url}/healthz")).status_code == 200  # alive

        cluster.start()  # noqa: ASYNC251
        deadline = time.monotonic() + 15
        while (response := await ready()).status_code != 200:
            assert time.monotonic() < deadline, response.text
            await asyncio.sleep(0.2)

    # Requests reach the database again: the pool dropped its dead connections.
    assert codes(await login(server, "nobody@example.test", WRONG)) == ["INVALID_CREDENTIALS"]
    assert server.alive()
    warnings = [e for e in server.json_lines() if e["message"].startswith("Not ready")]
    assert warnings and all(e["level"] == "WARNING" and e["request_id"] for e in warnings)


# --- brute-force state shared through the database -------------------------------------------


async def test_a_lock_made_through_one_process_holds_in_another(tree: Tree, processes: Processes):
    env = {"FRONTDESK_THROTTLE_ACCOUNT_ATTEMPTS": "1"}
    first, second = processes.serve("first", **env), processes.serve("second", **env)
    await first.wait_healthy()
    await second.wait_healthy()
    email = tree["acme.member"].email

    # Through the first process: a wrong password locks the account for 1 s,
    # the next one (after it) for 2 s.
    assert codes(await login(first, email, WRONG)) == ["INVALID_CREDENTIALS"]
    await asyncio.sleep(1.1)
    assert codes(await login(first, email, WRONG)) == ["INVALID_CREDENTIALS"]
    [row] = await LoginThrottle.filter(key__startswith="a:")
    assert row.locked_until is not None and row.locked_until > clock.now()

    # The second process refuses even the right password while the lock lasts...
    assert codes(await login(second, email, PASSWORD)) == ["INVALID_CREDENTIALS"]
    # ... and lets it in once the lock has run out.
    deadline = time.monotonic() + 5
    while codes(payload := await login(second, email, PASSWORD)):
        assert time.monotonic() < deadline, payload
        await asyncio.sleep(0.25)
    assert payload["token"]


# --- serve --workers 2: metrics of both processes, JSON logs ---------------------------------


def _ping_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if (
                s.name == "frontdesk_graphql_operation_duration_seconds_count"
                and s.labels.get("operation") == "Ping"
            ):
                return s.value
    return 0.0


async def test_two_processes_report_their_metrics_together_and_log_json(processes: Processes):
    server = processes.serve("server", "--workers", "2", FRONTDESK_METRICS_TOKEN="scrape-me")
    await server.wait_for_log("Application startup complete.")
    deadline = time.monotonic() + 30
    while server.log().count("Application startup complete.") < 2:
        assert time.monotonic() < deadline, server.log()
        await asyncio.sleep(0.05)

    request_ids = [f"ping-{i:03d}" for i in range(30)]
    for request_id in request_ids:
        # A new connection each time, so that both processes get some.
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.post(
                f"{server.url}/graphql",
                json={"query": "query Ping { __typename }"},
                headers={"origin": ORIGIN, "x-request-id": request_id},
            )
        assert response.json() == {"data": {"__typename": "Query"}}

    auth = {"authorization": "Bearer scrape-me"}
    for _ in range(4):  # whichever process answers, it answers for both
        async with httpx.AsyncClient(timeout=5) as client:
            scrape = await client.get(f"{server.url}/metrics", headers=auth)
        assert scrape.status_code == 200
        assert _ping_count(scrape.text) == 30
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(f"{server.url}/metrics")).status_code == 401

    server.signal(signal.SIGTERM)
    assert await server.exit_code() == 0
    entries = server.json_lines()  # every line is one JSON object
    assert all({"time", "level", "logger", "message", "request_id"} <= set(e) for e in entries)
    started = {e["message"] for e in entries if e["message"].startswith("Started server process")}
    assert len(started) == 2  # two processes serving (and their supervisor)
    access = {e["request_id"]: e for e in entries if e["logger"] == "frontdesk.access"}
    for request_id in request_ids:
        assert access[request_id]["path"] == "/graphql"
        assert access[request_id]["status"] == 200


# --- graceful shutdown ------------------------------------------------------------------------


async def test_sigterm_finishes_the_request_in_flight_and_the_mail_being_sent(
    processes: Processes,
):
    sink = MailSink(delay=0.1).start()
    try:
        server = processes.serve(
            "server",
            **sink.env(),
            FRONTDESK_RUN_WORKER="true",
            FRONTDESK_MAIL_POLL_SECONDS="0.1",
            FRONTDESK_MAIL_BATCH_SIZE="50",
        )
        await server.wait_healthy()
        queued = await queue(30)
        await sink.wait_for(3)

        # A request whose body is still arriving when SIGTERM comes.
        body = orjson.dumps({"query": "query Slow { __typename }"})
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            (
                f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {ORIGIN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body[:10]
        )
        await writer.drain()
        await asyncio.sleep(0.3)
        server.signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        assert server.alive()  # waiting for the request
        writer.write(body[10:])
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        head, _, payload = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), response
        assert orjson.loads(payload) == {"data": {"__typename": "Query"}}
        # uvicorn re-raises SIGTERM once it has shut down cleanly: exit status 143.
        assert await server.exit_code() in (0, -signal.SIGTERM)
        assert "Application shutdown complete." in server.log()

        # The in-process worker finished the mail it was sending and handed back the rest.
        sent = sink.message_ids
        assert 3 <= len(sent) == len(set(sent)) < 30
        rows = {row.message_id: row for row in await OutboxMail.all()}
        assert {m for m, row in rows.items() if row.status == MailStatus.SENT} == set(sent)
        assert {row.status for m, row in rows.items() if m not in set(sent)} == {MailStatus.PENDING}
        assert set(rows) == set(queued)
        assert await OutboxMail.filter(status=MailStatus.SENDING).count() == 0
    finally:
        sink.stop()
