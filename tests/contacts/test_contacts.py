"""Contact persons over HTTP: who may list and change them, search, bad input,
inviting one (details filled in), and that a contact can never sign in."""

from __future__ import annotations

import pytest

from server.accounts.models import Membership, User
from server.audit.models import AuditEvent
from server.contacts.models import Contact, ContactKind
from server.core.permissions import Role
from server.invitations.models import Invitation
from server.mail.models import OutboxMail
from server.tenancy.models import Organisation
from tests.helpers.fixtures import LOGIN, GraphQLClient, add_person, gid
from tests.invitations.test_invitations import token_from

CREATE = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) {
    contact { id kind firstName lastName displayName title email officePhone mobilePhone notes
              organisation { name } user { email } }
    errors { field code message }
  }
}"""
UPDATE = """
mutation($input: UpdateContactInput!) {
  updateContact(input: $input) {
    contact { kind firstName lastName email notes } errors { field code message }
  }
}"""
DELETE = """
mutation($id: ID!) { deleteContact(input: {contactId: $id}) { deletedContactId errors { code } } }"""
CONTACTS = """
query($org: ID!, $search: String, $kind: ContactKind) {
  contacts(organisationId: $org, search: $search, kind: $kind) {
    totalCount nodes { id lastName kind email }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Contact { lastName } } }"
INVITE = """
mutation($id: ID!, $role: Role! = MEMBER) {
  inviteContact(input: {contactId: $id, role: $role}) {
    invitation { email role membership { user { email firstName lastName title officePhone mobilePhone status } } }
    errors { field code message }
  }
}"""
CONFIRM = """
mutation($token: String!, $password: String) {
  confirmInvitation(input: {token: $token, password: $password}) { token errors { code } }
}"""
CONTACT_USER = "query($id: ID!) { node(id: $id) { ... on Contact { user { email } } } }"

BEA = {
    "kind": "BILLING",
    "firstName": "Beatrice",
    "lastName": "Penny",
    "title": "Accounts",
    "email": " Accounts@Acme.Example.com ",
    "officePhone": "+44 20 7946 0101",
    "mobilePhone": "+44 7700 900001",
    "notes": "Invoices by email.\nNever by post.",
}


async def create(client: GraphQLClient, org: Organisation, **values: str) -> dict:
    payload = await client.ok(
        CREATE, {"input": {"organisationId": gid("Organisation", org.id), **values}}
    )
    return payload["contact"]


