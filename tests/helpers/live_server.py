"""A real Frontdesk for the tests that drive it from outside (the admin app in
Chromium, relying parties, the example app): `python -m server serve` as a
subprocess on a free port, on a throwaway SQLite database migrated and seeded
with the demo data. The callers add their own settings (SMTP, trusted
documents, code lifetimes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from tests.helpers.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"


@dataclass
class DemoServer:
    url: str
    database: Path
    password: str  # every demo user's


def run_cli(args: list[str], env: dict[str, str]) -> str:
    """`frontdesk ARGS` with `env`; its output (fails the test when it fails)."""
    done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"frontdesk {args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_for(url: str, process: subprocess.Popen[Any], what: str) -> None:
    """Until `url` answers 200 (or the process died, or 30 s passed)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - our own
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start; see {ARTIFACTS}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def demo_server(
    work: Path, *, log_name: str, host: str = "127.0.0.1", env: dict[str, str] | None = None
) -> Iterator[DemoServer]:
    """Migrate, seed the demo data and serve on 127.0.0.1, public at http://HOST:PORT
    (`env`: more FRONTDESK_* settings); the server's output goes to ARTIFACTS/log_name."""
    port = free_port()
    url = f"http://{host}:{port}"
    database = work / "frontdesk.sqlite3"
    settings = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    settings.update(
        {
            "FRONTDESK_DATABASE_URL": f"sqlite://{database}",
            "FRONTDESK_PUBLIC_URL": url,
            "FRONTDESK_SECRET_KEY": Fernet.generate_key().decode(),
            "FRONTDESK_MAIL_DIR": str(work / "mail"),
            # Cheap hashes; the production parameters are the benchmarks' business.
            "FRONTDESK_ARGON2_MEMORY_KIB": "1024",
            "FRONTDESK_ARGON2_TIME_COST": "1",
            # Every sign-in of the suite comes from 127.0.0.1.
            "FRONTDESK_THROTTLE_ADDRESS_ATTEMPTS": "100000",
            "FRONTDESK_THROTTLE_ACCOUNT_ATTEMPTS": "1000",
            **(env or {}),
        }
    )
    run_cli(["migrate"], settings)
    seeded = run_cli(["seed-demo"], settings)
    password = re.search(r"Password:\s+(\S+)", seeded)
    assert password, seeded
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / log_name).open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=settings,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"{url}/healthz", process, f"the server ({log_name})")
            yield DemoServer(url=url, database=database, password=password.group(1))
        finally:
            stop(process)
