"""The admin app's first load (issue 19 point 9), in a real browser:

    .venv/bin/python -m bench.first_load [--rounds 5] [--baseline-ref REF] [--json FILE]

Starts two servers on one fresh SQLite database (migrated, demo data): this
checkout, and as the baseline the app as it was before lazy loading (`git
archive` of --baseline-ref: every screen module imported eagerly, no cache
headers). Debian's Chromium (Playwright) then opens /admin/sign-in on each,
`--rounds` times cold (a fresh browser profile: empty cache) and warm (a new tab
in the profile that loaded it once: a returning browser), alternating the two
servers. Per load: the requests sent, those that went to the network (Resource
Timing: a file from the browser's cache transfers 0 bytes), and the time from
navigation start to the page's heading being in the document (a
MutationObserver installed before any script). Medians; figures only, nothing
asserted. Targets: ready ≤ 150 ms cold, ≤ 60 ms warm, ≤ 6 requests cold.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from io import BytesIO
from pathlib import Path
from typing import Any

from bench.common import BENCH_SECRET_KEY, PYTHON, ROOT, free_port, median

CHROMIUM = os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium")
# The last commit before screens were loaded on demand (issue 19).
BASELINE_REF = "ebff04737db86a003ce5100a9cadf76858e20858"
TARGETS = {"cold_ms": 150, "warm_ms": 60, "cold_requests": 6}

# Before any script of the page: note when the first heading shows in <main>.
READY_PROBE = """
new MutationObserver((changes, observer) => {
  if (document.querySelector("main h1")) {
    window.__ready = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""
NETWORK = """() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .filter((e) => e.transferSize > 0).map((e) => new URL(e.name).pathname)"""


def _env(database: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.pop("PYTHONPATH", None)  # each server imports its own checkout (its working directory)
    env.update(
        FRONTDESK_ENV="production",
        FRONTDESK_SECRET_KEY=BENCH_SECRET_KEY,
        FRONTDESK_DATABASE_URL=f"sqlite://{database}",
        FRONTDESK_PUBLIC_URL=f"http://127.0.0.1:{port}",
        FRONTDESK_RUN_WORKER="false",
        FRONTDESK_MAIL_DIR=str(database.parent / "mail"),
    )
    return env


class AppServer:
    def __init__(self, name: str, checkout: Path, database: Path, work: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(work / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [PYTHON, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=checkout,
            env=_env(database, self.port),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):  # noqa: S310
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start; see {work / name}.log") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _checkout(ref: str, into: Path) -> Path:
    """The server and the admin app as they were at `ref`."""
    archive = subprocess.run(  # noqa: S603
        ["git", "archive", "--format=tar", ref, "server", "static"],  # noqa: S607
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _load(context: Any, url: str) -> dict[str, Any]:
    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    page.goto(f"{url}/admin/sign-in")
    page.wait_for_function("window.__ready !== undefined")
    page.wait_for_load_state("networkidle")
    result = {
        "ready_ms": page.evaluate("window.__ready"),
        "requests": len(sent),
        "network": page.evaluate(NETWORK),
    }
    page.close()
    return result


def measure(rounds: int, baseline_ref: str, work: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    database = work / "first-load.sqlite3"
    env = _env(database, 0)
    for command in (["migrate"], ["seed-demo"]):
        subprocess.run(  # noqa: S603
            [PYTHON, "-m", "server", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    servers = {
        "eager (before)": AppServer(
            "eager", _checkout(baseline_ref, work / "before"), database, work
        ),
        "lazy (now)": AppServer("lazy", ROOT, database, work),
    }
    runs: dict[str, dict[str, list[Any]]] = {name: {"cold": [], "warm": []} for name in servers}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
            )
            for _ in range(rounds + 1):  # the first round warms the servers up and is dropped
                for name, server in servers.items():
                    context = browser.new_context(locale="en-GB")
                    context.add_init_script(READY_PROBE)
                    runs[name]["cold"].append(_load(context, server.url))
                    runs[name]["warm"].append(_load(context, server.url))
                    context.close()
            browser.close()
    finally:
        for server in servers.values():
            server.stop()
    results: dict[str, Any] = {}
    for name, run in runs.items():
        cold, warm = run["cold"][1:], run["warm"][1:]
        results[name] = {
            "cold_ms": median([r["ready_ms"] for r in cold]),
            "warm_ms": median([r["ready_ms"] for r in warm]),
            "cold_requests": median([r["requests"] for r in cold]),
            "warm_requests": median([r["requests"] for r in warm]),
            "warm_network": median([len(r["network"]) for r in warm]),
            "warm_network_paths": warm[-1]["network"],
            "rounds": run,
        }
    return results


def report(results: dict[str, Any]) -> None:
    print(f"{'sign-in page':<16} {'cold ms':>8} {'warm ms':>8} {'requests cold':>14} "
          f"{'warm':>5} {'warm from network':>18}")  # fmt: skip
    for name, r in results.items():
        print(
            f"{name:<16} {r['cold_ms']:>8.0f} {r['warm_ms']:>8.0f} {r['cold_requests']:>14.0f} "
            f"{r['warm_requests']:>5.0f} {r['warm_network']:>18.0f}"
        )
    now = results["lazy (now)"]
    print(
        f"targets: cold ≤ {TARGETS['cold_ms']} ms, warm ≤ {TARGETS['warm_ms']} ms, "
        f"≤ {TARGETS['cold_requests']} requests; warm from the network: "
        f"{', '.join(now['warm_network_paths'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"bench: {CHROMIUM} is missing (apt-get install chromium)")
    work = Path(tempfile.mkdtemp(prefix="frontdesk-first-load-"))
    try:
        results = measure(args.rounds, args.baseline_ref, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