async def test_admin_creates_lists_updates_and_deletes(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    bea = await create(admin, tree.acme, **BEA)
    assert bea["email"] == "accounts@acme.example.com"
    assert bea["displayName"] == "Beatrice Penny" and bea["kind"] == "BILLING"
    assert bea["notes"] == "Invoices by email.\nNever by post." and bea["user"] is None
    tom = await create(admin, tree.acme, lastName="Wires", kind="TECHNICAL")
    assert tom["kind"] == "TECHNICAL" and tom["email"] == ""
    await create(await sign_in(tree["globex.admin"].email), tree.globex, lastName="Elsewhere")

    org = gid("Organisation", tree.acme.id)
    listed = (await admin.data(CONTACTS, {"org": org}))["contacts"]
    assert listed["totalCount"] == 2
    assert {n["lastName"] for n in listed["nodes"]} == {"Penny", "Wires"}
    by_kind = await admin.data(CONTACTS, {"org": org, "kind": "TECHNICAL"})
    assert [n["lastName"] for n in by_kind["contacts"]["nodes"]] == ["Wires"]
    searched = await admin.data(CONTACTS, {"org": org, "search": "ACCOUNTS@"})
    assert [n["lastName"] for n in searched["contacts"]["nodes"]] == ["Penny"]

    changed = await admin.ok(
        UPDATE, {"input": {"contactId": bea["id"], "kind": "GENERAL", "notes": "", "email": None}}
    )
    assert changed["contact"] == {
        "kind": "GENERAL",
        "firstName": "Beatrice",
        "lastName": "Penny",
        "email": "",
        "notes": "",
    }
    event = await AuditEvent.get(action="contact.updated")
    assert event.details["before"] == {
        "kind": "BILLING",
        "notes": "Invoices by email.\nNever by post.",
        "email": "accounts@acme.example.com",
    }
    assert event.details["after"] == {"kind": "GENERAL", "notes": "", "email": ""}
    assert event.organisation_id == tree.acme.id

    deleted = await admin.ok(DELETE, {"id": tom["id"]})
    assert deleted["deletedContactId"] == tom["id"]
    assert await Contact.filter(organisation_id=tree.acme.id).count() == 1
    assert await AuditEvent.filter(action__startswith="contact.").count() == 5


async def test_who_may_see_and_change_contacts(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    bea = await create(admin, tree.acme, **BEA)
    org = gid("Organisation", tree.acme.id)
    viewer = await sign_in((await add_person(tree.acme, "v@acme.example.com", Role.VIEWER)).email)
    assert (await viewer.data(CONTACTS, {"org": org}))["contacts"]["totalCount"] == 1
    assert (await viewer.data(NODE, {"id": bea["id"]}))["node"] == {"lastName": "Penny"}
    new = {"input": {"organisationId": org, "lastName": "X"}}
    assert await viewer.error_code(CREATE, new) == "FORBIDDEN"
    assert await viewer.error_code(DELETE, {"id": bea["id"]}) == "FORBIDDEN"
    assert await viewer.error_code(INVITE, {"id": bea["id"]}) == "FORBIDDEN"

    member = await sign_in(tree["acme.member"].email)
    assert await member.error_code(CONTACTS, {"org": org}) == "FORBIDDEN"
    assert (await member.data(NODE, {"id": bea["id"]}))["node"] is None

    sibling = await sign_in(tree["globex.admin"].email)
    assert await sibling.error_code(CONTACTS, {"org": org}) == "NOT_FOUND"
    assert (await sibling.data(NODE, {"id": bea["id"]}))["node"] is None
    assert await sibling.refused(DELETE, {"id": bea["id"]}) == ["NOT_FOUND"]
    assert await sibling.refused(UPDATE, {"input": {"contactId": bea["id"], "notes": "x"}}) == [
        "NOT_FOUND"
    ]
    assert await sibling.refused(CREATE, new) == ["NOT_FOUND"]

    # The reseller administers its customers' contacts (delegated administration).
    reseller = await sign_in(tree["reseller.admin"].email)
    await reseller.ok(UPDATE, {"input": {"contactId": bea["id"], "title": "Head of accounts"}})
    assert (await Contact.get()).title == "Head of accounts"
    assert await Contact.all().count() == 1


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"lastName": ""}, "firstName", "REQUIRED"),
        ({"firstName": "  ", "email": "a@example.com"}, "firstName", "REQUIRED"),
        ({"lastName": "x" * 101}, "lastName", "TOO_LONG"),
        ({"lastName": "nul\x00"}, "lastName", "INVALID"),
        ({"lastName": "Ok", "title": "tab\tbed"}, "title", "INVALID"),
        ({"lastName": "Ok", "email": "not-an-email"}, "email", "INVALID_EMAIL"),
        ({"lastName": "Ok", "email": "a@b.example\r\nBcc: x@y.example"}, "email", "INVALID_EMAIL"),
        ({"lastName": "Ok", "officePhone": "call me"}, "officePhone", "INVALID_PHONE"),
        ({"lastName": "Ok", "mobilePhone": "+44\x00123"}, "mobilePhone", "INVALID_PHONE"),
        ({"lastName": "Ok", "notes": "x" * 2001}, "notes", "TOO_LONG"),
        ({"lastName": "Ok", "notes": "bell\x07"}, "notes", "INVALID"),
    ],
)
async def test_bad_contact_input_changes_nothing(tree, sign_in, values, field, code):
    admin = await sign_in(tree["acme.admin"].email)
    body = await admin(
        CREATE, {"input": {"organisationId": gid("Organisation", tree.acme.id), **values}}
    )
    [error] = body["data"]["createContact"]["errors"]
    assert (error["field"], error["code"]) == (field, code)
    assert await Contact.all().count() == 0
    assert not await AuditEvent.filter(action__startswith="contact.").exists()


