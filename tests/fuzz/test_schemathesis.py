"""Fuzzing the real server with Schemathesis, for a bounded time.

The server runs as a subprocess (`python -m server serve`) on a throwaway
SQLite database holding the demo data; Schemathesis reads the schema by
introspection and sends generated queries and mutations to every operation,
signed in as the demo's Acme owner. A 5xx, a masked exception or a null in a
non-null field fails the test (see checks.py); typed errors do not.

Runs once per suite (skipped in the PostgreSQL pass, where
FRONTDESK_TEST_DATABASE_URL is set) and not at all with FRONTDESK_FUZZ=0.
FRONTDESK_FUZZ_SECONDS (default 45) bounds the fuzzing, FRONTDESK_FUZZ_SEED
replays a run, FRONTDESK_FUZZ_STRICT=1 also fails on untyped execution errors.
The figures go to stdout and test-artifacts/fuzz-summary.txt, with the
Schemathesis output and the server log beside it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHECKS = Path(__file__).with_name("checks.py")
FUZZ_USER = "owner@acme.example.com"
FUZZ_SECONDS = int(os.environ.get("FRONTDESK_FUZZ_SECONDS", "45"))
# Signing out would leave the rest of the run anonymous.
EXCLUDED_OPERATIONS = ["Mutation.logout"]
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { code message } }
}"""

pytestmark = [
    pytest.mark.skipif(
        bool(os.environ.get("FRONTDESK_TEST_DATABASE_URL")),
        reason="fuzzed once, in the SQLite pass",
    ),
    pytest.mark.skipif(os.environ.get("FRONTDESK_FUZZ") == "0", reason="FRONTDESK_FUZZ=0"),
]


@dataclass
class Server:
    url: str
    token: str
    log: Path
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "server", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"server {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server was not healthy within 30 s:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("fuzz")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "FRONTDESK_ENV": "development",
        "FRONTDESK_INTROSPECTION": "true",
        "FRONTDESK_DATABASE_URL": f"sqlite://{work / 'fuzz.sqlite3'}",
        "FRONTDESK_MAIL_DIR": str(work / "mail"),
        "FRONTDESK_RUN_WORKER": "true",
        # Cheap hashing: the fuzzer calls login and changePassword many times.
        "FRONTDESK_ARGON2_MEMORY_KIB": "1024",
        "FRONTDESK_ARGON2_TIME_COST": "1",
    }
    run_cli(["migrate"], env, work)
    seeded = run_cli(["seed-demo"], env, work)
    match = re.search(r"Password:\s+(\S+)", seeded)
    assert match, seeded
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "server", "serve", "--port", str(port)],
            env=env,
            cwd=work,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(url, process, log)
        response = httpx.post(
            f"{url}/graphql",
            json={"query": LOGIN, "variables": {"email": FUZZ_USER, "password": match[1]}},
            timeout=30,
        )
        payload = response.json()["data"]["login"]
        assert payload["token"], payload
        yield Server(url, payload["token"], log, env)
    finally:
        stop(process)


def untyped_summary(notes: Path) -> list[str]:
    """One line per (operation, message) of untyped execution errors, with a count and an example."""
    if not notes.exists():
        return []
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    for line in notes.read_text().splitlines():
        note = json.loads(line)
        for message in note["messages"]:
            # One kind per message shape: the offending value replaced.
            key = (note["operation"], re.sub(r'".*"', '"…"', message, flags=re.S))
            counts[key] += 1
            examples.setdefault(key, note["request"])
    return [
        f"  {operation}: {message} (x{count}), e.g. {examples[(operation, message)][:160]}"
        for (operation, message), count in sorted(counts.items())
    ]


def test_fuzz_graphql_api(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    notes = tmp_path / "untyped.jsonl"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/graphql",
        "--header",
        f"Authorization: Bearer {server.token}",
        "--checks",
        "frontdesk_no_fault",
        "--max-time",
        str(FUZZ_SECONDS),
        "--max-examples",
        "50",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    for operation in EXCLUDED_OPERATIONS:
        command += ["--exclude-name", operation]
    if seed := os.environ.get("FRONTDESK_FUZZ_SEED"):
        command += ["--seed", seed]
    env = {
        **server.env,
        "SCHEMATHESIS_HOOKS": str(CHECKS),
        "FRONTDESK_FUZZ_NOTES": str(notes),
    }
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - the installed schemathesis
        command,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=FUZZ_SECONDS + 180,
    )
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    server_log = server.log.read_text(errors="replace")

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz-schemathesis.txt").write_text(output)
    (ARTIFACTS / "fuzz-server.log").write_text(server_log)
    assert report.exists(), f"schemathesis wrote no report (exit {done.returncode}):\n{output}"

    result = json.loads(report.read_text())
    cases = result["test_cases"]
    failures = cases["with_failures"]
    failing_operations = sorted(
        {operation for failure in result["failures"] for operation in failure["operations"]}
    )
    masked_in_log = server_log.count("Unexpected error in")
    untyped = untyped_summary(notes)
    summary = "\n".join(
        [
            f"Schemathesis {result['schemathesis_version']} against {server.url}/graphql "
            f"as {FUZZ_USER}, seed {result['seed']}",
            f"operations: {result['operations']['tested']} tested of "
            f"{result['operations']['total']} ({', '.join(EXCLUDED_OPERATIONS)} excluded)",
            f"test cases: {cases['generated']} generated, {failures} with failures "
            f"({cases['unique_failures']} unique), {cases['errored']} errored",
            f"time: {result['running_time']:.1f} s fuzzing, {elapsed:.1f} s with start-up; "
            f"stopped by {result['stop_reason']}",
            f"failing operations: {', '.join(failing_operations) or 'none'}",
            f"masked errors in the server log: {masked_in_log}",
            f"untyped execution errors (not failures): {len(untyped)} kinds",
            *untyped,
        ]
    )
    (ARTIFACTS / "fuzz-summary.txt").write_text(summary + "\n")
    with capsys.disabled():  # shown without -s
        print("\n" + summary)

    detail = f"{summary}\n\n{output[-20_000:]}"
    assert failures == 0, detail
    assert cases["errored"] == 0 and not result["errors"], detail
    assert masked_in_log == 0, detail
    assert cases["generated"] > 0 and result["operations"]["tested"] > 0, detail
