"""Secrets at rest in the outbox: invitation and reset links and emailed codes
are not readable in the stored bodies (nor in `sealed`, which is encrypted);
the worker puts them in when it sends and clears them once the mail is sent
or dead. Rows written before sealing existed still send."""

from __future__ import annotations

import re
from datetime import timedelta

from server.core import clock
from server.mail.models import MailStatus, OutboxMail
from server.mail.templates import render
from tests.auth.factors import EMAIL_CODE, LOGIN, SET_EMAIL
from tests.helpers.fixtures import PASSWORD, GraphQLClient
from tests.helpers.smtp import SMTPServer, links_in
from tests.invitations.test_invitations import CONFIRM, invite, token_from

REQUEST_RESET = "mutation($e: String!) { requestPasswordReset(input: {email: $e}) { ok } }"
RESET = """
mutation($t: String!) { resetPassword(input: {token: $t, newPassword: "a brand new passphrase"})
  { ok errors { code } } }"""
TOKEN = re.compile(r"fd[ircs]_[A-Za-z0-9_-]{20,}")


def readable(row: OutboxMail) -> str:
    """Everything of the row a copy of the database shows without the key."""
    return " ".join(str(v) for v in row.__dict__.values())


async def the_row(kind: str) -> OutboxMail:
    [row] = await OutboxMail.filter(kind=kind)
    return row


def html_part(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(preferencelist=("html",)).get_content()


async def test_an_invitation_link_is_sealed_until_sent_then_cleared(
    tree, sign_in, anonymous, smtp_server: SMTPServer
):
    admin = await sign_in(tree["acme.owner"].email)
    await invite(admin, tree.acme.id, "new.owner@example.com", role="OWNER")
    row = await the_row("invitation")
    assert row.sealed is not None
    assert "#token=" not in row.text_body and "#token=" not in row.html_body
    assert not TOKEN.search(readable(row)), readable(row)

    [message] = await smtp_server.deliver()
    [link] = links_in(message)
    assert link.startswith("https://portal.example.test/admin/accept-invitation#token=fdi_")
    assert f'href="{link}"' in html_part(message)
    assert "[sealed:" not in message.as_string()

    sent = await the_row("invitation")
    assert sent.status == MailStatus.SENT and sent.sealed is None
    assert not TOKEN.search(readable(sent))
    # The link works: the invitation is accepted with it.
    accepted = await anonymous.ok(CONFIRM, {"token": token_from(link), "password": PASSWORD})
    assert accepted["membership"]["role"] == "OWNER"


async def test_a_reset_link_is_sealed_and_works(tree, anonymous, smtp_server: SMTPServer):
    email = tree["acme.member"].email
    await anonymous.data(REQUEST_RESET, {"e": email})
    row = await the_row("password_reset")
    assert row.sealed is not None and not TOKEN.search(readable(row))
    [message] = await smtp_server.deliver()
    [link] = links_in(message)
    assert (await anonymous.ok(RESET, {"t": token_from(link)}))["ok"]
    assert (await the_row("password_reset")).sealed is None


async def test_an_emailed_code_is_sealed(tree, sign_in, http, smtp_server: SMTPServer):
    person = tree["acme.member"]
    await (await sign_in(person.email)).ok(SET_EMAIL, {"enabled": True})
    await smtp_server.deliver()  # the security notice
    challenge = (
        await GraphQLClient(http).data(LOGIN, {"email": person.email, "password": PASSWORD})
    )["login"]["challenge"]
    assert challenge is not None
    row = await the_row("email_code")
    assert not re.search(r"\b\d{6}\b", row.text_body + row.html_body), row.text_body
    [message] = await smtp_server.deliver()
    [code] = EMAIL_CODE.findall(message.get_body(preferencelist=("plain",)).get_content())
    assert f"Your sign-in code is: {code}</p>" in html_part(message)
    verified = await GraphQLClient(http).data(
        "mutation($c: String!, $k: String!) { verifyTwoFactor(input: {challenge: $c, code: $k})"
        " { token errors { code } } }",
        {"c": challenge["token"], "k": code},
    )
    assert verified["verifyTwoFactor"]["token"]


async def test_a_dead_mail_loses_its_link_and_cannot_be_sent_again(
    tree, sign_in, smtp_server: SMTPServer
):
    admin = await sign_in(tree["acme.admin"].email)
    await invite(admin, tree.acme.id, "bounces@example.com")
    smtp_server.fail_next(550)
    assert await smtp_server.deliver() == []
    dead = await the_row("invitation")
    assert dead.status == MailStatus.DEAD and dead.sealed is None
    # Put back in the queue (an operator retrying dead mails): it says why it cannot
    # be sent and stays dead, rather than mailing a broken link.
    await OutboxMail.filter(id=dead.id).update(
        status=MailStatus.PENDING, next_attempt_at=clock.now()
    )
    assert await smtp_server.deliver() == []
    again = await the_row("invitation")
    assert again.status == MailStatus.DEAD
    assert "cleared" in again.last_error and "send a new one" in again.last_error


async def test_a_mail_queued_before_sealing_still_sends(smtp_server: SMTPServer):
    link = "https://portal.example.test/admin/reset-password#token=fdr_written_before_sealing"
    rendered = render("password_reset", link=link, minutes=30)
    now = clock.now() - timedelta(minutes=1)
    await OutboxMail.create(
        kind="password_reset",
        message_id="<old-row@frontdesk.local>",
        recipient="ada@example.com",
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        next_attempt_at=now,
        created_at=now,
    )
    [message] = await smtp_server.deliver()
    assert links_in(message) == [link]
    assert (await the_row("password_reset")).status == MailStatus.SENT


async def test_a_marker_typed_into_a_mail_is_not_filled_in(tree, sign_in, smtp_server):
    admin = await sign_in(tree["acme.owner"].email)
    forged = "[sealed:0123456789abcdef:link]"
    await admin.ok(
        "mutation($n: String!) { updateProfile(input: {firstName: $n}) { errors { code } } }",
        {"n": forged},
    )
    await invite(admin, tree.acme.id, "curious@example.com")
    [message] = await smtp_server.deliver()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert forged in text
    assert len(links_in(message)) == 1
