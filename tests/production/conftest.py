"""Real `frontdesk` processes (`python -m server serve|worker`) on the test
PostgreSQL database, started and always stopped by the `processes` fixture."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.helpers.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], directory: Path) -> None:
        self.name = name
        self.log_path = directory / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                [sys.executable, "-m", "server", *args],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_lines(self) -> list[dict]:
        return [orjson.loads(line) for line in self.log().splitlines() if line.strip()]

    def alive(self) -> bool:
        return self.popen.poll() is None

    async def wait_for_log(self, text: str, timeout: float = STARTUP_TIMEOUT) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if not self.alive():
                pytest.fail(f"{self.name} exited with {self.popen.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name}: no {text!r} after {timeout}s:\n{self.log()}")
            await asyncio.sleep(0.05)

    async def wait_healthy(self, timeout: float = STARTUP_TIMEOUT) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if not self.alive():
                    pytest.fail(f"{self.name} exited with {self.popen.returncode}:\n{self.log()}")
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{self.name} not healthy after {timeout}s:\n{self.log()}")
                await asyncio.sleep(0.05)

    def signal(self, signum: int) -> None:
        if self.alive():
            os.kill(self.popen.pid, signum)

    async def exit_code(self, timeout: float = 15) -> int:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name} still running after {timeout}s:\n{self.log()}")
            await asyncio.sleep(0.02)
        return self.popen.returncode

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


class Processes:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Process] = []

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(
            PYTHONUNBUFFERED="1",
            FRONTDESK_LOG_FORMAT="json",
            FRONTDESK_RUN_WORKER="false",
            FRONTDESK_MAIL_DIR=str(self.directory / "mail"),
        )
        env.update(overrides)
        return env

    def worker(self, name: str, **env: str) -> Process:
        process = Process(name, ["worker"], self.env(**env), self.directory)
        self.started.append(process)
        return process

    def serve(self, name: str, *args: str, **env: str) -> Process:
        port = free_port()
        process = Process(
            name,
            ["serve", "--host", "127.0.0.1", "--port", str(port), *args],
            self.env(**env),
            self.directory,
        )
        process.port = port
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


__all__ = ["Process", "Processes", "signal"]
