"""Click2Call's Add User form: the admin gives the new person an extension in the
same step (`createUser` / `inviteUser` with `extensionId`), before any sign-in;
it moves from whoever had it, is audited as an assignment, and a refused
extension adds nobody."""

from __future__ import annotations

from server.accounts.models import Membership, User
from server.audit.models import AuditEvent
from server.telephony.models import Extension
from tests.api_tokens.test_api_tokens import create_token
from tests.helpers.fixtures import GraphQLClient, gid
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import token_from

CREATE_USER = """mutation($org: ID!, $email: String!, $extension: ID) {
  createUser(input: {organisationId: $org, email: $email, role: MEMBER,
                     sendSetPasswordLink: true, extensionId: $extension}) {
    membership { id status } errors { field code message } } }"""
INVITE = """mutation($org: ID!, $email: String!, $extension: ID) {
  inviteUser(input: {organisationId: $org, email: $email, role: MEMBER, extensionId: $extension}) {
    invitation { membership { id status } } errors { field code message } } }"""
CONFIRM = """mutation($token: String!) { confirmInvitation(input: {token: $token,
  password: "my chosen passphrase 9"}) { token errors { code } } }"""
EXTENSION = """query($id: ID!) { node(id: $id) { ... on Extension {
  number member { id status user { email } } } } }"""


async def extension(organisation_id: int, number: str, holder: int | None = None) -> Extension:
    return await Extension.create(
        organisation_id=organisation_id, number=number, label="", membership_id=holder
    )


async def test_a_created_user_has_the_extension_before_choosing_a_password(
    tree, sign_in, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    desk = await extension(tree.acme.id, "201", holder=tree["acme.member"].membership.id)
    created = await admin.ok(
        CREATE_USER,
        {
            "org": gid("Organisation", tree.acme.id),
            "email": "new.caller@acme.example.com",
            "extension": gid("Extension", desk.id),
        },
    )
    shown = (await admin.data(EXTENSION, {"id": gid("Extension", desk.id)}))["node"]
    assert shown["member"] == {
        "id": created["membership"]["id"],
        "status": "ACTIVE",
        "user": {"email": "new.caller@acme.example.com"},
    }
    # Moved: the person who had 201 is told by the audit trail, as with assignExtension.
    moved_from = await AuditEvent.get(action="extension.unassigned")
    assert moved_from.subject_user_id == tree["acme.member"].user.id
    given = await AuditEvent.get(action="extension.assigned")
    assert given.subject_user_id == (await User.get(email="new.caller@acme.example.com")).id
    [welcome] = await smtp_server.deliver()
    assert welcome["To"] == "new.caller@acme.example.com"


async def test_an_invited_person_has_the_extension_from_the_invitation_on(
    tree, sign_in, anonymous, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    desk = await extension(tree.acme.id, "202")
    invited = await admin.ok(
        INVITE,
        {
            "org": gid("Organisation", tree.acme.id),
            "email": "invited.caller@acme.example.com",
            "extension": gid("Extension", desk.id),
        },
    )
    membership_id = invited["invitation"]["membership"]["id"]
    shown = (await admin.data(EXTENSION, {"id": gid("Extension", desk.id)}))["node"]
    assert shown["member"]["id"] == membership_id
    assert shown["member"]["status"] == "INVITED"

    [mail] = await smtp_server.deliver()
    [link] = links_in(mail)
    assert (await anonymous.ok(CONFIRM, {"token": token_from(link)}))["token"]
    accepted = (await admin.data(EXTENSION, {"id": gid("Extension", desk.id)}))["node"]
    assert accepted["member"]["id"] == membership_id
    assert accepted["member"]["status"] == "ACTIVE"


async def test_another_organisations_extension_adds_nobody(tree, sign_in, smtp_server):
    admin = await sign_in(tree["acme.admin"].email)
    elsewhere = await extension(tree.globex.id, "301")
    org = gid("Organisation", tree.acme.id)
    for mutation in (CREATE_USER, INVITE):
        for given in (gid("Extension", elsewhere.id), gid("Membership", 1), "not an id"):
            body = await admin.data(
                mutation, {"org": org, "email": "nobody@acme.example.com", "extension": given}
            )
            [payload] = body.values()
            assert [(e["field"], e["code"]) for e in payload["errors"]] == [
                ("extensionId", "NOT_FOUND")
            ]
    assert not await User.exists(email="nobody@acme.example.com")
    assert (await Extension.get(id=elsewhere.id)).membership_id is None
    assert not await AuditEvent.filter(action__startswith="extension.").exists()
    assert await smtp_server.deliver() == []


async def test_a_token_that_may_add_people_but_not_manage_extensions_gives_none(
    tree, sign_in, http
):
    admin = await sign_in(tree["acme.admin"].email)
    desk = await extension(tree.acme.id, "203")
    created = await create_token(admin, tree.acme.id, ["MEMBERS_MANAGE", "EXTENSIONS_VIEW"])
    token = GraphQLClient(http, created["secret"])
    variables = {
        "org": gid("Organisation", tree.acme.id),
        "email": "via.token@acme.example.com",
        "extension": gid("Extension", desk.id),
    }
    assert await token.refused(CREATE_USER, variables) == ["OUT_OF_SCOPE_PERMISSION"]
    assert await token.refused(INVITE, variables) == ["OUT_OF_SCOPE_PERMISSION"]
    assert not await User.exists(email="via.token@acme.example.com")
    assert not await Membership.filter(
        organisation_id=tree.acme.id, user__email__startswith="via"
    ).exists()
    assert (await Extension.get(id=desk.id)).membership_id is None
    # Without the extension, the same token adds the person.
    assert (await token.ok(CREATE_USER, {**variables, "extension": None}))["membership"]
