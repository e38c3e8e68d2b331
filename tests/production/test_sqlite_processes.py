"""SQLite shared by real processes: `frontdesk serve` and a separate
`frontdesk worker` on one database file. Every request either does what it
was asked or says it did not; none answers "Unexpected error." because the
other process was writing (`database is locked`)."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.instance import Instance, fresh, serving

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("FRONTDESK_TEST_DATABASE_URL")),
    reason="SQLite files shared by processes; they run in the SQLite run only",
)

ADMIN = "owner@provider.example.net"
LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { code } } }"""
VIEWER = "{ viewer { memberships { organisation { id } } } }"
INVITE = """mutation($org: ID!, $email: String!) {
  inviteUser(input: {organisationId: $org, email: $email, role: MEMBER}) {
    errors { code message } } }"""
ROUNDS, PARALLEL, WORKERS = 20, 10, 2


@pytest.fixture
def worker_beside(migrated: Path, tmp_path: Path) -> Iterator[tuple[Instance, str, Path]]:
    """An installation with its first owner and running `frontdesk worker`s."""
    instance = fresh(migrated, tmp_path)
    password = secrets.token_urlsafe(18)
    instance.ok("create-admin", "--email", ADMIN, "--password-stdin", stdin=password)
    log = tmp_path / "worker.log"
    processes = []
    with log.open("w") as out:
        for _ in range(WORKERS):  # two, to write more often beside the server
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                    [sys.executable, "-m", "server", "worker"],
                    env=instance.env,
                    cwd=instance.directory,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        yield instance, password, log
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def _graphql(client: httpx.AsyncClient, query: str, **variables: str) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_separate_worker_on_sqlite_loses_no_invitation(worker_beside):
    instance, password, worker_log = worker_beside
    with serving(instance) as base:

        async def run() -> list[dict]:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                login = await _graphql(client, LOGIN, email=ADMIN, password=password)
                client.headers["authorization"] = f"Bearer {login['data']['login']['token']}"
                viewer = await _graphql(client, VIEWER)
                org = viewer["data"]["viewer"]["memberships"][0]["organisation"]["id"]
                answers = []
                for round_ in range(ROUNDS):  # the worker sends between rounds
                    answers += await asyncio.gather(
                        *(
                            _graphql(client, INVITE, org=org, email=f"p{round_}-{i}@example.com")
                            for i in range(PARALLEL)
                        )
                    )
                    await asyncio.sleep(0.1)
                return answers

        answers = asyncio.run(run())
        failed = [a for a in answers if "errors" in a or a["data"]["inviteUser"]["errors"]]
        assert failed == [], f"{len(failed)} of {len(answers)} failed: {failed[:2]}"
        # Every invitation is stored and its mail sent by the worker process.
        deadline = time.monotonic() + 30
        while (
            instance.count("outbox_mail")
            and instance.rows("SELECT COUNT(*) FROM outbox_mail WHERE status != 'sent'")[0][0]
        ):
            assert time.monotonic() < deadline, worker_log.read_text()
            time.sleep(0.2)
    assert instance.count("invitation") == ROUNDS * PARALLEL
    assert instance.rows("SELECT COUNT(*) FROM outbox_mail WHERE status = 'sent'") == [
        (ROUNDS * PARALLEL,)
    ]
    assert "database is locked" not in worker_log.read_text()
    assert "database is locked" not in (instance.directory / "serve.log").read_text()
