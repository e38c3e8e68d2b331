"""Bad input: every refusal names the field and a stable code, and changes nothing.

Mutations answer expected failures in their payload's `errors`; queries answer
a GraphQL error whose `extensions.code` says what was wrong. Neither may be an
unexpected fault ("Unexpected error."), on SQLite or on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.audit.models import AuditEvent
from server.auth.models import PasswordReset, Session
from server.core import clock
from server.invitations.models import Invitation
from server.mail.models import OutboxMail
from server.tenancy.models import Organisation
from tests.helpers.fixtures import PASSWORD, GraphQLClient, gid
from tests.helpers.smtp import SMTPServer, links_in

NEW_PASSWORD = "a new and perfectly fine passphrase"

INVITE_USER = """
mutation InviteUser($org: ID!, $email: String!, $firstName: String, $lastName: String) {
  inviteUser(input: {organisationId: $org, email: $email, role: MEMBER,
                     firstName: $firstName, lastName: $lastName}) {
    errors { field code message } invitation { email }
  }
}"""
CREATE_ORGANISATION = """
mutation CreateOrganisation($parent: ID!, $name: String!) {
  createOrganisation(input: {parentId: $parent, name: $name}) {
    errors { field code message } organisation { name }
  }
}"""
UPDATE_ORGANISATION = """
mutation UpdateOrganisation($org: ID!, $name: String!) {
  updateOrganisation(input: {organisationId: $org, name: $name}) {
    errors { field code message } organisation { name }
  }
}"""
UPDATE_PROFILE = """
mutation UpdateProfile($input: UpdateProfileInput!) {
  updateProfile(input: $input) { errors { field code message } user { firstName officePhone } }
}"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    token errors { field code message } viewer { user { email } }
  }
}"""
CONFIRM_INVITATION = """
mutation ConfirmInvitation($token: String!, $password: String = "a perfectly fine passphrase") {
  confirmInvitation(input: {token: $token, password: $password}) {
    token errors { field code message } membership { status }
  }
}"""
REQUEST_PASSWORD_RESET = """
mutation RequestPasswordReset($email: String!) {
  requestPasswordReset(input: {email: $email}) { ok errors { code } }
}"""
RESET_PASSWORD = """
mutation ResetPassword($token: String!, $password: String!) {
  resetPassword(input: {token: $token, newPassword: $password}) {
    ok errors { field code message }
  }
}"""
CHANGE_PASSWORD = """
mutation ChangePassword($current: String!, $password: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $password}) {
    errors { field code message } viewer { user { email } }
  }
}"""
MEMBERS = """
query Members($org: ID!, $search: String, $first: Int, $after: String) {
  members(organisationId: $org, search: $search, first: $first, after: $after) {
    totalCount nodes { user { email } }
  }
}"""
ORGANISATIONS = """
query Organisations($search: String, $first: Int, $after: String) {
  organisations(search: $search, first: $first, after: $after) { totalCount nodes { name } }
}"""
NESTED_MEMBERS = """
query NestedMembers($org: ID!, $search: String) {
  organisation(id: $org) { members(search: $search) { totalCount } }
}"""
AUDIT_EVENTS = """
query AuditEvents($org: ID!, $action: String) {
  auditEvents(organisationId: $org, action: $action) { totalCount }
}"""
ORGANISATION = """
query Organisation($id: ID!) { organisation(id: $id) { name } }"""
NODE = """
query Node($id: ID!) { node(id: $id) { id } }"""
CHANGE_ROLE = """
mutation ChangeRole($id: ID!) {
  changeRole(input: {membershipId: $id, role: VIEWER}) { errors { field code message } }
}"""

TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_-]+)")


# --- helpers ----------------------------------------------------------------------------


async def counts() -> dict[str, int]:
    """Rows of every table a refused call might wrongly have written to."""
    models = (User, Membership, Invitation, OutboxMail, AuditEvent, Session, Organisation)
    return {model.__name__: await model.all().count() for model in models}


def problems(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(field, code) of each user error in a payload; messages must be given too."""
    assert all(error["message"] for error in payload["errors"]), payload["errors"]
    return [(error["field"], error["code"]) for error in payload["errors"]]


