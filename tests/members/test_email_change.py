"""Changing a sign-in address goes through a mail to the new address (Sangoma's
admin edit and one's own profile): pending until its link is used, one use,
expiring; the old address is told; an address of another person is refused.
Mails pass through the real SMTP server (tests/helpers/smtp.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from server.accounts.models import EmailChange, User
from server.audit.models import AuditEvent
from server.core import clock
from server.core.permissions import Role
from server.mail.models import OutboxMail
from tests.helpers.fixtures import PASSWORD, add_person, gid
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import token_from

CHANGE_MEMBER = """mutation($id: ID!, $email: String!) {
  changeMemberEmail(input: {membershipId: $id, newEmail: $email}) {
    membership { user { email pendingEmail } } errors { field code message } } }"""
CHANGE_OWN = """mutation($email: String!) { changeEmail(input: {newEmail: $email}) {
  user { email pendingEmail } errors { field code message } } }"""
CONFIRM = """mutation($token: String!) { confirmEmailChange(input: {token: $token}) {
  email errors { field code message } } }"""
LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { code } } }"""
RESET_REQUEST = "mutation($email: String!) { requestPasswordReset(input: {email: $email}) { ok } }"
RESET = """mutation($token: String!) { resetPassword(input: {token: $token,
  newPassword: "a brand new passphrase 3"}) { errors { code } } }"""


async def _signs_in(anonymous, email: str) -> bool:
    data = await anonymous.data(LOGIN, {"email": email, "password": PASSWORD})
    return data["login"]["token"] is not None


async def test_an_admin_changes_an_email_confirmed_from_the_new_address(
    tree, sign_in, anonymous, smtp_server
):
    member = tree["acme.member"]
    admin = await sign_in(tree["acme.admin"].email)
    asked = await admin.ok(CHANGE_MEMBER, {"id": member.membership_id, "email": "Mo@New.Example"})
    # Pending: the person still signs in with the old address.
    assert asked["membership"]["user"] == {"email": member.email, "pendingEmail": "mo@new.example"}
    assert await _signs_in(anonymous, member.email)
    [mail] = await smtp_server.deliver()
    assert mail["To"] == "mo@new.example"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Admin Test asked to make mo@new.example" in text
    [link] = links_in(mail)
    assert link.startswith("https://") and "/admin/confirm-email#token=fde_" in link
    # The link's secret is not in the stored mail.
    assert token_from(link) not in (await OutboxMail.get(recipient="mo@new.example")).text_body

    confirmed = await anonymous.ok(CONFIRM, {"token": token_from(link)})
    assert confirmed["email"] == "mo@new.example"
    assert (await User.get(id=member.user.id)).email == "mo@new.example"
    assert await _signs_in(anonymous, "mo@new.example")
    assert not await _signs_in(anonymous, member.email)
    # The old address is told.
    [notice] = await smtp_server.deliver()
    assert notice["To"] == member.email
    notice_text = notice.get_body(preferencelist=("plain",)).get_content()
    assert "changed from member@acme.example.com to mo@new.example" in notice_text
    assert "as Admin Test asked" in notice_text
    # Used once.
    assert await anonymous.refused(CONFIRM, {"token": token_from(link)}) == ["TOKEN_INVALID"]
    requested = await AuditEvent.get(action="user.email_change_requested")
    assert requested.organisation_id == tree.acme.id
    assert requested.details["newEmail"] == "mo@new.example"
    changed = await AuditEvent.get(action="user.email_changed")
    assert changed.organisation_id == tree.acme.id
    assert {key: changed.details[key] for key in ("before", "after")} == {
        "before": {"email": member.email},
        "after": {"email": "mo@new.example"},
    }


async def test_a_person_changes_their_own_email(tree, sign_in, anonymous, smtp_server):
    me = await sign_in(tree["acme.member"].email)
    asked = await me.ok(CHANGE_OWN, {"email": "me@home.example"})
    assert asked["user"]["pendingEmail"] == "me@home.example"
    viewer = await me.data("{ viewer { user { pendingEmail } } }")
    assert viewer["viewer"]["user"]["pendingEmail"] == "me@home.example"
    [mail] = await smtp_server.deliver()
    await anonymous.ok(CONFIRM, {"token": token_from(links_in(mail)[0])})
    viewer = await me.data("{ viewer { user { email pendingEmail } } }")
    assert viewer["viewer"]["user"] == {"email": "me@home.example", "pendingEmail": None}


async def test_expired_replaced_and_wrong_tokens_are_refused(tree, sign_in, anonymous, smtp_server):
    member = tree["acme.member"]
    admin = await sign_in(tree["acme.admin"].email)
    await admin.ok(CHANGE_MEMBER, {"id": member.membership_id, "email": "first@new.example"})
    await admin.ok(CHANGE_MEMBER, {"id": member.membership_id, "email": "second@new.example"})
    first, second = await smtp_server.deliver()
    # A newer request kills the older link.
    assert await anonymous.refused(CONFIRM, {"token": token_from(links_in(first)[0])}) == [
        "TOKEN_INVALID"
    ]
    assert await anonymous.refused(CONFIRM, {"token": "fde_not-a-token"}) == ["TOKEN_INVALID"]
    clock.advance(timedelta(hours=24, seconds=1))
    assert await anonymous.refused(CONFIRM, {"token": token_from(links_in(second)[0])}) == [
        "TOKEN_INVALID"
    ]
    assert (await User.get(id=member.user.id)).email == member.email
    assert not await AuditEvent.exists(action="user.email_changed")


