"""Passwords built on the product's name, the organisation's name or the
person's own email are refused (zxcvbn's user inputs) wherever a password is
set: accepting an invitation, resetting, changing, `createUser`. The refusal
names the field, says why, and changes nothing; a good password still works."""

from __future__ import annotations

import re

import pytest

from server.accounts.models import User
from server.auth.models import PasswordReset
from server.core.permissions import Role
from tests.core.test_bad_input import (
    CHANGE_PASSWORD,
    CONFIRM_INVITATION,
    INVITE_USER,
    REQUEST_PASSWORD_RESET,
    RESET_PASSWORD,
    counts,
    org_id,
    payload_of,
    problems,
)
from tests.helpers.fixtures import PASSWORD, GraphQLClient, add_person
from tests.helpers.smtp import links_in

GOOD = "a new and perfectly fine passphrase"
TOKEN = re.compile(r"#token=([A-Za-z0-9_-]+)")
CREATE_USER = """
mutation($org: ID!, $email: String!, $password: String!) {
  createUser(input: {organisationId: $org, email: $email, role: MEMBER, password: $password}) {
    errors { field code message } membership { status }
  }
}"""


def personal(email: str, organisation: str) -> dict[str, str]:
    """Passwords equal to or built on the person's and the product's words."""
    local, _, domain = email.partition("@")
    return {
        "product": "frontdesk",
        "product decorated": "Frontdesk2024!",
        "product in l33t": "fr0ntd3sk!!",
        "product reversed": "ksedtnorf99",
        "organisation": f"{organisation.lower()}-{organisation.lower()}-2024",
        "organisation decorated": f"{organisation}Password1",
        "email": email,
        "email local part": f"{local}.{domain.split('.')[0]}.2024",
    }


async def mailed_token(smtp_server, recipient: str) -> str:  # type: ignore[no-untyped-def]
    [message] = await smtp_server.deliver()
    assert message["To"] == recipient
    [token] = TOKEN.findall(links_in(message)[0])
    return token


def assert_refused(payload: dict, field: str, name: str = "") -> None:
    assert problems(payload) == [(field, "PASSWORD_TOO_PERSONAL")], name
    message = payload["errors"][0]["message"]
    assert "organisation" in message and "email" in message and "Frontdesk" in message


async def test_personal_passwords_are_refused_when_accepting_an_invitation(
    tree, sign_in, anonymous, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    email = "newcomer@example.com"
    await admin.ok(INVITE_USER, {"org": org_id(tree.acme), "email": email})
    token = await mailed_token(smtp_server, email)
    before = await counts()
    for name, password in personal(email, "Acme").items():
        payload = await payload_of(
            anonymous, CONFIRM_INVITATION, {"token": token, "password": password}
        )
        assert_refused(payload, "password", name)
        assert payload["token"] is None
    assert await counts() == before
    accepted = await anonymous.ok(CONFIRM_INVITATION, {"token": token, "password": GOOD})
    assert accepted["membership"] == {"status": "ACTIVE"}


async def test_personal_passwords_are_refused_when_resetting(tree, anonymous, smtp_server):
    person = tree["acme.member"]
    await add_person(tree.reseller, person.email, Role.MEMBER)  # a second organisation
    await anonymous.ok(REQUEST_PASSWORD_RESET, {"email": person.email})
    token = await mailed_token(smtp_server, person.email)
    hash_before = (await User.get(id=person.user.id)).password_hash
    before = await counts()
    for name, password in {**personal(person.email, "Acme"), "reseller": "Reseller2024"}.items():
        payload = await payload_of(
            anonymous, RESET_PASSWORD, {"token": token, "password": password}
        )
        assert_refused(payload, "newPassword", name)
    assert await counts() == before
    assert (await User.get(id=person.user.id)).password_hash == hash_before
    assert await PasswordReset.filter(used_at=None).count() == 1
    assert (await anonymous.ok(RESET_PASSWORD, {"token": token, "password": GOOD}))["ok"]


@pytest.mark.parametrize("kind", ["product", "organisation decorated", "email", "email local part"])
async def test_personal_passwords_are_refused_when_changing(tree, sign_in, kind):
    person = tree["acme.member"]
    client = await sign_in(person.email)
    password = personal(person.email, "Acme")[kind]
    before = await counts()
    payload = await payload_of(client, CHANGE_PASSWORD, {"current": PASSWORD, "password": password})
    assert_refused(payload, "newPassword")
    assert await counts() == before
    # Still signed in with the old password, which still works.
    assert (await client.data("{ viewer { user { email } } }"))["viewer"]
    await sign_in(person.email)
    assert (await client.ok(CHANGE_PASSWORD, {"current": PASSWORD, "password": GOOD}))["viewer"]


async def test_personal_initial_passwords_are_refused_for_create_user(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    email = "created.person@example.com"
    before = await counts()
    for name, password in personal(email, "Acme").items():
        payload = await payload_of(
            admin, CREATE_USER, {"org": org_id(tree.acme), "email": email, "password": password}
        )
        assert_refused(payload, "password", name)
    assert await counts() == before
    created = await admin.ok(
        CREATE_USER, {"org": org_id(tree.acme), "email": email, "password": GOOD}
    )
    assert created["membership"] == {"status": "ACTIVE"}
    await GraphQLClient(admin.http).ok(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
        "{ token errors { code } } }",
        {"e": email, "p": GOOD},
    )


async def test_a_long_passphrase_merely_mentioning_the_product_is_fine(tree, sign_in):
    client = await sign_in(tree["acme.member"].email)
    password = "frontdesk is where my favourite horse keeps its battery"
    await client.ok(CHANGE_PASSWORD, {"current": PASSWORD, "password": password})
