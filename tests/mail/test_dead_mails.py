"""Dead mails listed and put back in the outbox: through GraphQL for the
provider's owners (on either database) and through `frontdesk mail` (a real
subprocess on its own SQLite file). Mails die for real: a real SMTP server
answers 550."""

from __future__ import annotations

import contextlib
import os
import sqlite3

import pytest

from server.audit.models import AuditEvent
from server.mail.models import MailStatus, OutboxMail
from server.mail.outbox import queue_mail
from tests.helpers.fixtures import gid
from tests.helpers.instance import fresh
from tests.helpers.smtp import SMTPServer

LIST = """query($status: OutboxMailStatus!, $first: Int, $after: String) {
  outboxMails(status: $status, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id kind recipient subject status attempts lastError } } }"""
RETRY = """mutation($id: ID, $all: Boolean! = false) {
  retryMail(input: {mailId: $id, allDead: $all}) {
    mails { id status attempts } skipped { id kind } errors { field code message } } }"""


async def _dead(smtp_server: SMTPServer, *recipients: str, kind: str = "password_changed") -> None:
    """Mails that a real SMTP server refused for good."""
    for recipient in recipients:
        if kind == "password_changed":
            await queue_mail(kind=kind, recipient=recipient, name="Ada")
        else:
            await queue_mail(
                kind=kind, recipient=recipient, link="https://portal.example.test/r#t=x", minutes=30
            )
    smtp_server.fail_next(550, n=len(recipients))
    assert await smtp_server.deliver() == []
    assert await OutboxMail.filter(status=MailStatus.DEAD).count() >= len(recipients)


async def _state() -> list[tuple[int, str, int]]:
    return [(m.id, m.status.value, m.attempts) for m in await OutboxMail.all().order_by("id")]


async def test_provider_owners_list_and_retry_dead_mails(tree, sign_in, smtp_server):
    await _dead(smtp_server, "a@example.test", "b@example.test", "c@example.test")
    await queue_mail(kind="password_changed", recipient="pending@example.test", name="Bo")
    owner = await sign_in(tree["provider.owner"].email)

    page = (await owner.data(LIST, {"status": "DEAD", "first": 2}))["outboxMails"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = await owner.data(LIST, {"status": "DEAD", "after": page["pageInfo"]["endCursor"]})
    dead = page["nodes"] + rest["outboxMails"]["nodes"]
    assert [n["recipient"] for n in dead] == ["a@example.test", "b@example.test", "c@example.test"]
    assert all(n["status"] == "DEAD" and n["lastError"].startswith("550") for n in dead)
    pending = (await owner.data(LIST, {"status": "PENDING"}))["outboxMails"]["nodes"]
    assert [n["recipient"] for n in pending] == ["pending@example.test"]

    retried = await owner.ok(RETRY, {"id": dead[0]["id"]})
    assert [(m["id"], m["status"], m["attempts"]) for m in retried["mails"]] == [
        (dead[0]["id"], "PENDING", 0)
    ]
    [event] = await AuditEvent.filter(action="mail.retried")
    assert (event.organisation_id, event.actor_id) == (
        tree.provider.id,
        tree["provider.owner"].user.id,
    )
    assert event.target_label == "password_changed to a@example.test"

    everything = await owner.ok(RETRY, {"all": True})
    assert len(everything["mails"]) == 2 and everything["skipped"] == []
    assert await AuditEvent.filter(action="mail.retried").count() == 3
    # Sent this time, with the Message-ID they were queued with.
    delivered = await smtp_server.deliver()
    assert sorted(m["To"] for m in delivered) == [
        "a@example.test",
        "b@example.test",
        "c@example.test",
        "pending@example.test",
    ]
    assert await OutboxMail.filter(status=MailStatus.SENT).count() == 4


async def test_bad_retries_change_nothing(tree, sign_in, smtp_server):
    await _dead(smtp_server, "a@example.test")
    await _dead(smtp_server, "reset@example.test", kind="password_reset")  # its link is cleared
    sent = await queue_mail(kind="password_changed", recipient="s@example.test", name="Si")
    await smtp_server.deliver()
    owner = await sign_in(tree["provider.owner"].email)
    before = await _state()
    reset = await OutboxMail.get(recipient="reset@example.test")

    for variables, field, code in [
        ({"id": gid("OutboxMail", sent.id)}, "mailId", "NOT_FOUND"),  # not dead
        ({"id": gid("OutboxMail", 999_999)}, "mailId", "NOT_FOUND"),
        ({"id": gid("Organisation", tree.provider.id)}, "mailId", "NOT_FOUND"),
        ({"id": "not an id"}, "mailId", "NOT_FOUND"),
        ({"id": gid("OutboxMail", reset.id)}, "mailId", "INVALID"),  # link gone
        ({}, "mailId", "INVALID"),  # neither
        ({"id": gid("OutboxMail", reset.id), "all": True}, "mailId", "INVALID"),  # both
    ]:
        payload = (await owner.data(RETRY, variables))["retryMail"]
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], variables
        assert payload["mails"] == []
    assert (
        "cleared when it died"
        in (await owner.data(RETRY, {"id": gid("OutboxMail", reset.id)}))["retryMail"]["errors"][0][
            "message"
        ]
    )
    assert await _state() == before
    assert await AuditEvent.filter(action="mail.retried").count() == 0

    # Every dead mail: the one that can be sent goes, the cleared one is named.
    everything = await owner.ok(RETRY, {"all": True})
    assert len(everything["mails"]) == 1
    assert everything["skipped"] == [{"id": gid("OutboxMail", reset.id), "kind": "password_reset"}]


