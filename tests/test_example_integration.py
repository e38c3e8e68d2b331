"""examples/reseller_sync.py, run as it is against the real server: an API token
creates a customer, invites users from a CSV file, lists them, changes a role,
disables one, and receives the signed webhook events."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.helpers.instance import fresh, seeded_password, serving

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("FRONTDESK_TEST_DATABASE_URL")),
    reason="uses its own SQLite installation; runs in the SQLite run only",
)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def call(base: str, query: str, token: str | None = None, **variables: object) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=10,
    ).json()
    assert "errors" not in body, body
    [payload] = body["data"].values()
    return payload


def test_the_reseller_example_runs_end_to_end(migrated, tmp_path):
    instance = fresh(migrated, tmp_path)
    password = seeded_password(instance.ok("seed-demo"))
    instance.extra_env.update(FRONTDESK_RUN_WORKER="true", FRONTDESK_MAIL_POLL_SECONDS="0.2")
    with serving(instance) as base:
        session = call(
            base,
            "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
            e="admin@northwind.example.com",
            p=password,
        )["token"]
        reseller = call(base, '{ organisations(search: "Northwind") { nodes { id } } }', session)[
            "nodes"
        ][0]["id"]
        expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        created = call(
            base,
            """mutation($org: ID!, $expires: DateTime!) { createApiToken(input: {organisationId: $org,
               name: "back office", expiresAt: $expires, permissions: [ORGANISATION_VIEW,
               CUSTOMERS_MANAGE, MEMBERS_VIEW, MEMBERS_MANAGE, WEBHOOKS_MANAGE], privileged: true}) {
               secret errors { code message } } }""",
            session,
            org=reseller,
            expires=expires,
        )
        assert created["errors"] == [], created
        result = subprocess.run(  # noqa: S603 - the example, fixed arguments
            [sys.executable, str(EXAMPLES / "reseller_sync.py"), str(EXAMPLES / "users.csv")],
            env={
                **os.environ,
                "FRONTDESK_URL": base,
                "FRONTDESK_TOKEN": created["secret"],
                "RESELLER_ID": reseller,
            },
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "created customer Initech" in out
    assert "invited grace@initech.example.com as MEMBER" in out
    assert "3 at Initech" in out
    assert "grace@initech.example.com is now a VIEWER" in out
    assert "alan@initech.example.com is disabled" in out
    for line in (
        "event organisation.created: Initech",
        "event member.invited: ada@initech.example.com",
        "event member.role_changed:",
        "event member.disabled:",
    ):
        assert line in out, out
