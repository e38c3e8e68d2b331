"""The member's mail when an impersonation ends: who, when, how long, why and
what changed; once per session, however it ends (stopped, signed out, expired)."""

from __future__ import annotations

from datetime import timedelta

from server.accounts.models import Membership, User
from server.audit.models import AuditEvent
from server.auth.models import Session
from server.core import clock
from server.impersonation.service import close_expired
from server.mail.models import OutboxMail
from tests.helpers.fixtures import GraphQLClient, gid

IMPERSONATE = """mutation($id: ID!, $reason: String!) {
  impersonateUser(input: {membershipId: $id, reason: $reason}) { token errors { code } } }"""
END = "mutation { endImpersonation { ended errors { code } } }"
LOGOUT = "mutation { logout { ok } }"
CREATE_EXTENSION = """mutation($org: ID!, $m: ID!) { createExtension(input: {organisationId: $org,
  number: "201", membershipId: $m}) { extension { id } errors { code } } }"""
SET_DND = """mutation($id: ID!) { setDoNotDisturb(input: {extensionId: $id, enabled: true}) {
  extension { doNotDisturb } errors { code } } }"""
FORWARD = """mutation($id: ID!) { setForwardingRules(input: {extensionId: $id,
  rules: [{condition: ALWAYS, destination: "+44 7700 900123"}]}) { errors { code } } }"""
VIEWER = "{ viewer { user { email } } }"


async def start(tree, sign_in, http, reason: str = "Forward calls while away"):  # type: ignore[no-untyped-def]
    """The Acme owner opens the Acme member's portal; their extension 201 exists."""
    owner, member = tree["acme.owner"], tree["acme.member"]
    await User.filter(id=owner.user.id).update(first_name="Ann", last_name="Admin")
    await User.filter(id=member.user.id).update(first_name="Bob", last_name="Member")
    await Membership.filter(id=owner.membership.id).update(can_impersonate=True)
    admin = await sign_in(owner.email)
    created = await admin.ok(
        CREATE_EXTENSION, {"org": gid("Organisation", tree.acme.id), "m": member.membership_id}
    )
    started = await admin.ok(IMPERSONATE, {"id": member.membership_id, "reason": reason})
    return GraphQLClient(http, started["token"]), created["extension"]["id"]


def plain(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


async def test_stopping_mails_who_when_why_and_every_change(tree, sign_in, http, smtp_server):
    acting, extension = await start(tree, sign_in, http)
    clock.advance(timedelta(minutes=7))
    await acting.ok(SET_DND, {"id": extension})
    await acting.ok(FORWARD, {"id": extension})
    assert await smtp_server.deliver() == []  # nothing while it runs

    assert (await acting.ok(END))["ended"] is True
    [mail] = await smtp_server.deliver()
    text = plain(mail)
    assert mail["To"] == tree["acme.member"].email
    assert mail["Subject"] == "Ann Admin of Acme used your Frontdesk account"
    assert "Hello Bob Member," in text
    assert "Ann Admin of Acme used your Frontdesk account at Acme as you, from" in text
    assert "(7 min)" in text and "Reason given: Forward calls while away" in text
    changes = text.split("Changes made during that time:\n\n", 1)[1].split("\n\n", 1)[0]
    assert changes.splitlines() == [
        "- Ann Admin as Bob Member switched do not disturb on for extension 201",
        "- Ann Admin as Bob Member forwarded calls of extension 201: always to +44 7700 900123",
    ]
    html = mail.get_body(("html",)).get_content()
    assert "switched do not disturb on for extension 201" in html
    # Once: the session is gone, and nothing else sends it again.
    assert await close_expired() == 0
    assert await smtp_server.deliver() == []
    [ended] = await AuditEvent.filter(action="impersonation.ended")
    assert ended.details["endedBy"] == "stopped" and ended.details["changes"] == 2


async def test_an_expired_session_is_mailed_once(tree, sign_in, http, smtp_server):
    acting, extension = await start(tree, sign_in, http)
    await acting.ok(SET_DND, {"id": extension})
    clock.advance(timedelta(minutes=31))
    # The request after expiry is refused and sends nothing itself.
    assert (await acting.data(VIEWER))["viewer"] is None
    assert await Session.filter(impersonator_id__isnull=False).count() == 1
    assert await smtp_server.deliver() == []

    assert await close_expired() == 1
    assert await close_expired() == 0
    [mail] = await smtp_server.deliver()
    assert "(31 min)" in plain(mail)
    assert "switched do not disturb on for extension 201" in plain(mail)
    assert await OutboxMail.filter(kind="impersonation_ended").count() == 1
    [ended] = await AuditEvent.filter(action="impersonation.ended")
    assert ended.details["endedBy"] == "expired"


async def test_signing_out_ends_it_with_the_mail(tree, sign_in, http, smtp_server):
    acting, _ = await start(tree, sign_in, http)
    assert (await acting.data(LOGOUT))["logout"]["ok"] is True
    assert await Session.filter(impersonator_id__isnull=False).count() == 0
    [mail] = await smtp_server.deliver()
    assert "No changes were made during that time." in plain(mail)
    [ended] = await AuditEvent.filter(action="impersonation.ended")
    assert ended.details["endedBy"] == "signedOut"
    assert await AuditEvent.filter(action="auth.logout").count() == 0


async def test_removing_the_member_ends_it_and_the_sweep_mails_once(
    tree, sign_in, http, smtp_server
):
    acting, extension = await start(tree, sign_in, http)
    await acting.ok(SET_DND, {"id": extension})
    other_admin = await sign_in(tree["acme.admin"].email)
    await other_admin.ok(
        "mutation($id: ID!) { disableMember(input: {membershipId: $id}) { errors { code } } }",
        {"id": tree["acme.member"].membership_id},
    )
    assert (await acting.data(VIEWER))["viewer"] is None  # ended at once
    assert await close_expired() == 1
    assert await close_expired() == 0
    assert len(await smtp_server.deliver()) == 1


async def test_the_member_revoking_it_ends_it_and_the_sweep_mails_once(
    tree, sign_in, http, smtp_server
):
    acting, _ = await start(tree, sign_in, http)
    member = await sign_in(tree["acme.member"].email)
    [impersonation] = await Session.filter(impersonator_id__isnull=False)
    revoke = """mutation($id: ID!) { revokeSession(input: {sessionId: $id}) {
      ok errors { code } } }"""
    await member.ok(revoke, {"id": gid("Session", impersonation.id)})
    assert (await acting.data(VIEWER))["viewer"] is None
    assert await member.refused(revoke, {"id": gid("Session", impersonation.id)}) == ["NOT_FOUND"]
    assert await close_expired() == 1
    [mail] = await smtp_server.deliver()
    assert mail["To"] == tree["acme.member"].email
