"""A whole Frontdesk installation for tests: its own SQLite file and mail
directory, the real `frontdesk` command run as a subprocess, and `serve` on a
free port."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

COMMAND_TIMEOUT = 60
STARTUP_TIMEOUT = 90  # a bound for a loaded machine, not a timing check
PASSWORD_LINE = re.compile(r"^\s*Password:\s+(\S+)", re.MULTILINE)


@dataclass
class Instance:
    """One installation: its database file, mail directory and environment."""

    directory: Path
    # Added to (and overriding) the environment below.
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def database(self) -> Path:
        return self.directory / "cli.sqlite3"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "FRONTDESK_TEST_DATABASE_URL"}
        env.update(
            FRONTDESK_DATABASE_URL=f"sqlite://{self.database}",
            FRONTDESK_MAIL_DIR=str(self.directory / "mail"),
            FRONTDESK_RUN_WORKER="false",
            FRONTDESK_ENV="development",
        )
        env.update(self.extra_env)
        return env

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "server", *args],
            env=self.env,
            cwd=self.directory,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def count(self, table: str) -> int:
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            return db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]

    def rows(self, sql: str, *params: object) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            return db.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly migrated, empty database file, copied by each test."""
    template = Instance(tmp_path_factory.mktemp("template"))
    assert "Database migrated." in template.ok("migrate")
    assert template.count("organisation") == template.count("user") == 0
    return template.database


def fresh(migrated: Path, directory: Path) -> Instance:
    directory.mkdir(parents=True, exist_ok=True)
    instance = Instance(directory)
    shutil.copyfile(migrated, instance.database)
    return instance


def seeded_password(output: str) -> str:
    match = PASSWORD_LINE.search(output)
    assert match, output
    return match.group(1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(instance: Instance) -> Iterator[str]:
    """`frontdesk serve` on a free port; yields its base URL; always stops it."""
    port = _free_port()
    log_path = instance.directory / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=instance.env,
            cwd=instance.directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve not healthy after {STARTUP_TIMEOUT}s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
