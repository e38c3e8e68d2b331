"""The mails of adding a person, read as they arrive through the real worker and
SMTP server: the invitation for a new and an existing person, and a created
user's set-password link, followed to a first sign-in."""

from __future__ import annotations

from email.message import EmailMessage

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.mail.models import OutboxMail
from tests.helpers.fixtures import GraphQLClient, gid
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import CONFIRM, token_from

INVITE = """
mutation($org: ID!, $email: String!, $first: String) {
  inviteUser(input: {organisationId: $org, email: $email, role: ADMIN, firstName: $first,
                     lastName: "Neu"}) {
    invitation { id } errors { field code message } } }"""

CREATE = """
mutation($org: ID!, $email: String!, $password: String, $link: Boolean!) {
  createUser(input: {organisationId: $org, email: $email, role: MEMBER, firstName: "Cleo",
                     password: $password, sendSetPasswordLink: $link}) {
    membership { id user { email } } errors { field code message } } }"""

RESET = """
mutation($token: String!, $password: String!) {
  resetPassword(input: {token: $token, newPassword: $password}) { ok errors { code } } }"""


def text_of(message: EmailMessage) -> str:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None, "every mail has a text and an HTML part"
    return plain.get_content().replace("\r\n", "\n")


async def test_a_new_person_is_invited_by_name_to_choose_a_password(tree, sign_in, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    await admin.ok(INVITE, {"org": org, "email": "nina@example.com", "first": "Nina"})
    [message] = await smtp_server.deliver()
    text = text_of(message)
    assert message["Subject"] == "Admin Test invited you to Acme on Frontdesk"
    assert text.startswith("Hello Nina Neu,\n")
    assert "Admin Test has invited you to join Acme (a customer of Reseller) on Frontdesk." in text
    assert "Your role: Administrator." in text
    assert "choose your password" in text
    assert "because Admin Test invited nina@example.com to Acme" in text
    assert "current password" not in text
    assert links_in(message)[0].startswith("https://portal.example.test/admin/accept-invitation")


async def test_an_existing_user_is_told_to_sign_in_with_their_password(
    tree, sign_in, anonymous, smtp_server
):
    bob = tree["globex.member"]
    admin = await sign_in(tree["acme.owner"].email)
    await admin.ok(INVITE, {"org": gid("Organisation", tree.acme.id), "email": bob.email})
    [message] = await smtp_server.deliver()
    text = text_of(message)
    assert message["Subject"] == "Owner Test added you to Acme on Frontdesk"
    assert text.startswith("Hello Member Test,\n")  # their own name, not the address
    assert "sign in with your current password" in text
    assert "choose your password" not in text
    joined = await (await sign_in(bob.email)).ok(
        CONFIRM, {"token": token_from(links_in(message)[0])}
    )
    assert joined["membership"]["organisation"] == {"name": "Acme"}


async def test_a_created_user_chooses_their_password_with_the_mailed_link(
    tree, sign_in, anonymous, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    created = await admin.ok(
        CREATE, {"org": org, "email": "cleo@example.com", "password": None, "link": True}
    )
    assert created["membership"]["user"]["email"] == "cleo@example.com"
    cleo = await User.get(email="cleo@example.com")
    assert cleo.password_hash is None and cleo.must_change_password is False

    [message] = await smtp_server.deliver()
    text = text_of(message)
    assert message["Subject"] == "Your Frontdesk account at Acme"
    assert text.startswith("Hello Cleo,\n")
    assert "Admin Test created a Frontdesk account for you at Acme (a customer of Reseller)" in text
    assert "Choose your password" in text and "works once" in text
    assert "initial password" not in text
    [link] = links_in(message)
    assert link.startswith("https://portal.example.test/admin/reset-password#token=")
    # The stored mail does not hold the link: it is sealed until sent.
    assert token_from(link) not in (await OutboxMail.get(kind="welcome_set_password")).text_body

    chosen = "cleo's own long passphrase"
    assert (await anonymous.ok(RESET, {"token": token_from(link), "password": chosen}))["ok"]
    signed_in = await sign_in("cleo@example.com", chosen)
    viewer = await signed_in.data("{ viewer { mustChangePassword memberships { role } } }")
    assert viewer["viewer"] == {"mustChangePassword": False, "memberships": [{"role": "MEMBER"}]}
    # One use only.
    assert await anonymous.refused(
        RESET, {"token": token_from(link), "password": chosen + "!"}
    ) == ["TOKEN_INVALID"]
    event = await AuditEvent.get(action="user.created")
    assert event.details["setPasswordLink"] is True


async def test_a_created_user_with_a_password_is_told_the_admin_has_it(tree, sign_in, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    await admin.ok(
        CREATE,
        {
            "org": org,
            "email": "cleo@example.com",
            "password": "an initial passphrase 7",
            "link": False,
        },
    )
    [message] = await smtp_server.deliver()
    assert "Your administrator will give you your initial password" in text_of(message)
    assert links_in(message) == ["https://portal.example.test/admin/"]
    assert (await AuditEvent.get(action="user.created")).details["setPasswordLink"] is False


async def test_a_password_and_a_link_or_neither_is_refused_and_changes_nothing(
    tree, sign_in, smtp_server
):
    admin: GraphQLClient = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    users, mails = await User.all().count(), await OutboxMail.all().count()
    both = {"org": org, "email": "cleo@example.com", "password": "an initial passphrase 7"}
    payload = (await admin.data(CREATE, {**both, "link": True}))["createUser"]
    assert payload["errors"][0]["field"] == "sendSetPasswordLink"
    assert payload["errors"][0]["code"] == "INVALID"
    neither = (await admin.data(CREATE, {**both, "password": None, "link": False}))["createUser"]
    assert [(e["field"], e["code"]) for e in neither["errors"]] == [("password", "REQUIRED")]
    assert "sendSetPasswordLink" in neither["errors"][0]["message"]
    assert (await User.all().count(), await OutboxMail.all().count()) == (users, mails)
    assert not await AuditEvent.filter(action="user.created").exists()