async def payload_of(client: GraphQLClient, document: str, variables: dict[str, Any]) -> Any:
    data = await client.data(document, variables)
    [payload] = data.values()
    return payload


async def query_error(client: GraphQLClient, document: str, variables: dict[str, Any]) -> Any:
    """The extensions of the single GraphQL error a query must answer with."""
    body = await client(document, variables)
    assert body.get("errors"), body
    [error] = body["errors"]
    assert error["message"] != "Unexpected error.", error
    return error.get("extensions")


def org_id(organisation: Organisation) -> str:
    return gid("Organisation", organisation.id)


async def mailed_token(smtp_server: SMTPServer, recipient: str) -> str:
    """The token of the latest link mailed to `recipient` (the outbox holds no
    link: it is put in when the worker sends the mail)."""
    await smtp_server.deliver()
    mails = [m for m in smtp_server.messages if m["To"] == recipient]
    assert mails, f"no mail to {recipient}"
    [token] = TOKEN_IN_LINK.findall(links_in(mails[-1])[0])
    return token


async def post_raw(http: httpx.AsyncClient, document: str, variables_json: str) -> dict[str, Any]:
    """POST a body whose variables are given as JSON text (for escapes such as
    lone surrogates, which httpx cannot encode from a Python string)."""
    body = f'{{"query": {json.dumps(document)}, "variables": {variables_json}}}'
    response = await http.post(
        "/graphql", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def admin(tree, sign_in) -> GraphQLClient:
    return await sign_in(tree["acme.admin"].email)


@pytest.fixture
async def invited(tree, admin, smtp_server) -> str:
    """A new person invited to acme; the invitation token from the mail."""
    await admin.ok(INVITE_USER, {"org": org_id(tree.acme), "email": "newcomer@example.com"})
    return await mailed_token(smtp_server, "newcomer@example.com")


# --- inviteUser -------------------------------------------------------------------------

INVALID_INVITATIONS = {
    "email not an address": ({"email": "not-an-email"}, "email", "INVALID_EMAIL"),
    "email without domain dot": ({"email": "a@b"}, "email", "INVALID_EMAIL"),
    "email too long": ({"email": "x" * 300 + "@example.com"}, "email", "INVALID_EMAIL"),
    "email empty": ({"email": "  "}, "email", "REQUIRED"),
    "email with NUL": ({"email": "bob\x00@example.com"}, "email", "INVALID_EMAIL"),
    "email with CRLF": (
        {"email": "bob@example.com\r\nBcc: victim@example.com"},
        "email",
        "INVALID_EMAIL",
    ),
    "email two addresses": (
        {"email": "bob@example.com, eve@example.com"},
        "email",
        "INVALID_EMAIL",
    ),
    "firstName too long": ({"firstName": "B" * 101}, "firstName", "TOO_LONG"),
    "lastName too long": ({"lastName": "B" * 101}, "lastName", "TOO_LONG"),
    "firstName with BEL": ({"firstName": "Bob\x07"}, "firstName", "INVALID"),
    "firstName with CRLF": ({"firstName": "Bob\r\nBcc: x"}, "firstName", "INVALID"),
    "firstName with NUL": ({"firstName": "Bob\x00"}, "firstName", "INVALID"),
    "lastName with NUL": ({"lastName": "Smith\x00"}, "lastName", "INVALID"),
}


@pytest.mark.parametrize("case", INVALID_INVITATIONS)
async def test_invitation_with_bad_input_is_refused(tree, admin, case):
    changes, field, code = INVALID_INVITATIONS[case]
    variables = {"org": org_id(tree.acme), "email": "bob@example.com", **changes}
    before = await counts()
    payload = await payload_of(admin, INVITE_USER, variables)
    assert problems(payload) == [(field, code)]
    assert payload["invitation"] is None
    assert await counts() == before


async def test_invitation_at_the_limits_is_accepted(tree, admin):
    """The positive control: 100-character names and a 254-character address pass."""
    address = "x" * 64 + "@" + ".".join(["d" * 61] * 3) + ".com"
    assert len(address) == 254
    variables = {
        "org": org_id(tree.acme),
        "email": address,
        "firstName": "B" * 100,
        "lastName": "  Smith  ",
    }
    payload = await admin.ok(INVITE_USER, variables)
    assert payload["invitation"] == {"email": address}
    user = await User.get(email=address)
    assert (user.first_name, user.last_name) == ("B" * 100, "Smith")


# --- searches and filters ---------------------------------------------------------------


SEARCHES = {
    "members": MEMBERS,
    "organisations": ORGANISATIONS,
    "organisation.members": NESTED_MEMBERS,
}


@pytest.mark.parametrize("search", ["a\x00b", "\x00", "ad\x07min"], ids=["nul", "only-nul", "bel"])
@pytest.mark.parametrize("query", SEARCHES)
async def test_control_characters_in_a_search_are_invalid(tree, admin, query, search):
    variables = {"org": org_id(tree.acme), "search": search}
    extensions = await query_error(admin, SEARCHES[query], variables)
    assert extensions == {"code": "INVALID", "field": "search"}


async def test_plain_search_still_works(tree, admin):
    data = await admin.data(MEMBERS, {"org": org_id(tree.acme), "search": "adm"})
    assert data["members"]["nodes"] == [{"user": {"email": "admin@acme.example.com"}}]


async def test_nul_in_the_audit_action_filter_is_invalid(tree, admin):
    extensions = await query_error(
        admin, AUDIT_EVENTS, {"org": org_id(tree.acme), "action": "a\x00"}
    )
    assert extensions == {"code": "INVALID", "field": "action"}


# --- organisations ----------------------------------------------------------------------

BAD_ORGANISATION_NAMES = {
    "empty": ("", "REQUIRED"),
    "blank": ("   ", "REQUIRED"),
    "too long": ("N" * 101, "TOO_LONG"),
    "CRLF": ("Initech\r\nBcc: x", "INVALID"),
    "NUL": ("Init\x00ech", "INVALID"),
}


@pytest.mark.parametrize("case", BAD_ORGANISATION_NAMES)
async def test_create_organisation_with_a_bad_name_is_refused(tree, sign_in, case):
    name, code = BAD_ORGANISATION_NAMES[case]
    reseller = await sign_in(tree["reseller.admin"].email)
    before = await counts()
    payload = await payload_of(
        reseller, CREATE_ORGANISATION, {"parent": org_id(tree.reseller), "name": name}
    )
    assert problems(payload) == [("name", code)]
    assert await counts() == before


@pytest.mark.parametrize("case", BAD_ORGANISATION_NAMES)
async def test_rename_to_a_bad_name_is_refused(tree, admin, case):
    name, code = BAD_ORGANISATION_NAMES[case]
    before = await counts()
    payload = await payload_of(admin, UPDATE_ORGANISATION, {"org": org_id(tree.acme), "name": name})
    assert problems(payload) == [("name", code)]
    assert (await Organisation.get(id=tree.acme.id)).name == "Acme"
    assert await counts() == before


# --- profile ----------------------------------------------------------------------------

BAD_PROFILES = {
    "office phone words": ({"officePhone": "call me maybe"}, "officePhone", "INVALID_PHONE"),
    "mobile phone too short": ({"mobilePhone": "12"}, "mobilePhone", "INVALID_PHONE"),
    "fax with letters": ({"fax": "+44 20 FAX"}, "fax", "INVALID_PHONE"),
    "phone with NUL": ({"officePhone": "+44 20 7946\x00 0000"}, "officePhone", "INVALID_PHONE"),
    "phone with newline": ({"officePhone": "+44 20\n7946 0000"}, "officePhone", "INVALID_PHONE"),
    "first name NUL": ({"firstName": "Al\x00ice"}, "firstName", "INVALID"),
    "title too long": ({"title": "T" * 101}, "title", "TOO_LONG"),
}


@pytest.mark.parametrize("case", BAD_PROFILES)
async def test_profile_with_bad_input_is_refused(tree, admin, case):
    changes, field, code = BAD_PROFILES[case]
    user_id = tree["acme.admin"].user.id
    before_user = await User.filter(id=user_id).values()
    before = await counts()
    # A valid change alongside: it must not be applied either.
    payload = await payload_of(admin, UPDATE_PROFILE, {"input": {"lastName": "Changed", **changes}})
    assert problems(payload) == [(field, code)]
    assert payload["user"] is None
    assert await User.filter(id=user_id).values() == before_user
    assert await counts() == before


async def test_valid_phone_is_accepted(admin):
    payload = await admin.ok(UPDATE_PROFILE, {"input": {"officePhone": "+44 20 7946 0000"}})
    assert payload["user"]["officePhone"] == "+44 20 7946 0000"


# --- log-in -----------------------------------------------------------------------------


async def test_wrong_password_and_unknown_email_get_the_same_answer(tree, anonymous):
    await User.filter(id=tree["globex.member"].user.id).update(status=UserStatus.DISABLED)
    attempts = {
        "wrong password": (tree["acme.admin"].email, "not the password at all"),
        "unknown email": ("nobody@example.com", PASSWORD),
        "malformed email": ("not-an-email", PASSWORD),
        "disabled user": (tree["globex.member"].email, PASSWORD),
    }
    answers = {
        name: await payload_of(anonymous, LOGIN, {"email": email, "password": password})
        for name, (email, password) in attempts.items()
    }
    expected = answers["wrong password"]
    assert problems(expected) == [(None, "INVALID_CREDENTIALS")]
    assert expected["token"] is None and expected["viewer"] is None
    for name, answer in answers.items():
        assert answer == expected, name
    assert await Session.all().count() == 0


async def test_unencodable_password_is_just_wrong(tree, http):
    email = tree["acme.admin"].email
    variables = f'{{"email": "{email}", "password": "\\ud800 not the password"}}'
    body = await post_raw(http, LOGIN, variables)
    assert "errors" not in body, body["errors"]
    assert problems(body["data"]["login"]) == [(None, "INVALID_CREDENTIALS")]


# --- invitation tokens ------------------------------------------------------------------


async def test_confirm_with_a_random_token_is_invalid(tree, anonymous, invited):
    before = await counts()
    for token in ("fdi_" + secrets.token_urlsafe(32), "", "x" * 5000, invited + "x"):
        payload = await payload_of(anonymous, CONFIRM_INVITATION, {"token": token})
        assert problems(payload) == [("token", "INVITE_INVALID")], token
        assert payload["token"] is None
    assert await counts() == before


async def test_confirm_with_an_expired_token_is_refused(tree, anonymous, invited):
    clock.advance(timedelta(days=8))
    before = await counts()
    payload = await payload_of(anonymous, CONFIRM_INVITATION, {"token": invited})
    assert problems(payload) == [("token", "INVITE_EXPIRED")]
    assert payload["token"] is None
    assert await counts() == before
    membership = await Membership.get(user__email="newcomer@example.com")
    assert membership.status is MembershipStatus.INVITED
    assert (await User.get(email="newcomer@example.com")).status is UserStatus.INVITED


async def test_confirm_with_a_used_token_is_invalid(tree, anonymous, invited):
    first = await anonymous.ok(CONFIRM_INVITATION, {"token": invited})
    assert first["membership"] == {"status": "ACTIVE"}
    before = await counts()
    again = await payload_of(anonymous, CONFIRM_INVITATION, {"token": invited})
    assert problems(again) == [("token", "INVITE_INVALID")]
    assert again["token"] is None
    assert await counts() == before


async def test_reset_with_a_random_token_is_invalid(tree, anonymous):
    before = await counts()
    for token in ("fdr_" + secrets.token_urlsafe(32), ""):
        payload = await payload_of(
            anonymous, RESET_PASSWORD, {"token": token, "password": NEW_PASSWORD}
        )
        assert problems(payload) == [("token", "TOKEN_INVALID")]
        assert payload["ok"] is False
    assert await counts() == before


# --- weak passwords ---------------------------------------------------------------------

WEAK_PASSWORDS = {
    "short": "PASSWORD_TOO_SHORT",
    "1234567": "PASSWORD_TOO_SHORT",
    "password123": "PASSWORD_TOO_COMMON",
    "Password123": "PASSWORD_TOO_COMMON",
    "p" * 129: "PASSWORD_TOO_LONG",
}


@pytest.mark.parametrize("password", WEAK_PASSWORDS, ids=lambda p: p[:12])
async def test_weak_password_when_confirming_an_invitation(tree, anonymous, invited, password):
    before = await counts()
    payload = await payload_of(
        anonymous, CONFIRM_INVITATION, {"token": invited, "password": password}
    )
    assert problems(payload) == [("password", WEAK_PASSWORDS[password])]
    assert await counts() == before
    # Nothing was used up: the invitation still works with a good password.
    accepted = await anonymous.ok(CONFIRM_INVITATION, {"token": invited, "password": NEW_PASSWORD})
    assert accepted["membership"] == {"status": "ACTIVE"}


@pytest.mark.parametrize("password", WEAK_PASSWORDS, ids=lambda p: p[:12])
async def test_weak_password_when_resetting(tree, anonymous, smtp_server, password):
    email = tree["acme.member"].email
    await anonymous.ok(REQUEST_PASSWORD_RESET, {"email": email})
    token = await mailed_token(smtp_server, email)
    before_user = await User.filter(email=email).values("password_hash")
    before = await counts()
    payload = await payload_of(anonymous, RESET_PASSWORD, {"token": token, "password": password})
    assert problems(payload) == [("newPassword", WEAK_PASSWORDS[password])]
    assert await User.filter(email=email).values("password_hash") == before_user
    assert await PasswordReset.filter(used_at=None).count() == 1
    assert await counts() == before


@pytest.mark.parametrize("password", WEAK_PASSWORDS, ids=lambda p: p[:12])
async def test_weak_password_when_changing(tree, admin, password):
    before = await counts()
    payload = await payload_of(admin, CHANGE_PASSWORD, {"current": PASSWORD, "password": password})
    assert problems(payload) == [("newPassword", WEAK_PASSWORDS[password])]
    assert await counts() == before
    await admin.data("{ viewer { user { email } } }")  # the session survived


# --- paging -----------------------------------------------------------------------------

BAD_PAGES = {
    "garbage cursor": ({"after": "garbage"}, "after"),
    "base64 of nonsense": ({"after": "bm9uc2Vuc2U="}, "after"),
    "cursor of another kind": ({"after": "eDoxMg=="}, "after"),  # "x:12"
    "first too large": ({"first": 1000}, "first"),
    "first above the maximum": ({"first": 101}, "first"),
    "first negative": ({"first": -1}, "first"),
}


@pytest.mark.parametrize("case", BAD_PAGES)
@pytest.mark.parametrize("query", [MEMBERS, ORGANISATIONS], ids=["members", "organisations"])
async def test_bad_paging_arguments_are_invalid(tree, admin, query, case):
    arguments, field = BAD_PAGES[case]
    extensions = await query_error(admin, query, {"org": org_id(tree.acme), **arguments})
    assert extensions == {"code": "INVALID", "field": field}


async def test_good_cursor_pages_on(tree, admin):
    first = await admin.data(
        "query($org: ID!) { members(organisationId: $org, first: 2) "
        "{ pageInfo { hasNextPage endCursor } nodes { user { email } } } }",
        {"org": org_id(tree.acme)},
    )
    page = first["members"]["pageInfo"]
    assert page["hasNextPage"] is True
    rest = await admin.data(
        MEMBERS, {"org": org_id(tree.acme), "after": page["endCursor"], "first": 100}
    )
    assert len(rest["members"]["nodes"]) == 1


async def test_cursor_with_a_huge_number_is_invalid(tree, admin):
    cursor = base64.urlsafe_b64encode(f"c:{10**30}".encode()).decode()
    extensions = await query_error(admin, MEMBERS, {"org": org_id(tree.acme), "after": cursor})
    assert extensions == {"code": "INVALID", "field": "after"}


async def test_global_id_with_a_huge_key_is_not_found(tree, admin):
    huge = gid("Organisation", 10**30)
    assert await admin(ORGANISATION, {"id": huge}) == {"data": {"organisation": None}}
    assert await admin(NODE, {"id": huge}) == {"data": {"node": None}}
    payload = await payload_of(admin, CHANGE_ROLE, {"id": gid("Membership", 10**30)})
    assert problems(payload) == [("membershipId", "NOT_FOUND")]