async def test_an_address_of_another_person_is_refused(tree, sign_in, anonymous, smtp_server):
    member = tree["acme.member"]
    admin = await sign_in(tree["acme.admin"].email)
    errors = (
        await admin.data(
            CHANGE_MEMBER, {"id": member.membership_id, "email": tree["globex.owner"].email}
        )
    )["changeMemberEmail"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("newEmail", "EMAIL_TAKEN")]
    assert not await EmailChange.exists()
    assert await smtp_server.deliver() == []

    # Taken between the request and the confirmation: still refused, nothing changes.
    await admin.ok(CHANGE_MEMBER, {"id": member.membership_id, "email": "late@new.example"})
    [mail] = await smtp_server.deliver()
    await add_person(tree.globex, "late@new.example", Role.MEMBER)
    assert await anonymous.refused(CONFIRM, {"token": token_from(links_in(mail)[0])}) == [
        "EMAIL_TAKEN"
    ]
    assert (await User.get(id=member.user.id)).email == member.email


async def test_bad_addresses_are_refused(tree, sign_in):
    member = tree["acme.member"]
    admin = await sign_in(tree["acme.admin"].email)
    for address, code in [
        ("not an address", "INVALID_EMAIL"),
        ("a@b.example\r\nBcc: x@y.example", "INVALID_EMAIL"),
        ("x" * 250 + "@example.com", "INVALID_EMAIL"),
        ("", "REQUIRED"),
        (member.email.upper(), "INVALID"),  # already theirs
    ]:
        data = await admin.data(CHANGE_MEMBER, {"id": member.membership_id, "email": address})
        errors = data["changeMemberEmail"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("newEmail", code)], address
    assert not await EmailChange.exists()
    assert not await OutboxMail.exists()


async def test_rank_and_shared_profile_rules_refuse_and_change_nothing(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    owner = tree["acme.owner"]
    assert await admin.refused(
        CHANGE_MEMBER, {"id": owner.membership_id, "email": "mallory@evil.example"}
    ) == ["HIGHER_ROLE"]
    # Someone who is also at Globex: moving their address would hand Acme's admin
    # their Globex account; only who administers both may.
    shared = tree["acme.member"]
    await add_person(tree.globex, shared.email, Role.MEMBER)
    assert await admin.refused(
        CHANGE_MEMBER, {"id": shared.membership_id, "email": "mallory@evil.example"}
    ) == ["PROFILE_SHARED"]
    member = await sign_in(tree["acme.member"].email)
    code = await member.error_code(
        CHANGE_MEMBER, {"id": tree["acme.admin"].membership_id, "email": "x@evil.example"}
    )
    assert code == "FORBIDDEN"
    assert not await EmailChange.exists()
    assert not await OutboxMail.exists()


async def test_step_up_is_needed(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    clock.advance(timedelta(minutes=6))
    member = tree["acme.member"]
    code = await admin.error_code(
        CHANGE_MEMBER, {"id": member.membership_id, "email": "x@new.example"}
    )
    assert code == "REAUTH_REQUIRED"
    assert await admin.error_code(CHANGE_OWN, {"email": "x@new.example"}) == code


async def test_old_reset_links_die_with_the_change(tree, sign_in, anonymous, smtp_server):
    member = tree["acme.member"]
    await anonymous.data(RESET_REQUEST, {"email": member.email})
    [reset_mail] = await smtp_server.deliver()
    me = await sign_in(member.email)
    await me.ok(CHANGE_OWN, {"email": "moved@new.example"})
    [mail] = await smtp_server.deliver()
    await anonymous.ok(CONFIRM, {"token": token_from(links_in(mail)[0])})
    assert await anonymous.refused(RESET, {"token": token_from(links_in(reset_mail)[0])}) == [
        "TOKEN_INVALID"
    ]


async def test_of_parallel_confirmations_one_wins(tree, sign_in, anonymous, smtp_server):
    me = await sign_in(tree["acme.member"].email)
    await me.ok(CHANGE_OWN, {"email": "race@new.example"})
    [mail] = await smtp_server.deliver()
    token = token_from(links_in(mail)[0])
    answers = await asyncio.gather(*(anonymous.data(CONFIRM, {"token": token}) for _ in range(5)))
    outcomes = sorted(tuple(e["code"] for e in a["confirmEmailChange"]["errors"]) for a in answers)
    assert outcomes == [(), *[("TOKEN_INVALID",)] * 4]
    assert await AuditEvent.filter(action="user.email_changed").count() == 1


async def test_an_invitees_address_is_not_changed_but_invited_again(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    invited = await admin.data(
        """mutation($org: ID!) { inviteUser(input: {organisationId: $org,
        email: "typo@acme.example.con", role: MEMBER}) { invitation { membership { id } } } }""",
        {"org": gid("Organisation", tree.acme.id)},
    )
    membership_id = invited["inviteUser"]["invitation"]["membership"]["id"]
    assert await admin.refused(
        CHANGE_MEMBER, {"id": membership_id, "email": "right@acme.example.com"}
    ) == ["INVALID_STATE"]
    assert not await EmailChange.exists()
