"""Helpers shared by the benchmarks: processes, load generators, statistics."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# A fixed Fernet key: the benchmark database is thrown away afterwards.
BENCH_SECRET_KEY = "YmVuY2gtb25seS1rZXktbm90LWZvci1wcm9kdWN0aW9uIQ=="  # noqa: S105

VIEWER_QUERY = "{ viewer { user { id email } } }"
MEMBERS_QUERY = (
    "query($org: ID!, $first: Int!) { members(organisationId: $org, first: $first) "
    "{ totalCount nodes { id role user { id email } organisation { id name } } } }"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production-like settings for the server under test (real argon2 parameters:
    the defaults, t=2, 19 MiB, p=1)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        FRONTDESK_ENV="production",
        FRONTDESK_SECRET_KEY=BENCH_SECRET_KEY,
        FRONTDESK_DATABASE_URL=database_url,
        FRONTDESK_PUBLIC_URL="https://portal.bench.example",
        FRONTDESK_MAIL_DIR=str(Path(tempfile.gettempdir()) / "frontdesk-bench-mail"),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


class Server:
    """A server process listening on a free loopback port."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.proc = subprocess.Popen(  # noqa: S603 - fixed command
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    @classmethod
    def frontdesk(cls, env: dict[str, str], log_dir: Path) -> Server:
        """The real thing, started as in production: `frontdesk serve`, one worker
        (uvicorn in-process: the PID is the server), JSON access log."""
        argv = [
            PYTHON,
            "-m",
            "server",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--workers",
            "1",
        ]
        return cls("frontdesk", argv, env, log_dir)

    @classmethod
    def baseline(cls, env: dict[str, str], log_dir: Path) -> Server:
        """The hand-written Starlette baseline under the same uvicorn (uvloop, httptools)."""
        argv = [
            PYTHON,
            "-m",
            "uvicorn",
            "bench.baseline:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--no-server-header",
            "--no-proxy-headers",
        ]
        return cls("baseline", argv, env, log_dir)

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-2000:]}")

    def status(self) -> dict[str, int]:
        """VmHWM (peak resident set) and VmRSS of the server process, in KiB."""
        values = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0])
        return values

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (all its threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


def run_child(argv: list[str], *, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess:
    """subprocess.run, except that an interrupted or timed-out child gets SIGTERM
    (and time to stop its own servers) before SIGKILL."""
    with subprocess.Popen(argv, **kwargs) as proc:  # noqa: S603
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, argv, out, err)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def stop_on_sigterm() -> None:
    """SIGTERM (timeout, Ctrl-C in a parent) unwinds like an exception, so that
    `finally` blocks stop servers and PostgreSQL."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def post_json(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(url, json=body, headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()


# --- load generators -------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50: float  # seconds
    p99: float
    requests: int = 0
    errors: int = 0
    percentiles: dict[str, float] = field(default_factory=dict)


def _lua(body: str, token: str | None, delay_ms: int | None = None) -> str:
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {json.dumps(body)}",
        'wrk.headers["Content-Type"] = "application/json"',
    ]
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    if delay_ms:
        # Think time between a connection's requests: a paced probe, not a flood.
        lines.append(f"function delay() return {int(delay_ms)} end")
    # Exact percentiles (microseconds) from wrk's own histogram.
    lines.append(
        "function done(summary, latency, requests) for _, p in ipairs({50, 90, 95, 99}) do "
        'io.write(string.format("PCT %d %d\\n", p, latency:percentile(p))) end end'
    )
    return "\n".join(lines) + "\n"


def wrk(
    url: str,
    body: str,
    token: str | None,
    *,
    seconds: float,
    connections: int = 10,
    threads: int = 1,
    delay_ms: int | None = None,
) -> Load:
    """Closed-loop load with wrk (keep-alive connections); with `delay_ms`, each
    connection waits that long between requests."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(body, token, delay_ms))
    try:
        out = subprocess.run(  # noqa: S603
            [  # noqa: S607
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    percentiles = {
        m.group(1): int(m.group(2)) / 1e6 for m in re.finditer(r"^PCT (\d+) (\d+)$", out, re.M)
    }
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    return Load(
        rps, percentiles.get("50", 0.0), percentiles.get("99", 0.0), requests, errors, percentiles
    )


def hey_command(
    url: str,
    body: str,
    token: str | None,
    *,
    seconds: float,
    connections: int,
    rate_per_client: float | None = None,
) -> list[str]:
    command = [
        "hey",
        "-z",
        f"{seconds}s",
        "-c",
        str(connections),
        "-m",
        "POST",
        "-T",
        "application/json",
        "-d",
        body,
        "-t",
        "20",
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if rate_per_client:
        command += ["-q", str(rate_per_client)]
    return [*command, url]


def parse_hey(out: str) -> Load:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    percentiles = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^\s+(\d+)%+ in ([\d.]+) secs", out, re.M)
    }
    ok = sum(int(n) for n in re.findall(r"\[200\]\s+(\d+) responses", out))
    total = sum(int(n) for n in re.findall(r"\[\d+\]\s+(\d+) responses", out))
    errors = total - ok
    if m := re.search(r"Error distribution:(.*)", out, re.S):
        errors += sum(int(n) for n in re.findall(r"\[(\d+)\]", m.group(1)))
    return Load(
        rps, percentiles.get("50", 0.0), percentiles.get("99", 0.0), ok, errors, percentiles
    )


def hey(url: str, body: str, token: str | None, **kwargs: Any) -> Load:
    seconds = kwargs["seconds"]
    out = subprocess.run(  # noqa: S603
        hey_command(url, body, token, **kwargs),
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    return parse_hey(out)


# --- statistics ----------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"
