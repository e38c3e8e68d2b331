"""The `frontdesk` command, run for real as a subprocess on its own SQLite file:
migrate, seed-demo, create-admin, and serve (signing in with the seeded password)."""

from __future__ import annotations

import os
import re

import httpx
import pytest

from server.seed import DEMO_OWNER, DEMO_TREE
from tests.helpers.instance import fresh, seeded_password, serving

# These tests never touch the test database: run them once, in the SQLite run.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("FRONTDESK_TEST_DATABASE_URL")),
    reason="CLI tests use their own SQLite file; they run in the SQLite run only",
)

OWNER_LINE = re.compile(r"^\s*Demo owner:\s+(\S+)", re.MULTILINE)
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { code } }
}"""


def test_migrate_is_idempotent(migrated, tmp_path):
    instance = fresh(migrated, tmp_path)
    assert "Database migrated." in instance.ok("migrate")
    assert instance.count("organisation") == 0


def test_seed_demo_prints_the_owner_and_a_generated_password(migrated, tmp_path):
    first, second = fresh(migrated, tmp_path / "a"), fresh(migrated, tmp_path / "b")
    output = first.ok("seed-demo")
    assert "Demo data created." in output
    match = OWNER_LINE.search(output)
    assert match and match.group(1) == DEMO_OWNER
    password = seeded_password(output)
    assert len(password) >= 16
    # Generated, not fixed: another fresh installation gets another password.
    assert seeded_password(second.ok("seed-demo")) != password
    users = sum(len(members) for *_, members in DEMO_TREE)
    assert first.count("organisation") == len(DEMO_TREE)
    assert first.count("user") == users
    [(stored,)] = first.rows('SELECT password_hash FROM "user" WHERE email = ?', DEMO_OWNER)
    assert stored.startswith("$argon2id$") and password not in stored


def test_seed_demo_again_is_idempotent_and_renews_the_password(migrated, tmp_path):
    instance = fresh(migrated, tmp_path)
    password = seeded_password(instance.ok("seed-demo"))
    counts = {t: instance.count(t) for t in ("organisation", "user", "membership")}
    [(old_hash,)] = instance.rows('SELECT password_hash FROM "user" WHERE email = ?', DEMO_OWNER)

    output = instance.ok("seed-demo")
    assert "already present; demo passwords renewed." in output
    renewed = seeded_password(output)
    assert renewed != password
    assert {t: instance.count(t) for t in counts} == counts
    [(new_hash,)] = instance.rows('SELECT password_hash FROM "user" WHERE email = ?', DEMO_OWNER)
    assert new_hash != old_hash


def test_create_admin_reads_the_password_from_stdin(migrated, tmp_path):
    instance = fresh(migrated, tmp_path)
    password = "a long enough admin passphrase"
    output = instance.ok(
        "create-admin", "--email", "admin@example.com", "--password-stdin", stdin=password + "\n"
    )
    assert "admin@example.com" in output
    assert password not in output
    rows = instance.rows(
        "SELECT u.email, u.status, u.password_hash, m.role, m.status, o.kind, o.parent_id "
        'FROM "user" u JOIN membership m ON m.user_id = u.id '
        "JOIN organisation o ON o.id = m.organisation_id"
    )
    [(email, status, password_hash, role, membership_status, kind, parent_id)] = rows
    assert (email, status, role, membership_status) == (
        "admin@example.com",
        "ACTIVE",
        "OWNER",
        "ACTIVE",
    )
    assert (kind, parent_id) == ("PROVIDER", None)
    assert password_hash.startswith("$argon2id$")
    assert instance.count("organisation") == 1


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "a long enough admin passphrase", "email"),
        ("admin@example.com", "short", "password"),
    ],
    ids=["bad-email", "short-password"],
)
def test_create_admin_refuses_bad_input_and_creates_nothing(
    migrated, tmp_path, email, password, message
):
    instance = fresh(migrated, tmp_path)
    result = instance.run("create-admin", "--email", email, "--password-stdin", stdin=password)
    assert result.returncode != 0
    assert f"create-admin: {message}:" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert password not in result.stdout + result.stderr
    assert instance.count("user") == instance.count("organisation") == 0


def test_the_served_app_accepts_the_renewed_demo_password(migrated, tmp_path):
    instance = fresh(migrated, tmp_path)
    old = seeded_password(instance.ok("seed-demo"))
    password = seeded_password(instance.ok("seed-demo"))
    with serving(instance) as base:

        def login(secret: str) -> dict:
            response = httpx.post(
                f"{base}/graphql",
                json={"query": LOGIN, "variables": {"email": DEMO_OWNER, "password": secret}},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            return response.json()["data"]["login"]

        payload = login(password)
        assert payload["errors"] == [] and payload["token"], payload
        viewer = httpx.post(
            f"{base}/graphql",
            json={"query": "{ viewer { user { email } } }"},
            headers={"authorization": f"Bearer {payload['token']}"},
            timeout=10,
        ).json()
        assert viewer == {"data": {"viewer": {"user": {"email": DEMO_OWNER}}}}
        # The password printed by the first run no longer works.
        assert login(old) == {"token": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}


def test_oidc_rotate_key_adds_a_signing_key_and_retires_the_old_one(migrated, tmp_path):
    instance = fresh(migrated, tmp_path)
    first = instance.ok("oidc-rotate-key")
    assert "New OpenID Connect signing key" in first and "10 minutes" in first
    instance.ok("oidc-rotate-key")
    assert instance.count("oidc_signing_key") == 2