async def test_bad_updates_change_nothing(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    bea = await create(admin, tree.acme, **BEA)
    for update, code in [
        ({"firstName": "", "lastName": ""}, "REQUIRED"),
        ({"kind": None}, "REQUIRED"),
        ({"email": "nope"}, "INVALID_EMAIL"),
        ({"officePhone": "12"}, "INVALID_PHONE"),
        ({"notes": "\x00"}, "INVALID"),
    ]:
        assert await admin.refused(UPDATE, {"input": {"contactId": bea["id"], **update}}) == [code]
    for bad_id in ["x", gid("Contact", 999), gid("Ticket", 1)]:
        assert await admin.refused(UPDATE, {"input": {"contactId": bad_id, "notes": ""}}) == [
            "NOT_FOUND"
        ]
        assert await admin.refused(DELETE, {"id": bad_id}) == ["NOT_FOUND"]
    contact = await Contact.get()
    assert (contact.first_name, contact.email, contact.kind) == (
        "Beatrice",
        "accounts@acme.example.com",
        ContactKind.BILLING,
    )
    assert await AuditEvent.filter(action__startswith="contact.").count() == 1


async def test_contacts_never_sign_in_until_invited_and_accepted(
    tree, sign_in, anonymous, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    bea = await create(admin, tree.acme, **BEA)
    for password in ("", "correct horse battery staple", "Invoices by email."):
        body = await anonymous(LOGIN, {"email": "accounts@acme.example.com", "password": password})
        assert body["data"]["login"]["token"] is None
        assert body["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert not await User.exists(email="accounts@acme.example.com")

    payload = await admin.ok(INVITE, {"id": bea["id"]})
    invitation = payload["invitation"]
    assert invitation["email"] == "accounts@acme.example.com" and invitation["role"] == "MEMBER"
    assert invitation["membership"]["user"] == {
        "email": "accounts@acme.example.com",
        "firstName": "Beatrice",
        "lastName": "Penny",
        "title": "Accounts",
        "officePhone": "+44 20 7946 0101",
        "mobilePhone": "+44 7700 900001",
        "status": "INVITED",
    }
    assert (await admin.data(CONTACT_USER, {"id": bea["id"]}))["node"]["user"] == {
        "email": "accounts@acme.example.com"
    }
    event = await AuditEvent.get(action="contact.invited")
    assert event.details["role"] == "MEMBER"
    # Invited but not accepted: still no way in.
    body = await anonymous(LOGIN, {"email": "accounts@acme.example.com", "password": "x" * 12})
    assert body["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"

    [message] = await smtp_server.deliver()
    assert message["To"] == "accounts@acme.example.com"
    token = token_from(smtp_server.links_in(message)[0])
    await anonymous.ok(CONFIRM, {"token": token, "password": "a brand new passphrase"})
    signed_in = await anonymous.ok(
        LOGIN, {"email": "accounts@acme.example.com", "password": "a brand new passphrase"}
    )
    assert signed_in["token"]


async def test_invite_contact_refusals_change_nothing(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    without_email = await create(admin, tree.acme, lastName="Signet")
    refused = await admin(INVITE, {"id": without_email["id"]})
    [error] = refused["data"]["inviteContact"]["errors"]
    assert (error["field"], error["code"]) == ("contactId", "REQUIRED")
    colleague = await create(admin, tree.acme, lastName="Member", email=tree["acme.member"].email)
    assert await admin.refused(INVITE, {"id": colleague["id"]}) == ["ALREADY_MEMBER"]
    bea = await create(admin, tree.acme, **BEA)
    assert await admin.refused(INVITE, {"id": bea["id"], "role": "OWNER"}) == ["OUT_OF_SCOPE_ROLE"]
    await admin.ok(INVITE, {"id": bea["id"]})
    assert await admin.refused(INVITE, {"id": bea["id"]}) == ["INVITE_PENDING"]
    sibling = await sign_in(tree["globex.admin"].email)
    assert await sibling.refused(INVITE, {"id": without_email["id"]}) == ["NOT_FOUND"]
    assert await Invitation.all().count() == 1
    assert await OutboxMail.all().count() == 1
    assert await Membership.filter(organisation_id=tree.acme.id).count() == 4
    assert await AuditEvent.filter(action="contact.invited").count() == 1
    linked = await Contact.filter(user_id__isnull=False).values_list("last_name", flat=True)
    assert linked == ["Penny"]
