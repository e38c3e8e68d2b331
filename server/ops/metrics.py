"""Prometheus metrics, served at ``/metrics``.

Each process keeps its own counters. ``frontdesk serve --workers N`` puts
its processes in prometheus-client's multiprocess mode (a shared directory
of counter files, ``PROMETHEUS_MULTIPROC_DIR``), so a scrape of any of them
answers for all of them. Separate ``serve`` instances (containers, hosts) are
scraped one by one, as usual. The outbox figures come from the database at
scrape time, so every process reports the same ones.

Label values are bounded: routes are a fixed list, GraphQL operation names
are taken only from parsed documents, checked against the GraphQL name
syntax and capped per process (the rest count as ``other``); error codes are
those of our own errors.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from tortoise.functions import Count, Min

from server.core import clock
from server.settings import Settings

logger = logging.getLogger(__name__)
# No *_created series: they double the output and nobody graphs them.
disable_created_metrics()

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics", "/audit/export.csv")
METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS"})
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")

HTTP_LATENCY = Histogram(
    "frontdesk_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by route, method and status.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_LATENCY = Histogram(
    "frontdesk_graphql_operation_duration_seconds",
    "Time to parse, validate and execute a GraphQL operation, by operation name and type.",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    "frontdesk_graphql_errors_total",
    "GraphQL errors by extensions.code (INTERNAL: an unexpected, masked fault or a "
    "request answered with a 500; GRAPHQL_VALIDATION_FAILED: refused documents, limits "
    "included; BAD_USER_INPUT: variables that do not fit their types).",
    ["code"],
)
USER_ERRORS = Counter(
    "frontdesk_user_errors_total",
    "Expected failures returned in mutation payloads (UserError.code).",
    ["code"],
)
LOGINS = Counter(
    "frontdesk_logins_total",
    "Sign-in attempts by outcome: success, second_factor_required, failed (wrong "
    "credentials, second factor or unusable account) or throttled (refused while locked).",
    ["outcome"],
)
LOCKOUTS = Counter(
    "frontdesk_lockouts_total",
    "Temporary locks set by the brute-force defence, by key (account: passwords; "
    "code: second-factor codes; address: the client address).",
    ["key"],
)
LOCKED_ATTEMPTS = Counter(
    "frontdesk_locked_attempts_total",
    "Password or code checks refused because their key was locked, by key.",
    ["key"],
)


# --- one-line hooks for the services ----------------------------------------------------


def login(outcome: str) -> None:
    LOGINS.labels(outcome).inc()


_KEY_KINDS = {"ip": "address", "a": "account", "c": "code", "d": "device", "t": "token"}


def _key_kind(key: str) -> str:
    # Throttle keys: "a:<hash>" (passwords), "c:<hash>" (second-factor codes),
    # "d:<hash>" (a trusted device's passwords), "t:<hash>" (an address's guesses
    # at mailed tokens, as invitation previews), "ip:<address>".
    return _KEY_KINDS.get(key.partition(":")[0], "other")


def lockout(key: str, seconds: int) -> None:
    if seconds > 0:
        LOCKOUTS.labels(_key_kind(key)).inc()


def locked_attempt(key: str) -> None:
    LOCKED_ATTEMPTS.labels(_key_kind(key)).inc()


def user_error(code: str) -> None:
    USER_ERRORS.labels(code).inc()


# --- HTTP -------------------------------------------------------------------------------


def route_of(path: str) -> str:
    if path in ROUTES or path == "/":
        return path
    if path == "/admin" or path.startswith("/admin/"):
        return "/admin"
    return "other"


# Labelled children by label values: `labels()` validates and locks on every call.
_http_children: dict[tuple[str, str, int], Any] = {}


def observe_request(path: str, method: str, status: int, seconds: float) -> None:
    key = (route_of(path), method if method in METHODS else "other", status)
    child = _http_children.get(key)
    if child is None:
        child = _http_children[key] = HTTP_LATENCY.labels(key[0], key[1], str(status))
    child.observe(seconds)


# --- GraphQL ----------------------------------------------------------------------------

_operation_names: set[str] = set()
_operation_children: dict[tuple[str, str], Any] = {}


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _NAME.match(name):
        return "other"
    if name not in _operation_names:
        if len(_operation_names) >= MAX_OPERATION_NAMES:
            return "other"
        _operation_names.add(name)
    return name


def observe_operation(name: str | None, kind: str, seconds: float, codes: Iterable[str]) -> None:
    """One GraphQL operation: its latency, and the codes of its errors as the
    GraphQL policy classified them (core/policy.py: INTERNAL only for faults).
    `kind` is "query", "mutation" or "subscription", "unknown" when no
    operation was found (the document did not parse)."""
    key = (operation_label(name) if kind != "unknown" else "other", kind)
    child = _operation_children.get(key)
    if child is None:  # bounded: operation_label() keeps at most MAX_OPERATION_NAMES names
        child = _operation_children[key] = GRAPHQL_LATENCY.labels(*key)
    child.observe(seconds)
    for code in codes:
        GRAPHQL_ERRORS.labels(code).inc()


def internal_fault() -> None:
    """A request that failed outside any GraphQL operation (answered with a 500)."""
    GRAPHQL_ERRORS.labels("INTERNAL").inc()


# --- the outbox, read at scrape time ----------------------------------------------------


class _Snapshot(Collector):
    """Gauges measured just before the scrape (the database is async, collect() is not)."""

    def __init__(self) -> None:
        self.families: list[GaugeMetricFamily] = []

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self.families


async def outbox_snapshot() -> list[GaugeMetricFamily]:
    from server.mail.models import MailStatus, OutboxMail

    up = GaugeMetricFamily(
        "frontdesk_database_up", "1 when this scrape could query the database, else 0."
    )
    families = [up]
    try:
        rows = (
            await OutboxMail.filter(
                status__in=[MailStatus.PENDING, MailStatus.SENDING, MailStatus.DEAD]
            )
            .annotate(n=Count("id"), oldest=Min("created_at"))
            .group_by("status")
            .values("status", "n", "oldest")
        )
    except Exception:  # noqa: BLE001 - a scrape must answer even without a database
        logger.warning("Metrics: outbox query failed", exc_info=True)
        up.add_metric([], 0)
        return families
    up.add_metric([], 1)
    depth = GaugeMetricFamily(
        "frontdesk_outbox_mails",
        "Mails in the outbox by status (pending: waiting or retrying; sending: claimed "
        "by a worker; dead: given up).",
        labels=["status"],
    )
    counts = {status: 0 for status in ("pending", "sending", "dead")}
    oldest = None
    for row in rows:
        status = MailStatus(row["status"]).value
        counts[status] = row["n"]
        if status != "dead" and row["oldest"] is not None:
            oldest = row["oldest"] if oldest is None else min(oldest, row["oldest"])
    for status, n in counts.items():
        depth.add_metric([status], n)
    age = GaugeMetricFamily(
        "frontdesk_outbox_oldest_pending_age_seconds",
        "Age of the oldest mail not yet sent (pending or sending); 0 when there is none.",
    )
    age.add_metric([], max(0.0, (clock.now() - oldest).total_seconds()) if oldest else 0.0)
    families += [depth, age]
    return families


# --- the endpoint -----------------------------------------------------------------------


def _authorised(request: Request, token: str) -> bool:
    if not token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def metrics_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        if not _authorised(request, settings.metrics_token):
            return PlainTextResponse(
                "Unauthorized.", status_code=401, headers={"www-authenticate": "Bearer"}
            )
        if os.environ.get(MULTIPROC_ENV):
            registry: CollectorRegistry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = REGISTRY
        snapshot = CollectorRegistry()
        collector = _Snapshot()
        collector.families = await outbox_snapshot()
        snapshot.register(collector)
        body = generate_latest(registry) + generate_latest(snapshot)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics


def prepare_multiprocess_dir(directory: str) -> None:
    """Empty a multiprocess directory before the processes start (stale files
    of an earlier run would add their counts to ours)."""
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))
