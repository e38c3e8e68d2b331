"""Operations: /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from server.core import clock
from server.mail.models import MailStatus, OutboxMail
from server.mail.outbox import queue_mail
from server.ops import health, metrics
from server.settings import get_settings
from tests.helpers.fixtures import LOGIN, PASSWORD, GraphQLClient, Tree
from tests.ops.probes import (
    LINK,
    BrokenDatabase,
    client_for,
    sample,
    scraped,
)

# --- /healthz and /readyz -----------------------------------------------------------------


async def test_healthz_answers_without_the_database(http, monkeypatch):
    broken = BrokenDatabase(ConnectionRefusedError("refused"))
    monkeypatch.setattr(health.connections, "get", lambda name: broken)
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(http):
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_503_with_a_reason_when_the_database_is_gone(http, monkeypatch):
    broken = BrokenDatabase(ConnectionRefusedError("connect call failed ('10.0.0.5', 5432)"))
    monkeypatch.setattr(health.connections, "get", lambda name: broken)
    response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "error"}
    assert body["reason"] == "database unreachable (ConnectionRefusedError)"
    assert "10.0.0.5" not in response.text  # no addresses or messages leak out
    assert response.headers["retry-after"]
    assert broken.expired == 1  # the pool is told to replace its (dead) connections


async def test_readyz_gives_up_after_the_timeout():
    broken = BrokenDatabase(delay=5)
    settings = dataclasses.replace(get_settings(), readiness_timeout_seconds=0.2)
    async with client_for(settings) as client:
        original = health.connections.get
        health.connections.get = lambda name: broken  # type: ignore[method-assign]
        try:
            response = await asyncio.wait_for(client.get("/readyz"), timeout=3)
        finally:
            health.connections.get = original  # type: ignore[method-assign]
    assert response.status_code == 503
    assert response.json()["reason"] == "database did not answer within 0.2 s"


# --- /metrics -------------------------------------------------------------------------------


async def test_metrics_are_served_in_development(http):
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    values = scraped(response.text)
    assert values[("frontdesk_database_up", ())] == 1
    for status in ("pending", "sending", "dead"):
        assert ("frontdesk_outbox_mails", (("status", status),)) in values


async def test_metrics_can_be_switched_off():
    settings = dataclasses.replace(get_settings(), metrics_enabled=False)
    async with client_for(settings) as client:
        assert (await client.get("/metrics")).status_code == 404


def test_metrics_are_off_by_default_in_production(monkeypatch):
    monkeypatch.setenv("FRONTDESK_ENV", "production")
    monkeypatch.delenv("FRONTDESK_METRICS", raising=False)
    get_settings.cache_clear()
    try:
        assert get_settings().metrics_enabled is False
        assert get_settings().log_format == "json"
        monkeypatch.setenv("FRONTDESK_METRICS", "true")
        get_settings.cache_clear()
        assert get_settings().metrics_enabled is True
    finally:
        get_settings.cache_clear()


async def test_metrics_token_is_required_when_set():
    settings = dataclasses.replace(get_settings(), metrics_token="s3cret-scrape-token")
    async with client_for(settings) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        right = await client.get(
            "/metrics", headers={"authorization": "Bearer s3cret-scrape-token"}
        )
        assert right.status_code == 200
        assert "frontdesk_outbox_mails" in right.text


async def test_latency_by_route_and_operation(http):
    graphql_before = sample(
        "frontdesk_graphql_operation_duration_seconds_count", operation="Ping", type="query"
    )
    route_before = sample(
        "frontdesk_http_request_duration_seconds_count",
        route="/graphql",
        method="POST",
        status="200",
    )
    for _ in range(3):
        response = await GraphQLClient(http).post("query Ping { __typename }")
        assert response.status_code == 200
    assert (
        sample("frontdesk_graphql_operation_duration_seconds_count", operation="Ping", type="query")
        == graphql_before + 3
    )
    assert (
        sample(
            "frontdesk_http_request_duration_seconds_count",
            route="/graphql",
            method="POST",
            status="200",
        )
        == route_before + 3
    )
    scrape = (await http.get("/metrics")).text
    assert 'frontdesk_graphql_operation_duration_seconds_bucket{le="0.005",operation="Ping"' in (
        scrape
    )


async def test_unknown_paths_share_one_route_label(http):
    before = sample(
        "frontdesk_http_request_duration_seconds_count", route="other", method="GET", status="404"
    )
    for path in ("/nowhere", "/wp-login.php", "/x/y/z"):
        await http.get(path)
    assert (
        sample(
            "frontdesk_http_request_duration_seconds_count",
            route="other",
            method="GET",
            status="404",
        )
        == before + 3
    )


def test_operation_names_are_bounded(monkeypatch):
    monkeypatch.setattr(metrics, "_operation_names", set())
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("bad name!") == "other"
    names = [metrics.operation_label(f"Op{i}") for i in range(metrics.MAX_OPERATION_NAMES + 5)]
    assert names[: metrics.MAX_OPERATION_NAMES] == [
        f"Op{i}" for i in range(metrics.MAX_OPERATION_NAMES)
    ]
    assert set(names[metrics.MAX_OPERATION_NAMES :]) == {"other"}
    assert metrics.operation_label("Op0") == "Op0"  # known names keep their label


def test_error_codes():
    # The GraphQL policy classifies (tests/core/test_engines.py); the metric counts its codes.
    before = sample("frontdesk_graphql_errors_total", code="FORBIDDEN")
    metrics.observe_operation("Op", "query", 0.001, ["FORBIDDEN", "FORBIDDEN"])
    assert sample("frontdesk_graphql_errors_total", code="FORBIDDEN") == before + 2


async def test_errors_by_code(http):
    unauthenticated = sample("frontdesk_graphql_errors_total", code="UNAUTHENTICATED")
    invalid = sample("frontdesk_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED")
    anonymous = GraphQLClient(http)
    await anonymous("{ organisations { totalCount } }")
    await anonymous("{ noSuchField }")
    assert sample("frontdesk_graphql_errors_total", code="UNAUTHENTICATED") == unauthenticated + 1
    assert sample("frontdesk_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == invalid + 1


async def test_logins_and_lockouts_are_counted(tree: Tree, http, monkeypatch):
    frozen = clock.now()
    monkeypatch.setattr(clock, "now", lambda: frozen)  # the 1 s lock cannot run out
    email = tree["acme.member"].email
    before = {
        outcome: sample("frontdesk_logins_total", outcome=outcome)
        for outcome in ("success", "failed", "throttled")
    }
    lockouts = sample("frontdesk_lockouts_total", key="account")
    refused = sample("frontdesk_locked_attempts_total", key="account")
    user_errors = sample("frontdesk_user_errors_total", code="INVALID_CREDENTIALS")
    anonymous = GraphQLClient(http)

    await anonymous.ok(LOGIN, {"email": email, "password": PASSWORD})
    free = get_settings().throttle_account_attempts
    for _ in range(free):
        await anonymous.refused(LOGIN, {"email": email, "password": "wrong password, sorry"})
    # The last free attempt locked the account: the right password is refused now.
    assert await anonymous.refused(LOGIN, {"email": email, "password": PASSWORD}) == [
        "INVALID_CREDENTIALS"
    ]

    assert sample("frontdesk_logins_total", outcome="success") == before["success"] + 1
    assert sample("frontdesk_logins_total", outcome="failed") == before["failed"] + free
    assert sample("frontdesk_logins_total", outcome="throttled") == before["throttled"] + 1
    assert sample("frontdesk_lockouts_total", key="account") == lockouts + 1
    assert sample("frontdesk_locked_attempts_total", key="account") == refused + 1
    assert (
        sample("frontdesk_user_errors_total", code="INVALID_CREDENTIALS") == user_errors + free + 1
    )


async def test_outbox_depth_and_age(http):
    first = await queue_mail(
        kind="password_reset", recipient="a@example.test", link=LINK, minutes=1
    )
    await queue_mail(kind="password_reset", recipient="b@example.test", link=LINK, minutes=1)
    dead = await queue_mail(kind="password_reset", recipient="c@example.test", link=LINK, minutes=1)
    await OutboxMail.filter(id=dead.id).update(status=MailStatus.DEAD)
    await OutboxMail.filter(id=first.id).update(
        status=MailStatus.SENDING, claimed_until=clock.now() + timedelta(minutes=5)
    )
    clock.advance(timedelta(minutes=10))

    values = scraped((await http.get("/metrics")).text)

    assert values[("frontdesk_outbox_mails", (("status", "pending"),))] == 1
    assert values[("frontdesk_outbox_mails", (("status", "sending"),))] == 1
    assert values[("frontdesk_outbox_mails", (("status", "dead"),))] == 1
    age = values[("frontdesk_outbox_oldest_pending_age_seconds", ())]
    assert 600 <= age < 700


async def test_outbox_metrics_without_a_database(http, monkeypatch):
    def fails(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError

    monkeypatch.setattr(OutboxMail, "filter", fails)
    response = await http.get("/metrics")
    assert response.status_code == 200
    values = scraped(response.text)
    assert values[("frontdesk_database_up", ())] == 0
    assert ("frontdesk_outbox_mails", (("status", "pending"),)) not in values