async def test_only_the_providers_owners_reach_the_outbox(tree, sign_in, anonymous, smtp_server):
    await _dead(smtp_server, "a@example.test")
    [mail] = await OutboxMail.all()
    for person, code in [
        ("provider.admin", "FORBIDDEN"),  # sees the provider, is no owner
        ("reseller.owner", "NOT_FOUND"),  # owns an organisation, not the provider
        ("acme.owner", "NOT_FOUND"),
    ]:
        client = await sign_in(tree[person].email)
        assert await client.error_code(LIST, {"status": "DEAD"}) == code, person
        body = await client(RETRY, {"id": gid("OutboxMail", mail.id)})
        refused = body.get("errors") or body["data"]["retryMail"]["errors"]
        assert refused, (person, body)
    assert await anonymous.error_code(LIST, {"status": "DEAD"}) == "UNAUTHENTICATED"
    assert (await OutboxMail.get(id=mail.id)).status == MailStatus.DEAD
    assert await AuditEvent.filter(action="mail.retried").count() == 0


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.skipif(
    bool(os.environ.get("FRONTDESK_TEST_DATABASE_URL")),
    reason="the CLI test uses its own SQLite file; it runs in the SQLite run only",
)
def test_mail_list_and_retry_on_the_command_line(migrated, tmp_path):
    instance = fresh(migrated, tmp_path)
    with_dead = [
        (1, "dead", "welcome", "a@example.test\x1b[2J", 6, "550 mailbox unavailable"),
        (2, "dead", "welcome", "b@example.test", 6, "550 no such user"),
        (3, "pending", "welcome", "c@example.test", 0, ""),
    ]
    with contextlib.closing(sqlite3.connect(instance.database)) as db:
        db.execute("DELETE FROM outbox_mail")
        db.executemany(
            "INSERT INTO outbox_mail (id, status, kind, recipient, attempts, last_error,"
            " message_id, mail_from, subject, text_body, html_body, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, '', 'Welcome', 'Hello', '<p>Hello</p>',"
            " '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')",
            [(*row, f"<{row[0]}@frontdesk.local>") for row in with_dead],
        )
        db.commit()

    listed = instance.ok("mail", "list", "--dead")
    assert "2 dead mails." in listed
    assert "a@example.test\\x1b[2J" in listed and "\x1b" not in listed  # escaped
    assert "c@example.test" not in listed
    assert "1 waiting mail." in instance.ok("mail", "list")

    for args, message in [
        (("mail", "retry", "3"), "Nothing retried: Dead mail not found."),
        (("mail", "retry", "99"), "Nothing retried: Dead mail not found."),
        (("mail", "retry"), "Give a mail id"),
        (("mail", "retry", "1", "--all-dead"), "Give a mail id"),
    ]:
        result = instance.run(*args)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
    assert instance.rows("SELECT id, status FROM outbox_mail ORDER BY id") == [
        (1, "dead"),
        (2, "dead"),
        (3, "pending"),
    ]
    assert instance.run("mail", "retry", "x").returncode == 2  # argparse: not a number

    assert "1 mail back in the outbox." in instance.ok("mail", "retry", "1")
    assert "1 mail back in the outbox." in instance.ok("mail", "retry", "--all-dead")
    assert instance.rows("SELECT id, status, attempts FROM outbox_mail ORDER BY id") == [
        (1, "pending", 0),
        (2, "pending", 0),
        (3, "pending", 0),
    ]
    assert instance.rows(
        "SELECT actor_label, target_label FROM audit_event WHERE action = 'mail.retried'"
        " ORDER BY id"
    ) == [
        ("frontdesk mail retry", "welcome to a@example.test\x1b[2J"),
        ("frontdesk mail retry", "welcome to b@example.test"),
    ]
