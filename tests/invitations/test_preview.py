"""The public invitation preview: what the link shows before accepting, nothing
more; one answer for every token that does not open a pending invitation;
guesses throttled per client address like sign-ins. Tokens come from the
mails the real worker delivered to a real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from graphql import ObjectTypeDefinitionNode, parse

from server.app import create_app
from server.auth.models import LoginThrottle
from server.auth.throttle import keys_for_token_lookup
from server.core import clock
from server.invitations.models import Invitation
from server.schema import printed_schema
from server.settings import get_settings
from tests.auth.factors import stop_real_time
from tests.helpers.fixtures import LOGIN, ORIGIN, GraphQLClient
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import CONFIRM, RESEND, REVOKE, invite, token_from
from tests.ops.probes import sample

PREVIEW = """
query Preview($token: String!) {
  invitationPreview(token: $token) {
    organisationName inviterName role maskedEmail hasAccount firstName lastName
  }
}"""

CLIENT_IP = "203.0.113.7"  # the `anonymous` client's
OTHER_IP = "198.51.100.20"


def invalid_answer() -> dict:
    """The one answer for an unknown, expired, revoked, used or throttled token."""
    return {
        "data": {"invitationPreview": None},
        "errors": [
            {
                "message": "This invitation link is not valid: it may have expired, been "
                "withdrawn or been used already. Ask the person who invited you for a new one.",
                "locations": [{"line": 3, "column": 3}],
                "path": ["invitationPreview"],
                "extensions": {"code": "INVITE_INVALID", "field": "token"},
            }
        ],
    }


async def mailed_token(smtp_server) -> str:  # type: ignore[no-untyped-def]
    [message] = await smtp_server.deliver()
    return token_from(links_in(message)[0])


@pytest.fixture
async def elsewhere(database: str) -> AsyncIterator[GraphQLClient]:
    """An anonymous client calling from another address."""
    app = create_app(get_settings(), manage_database=False)
    transport = httpx.ASGITransport(app=app, client=(OTHER_IP, 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url=ORIGIN, headers={"origin": ORIGIN}
    ) as client:
        yield GraphQLClient(client)


def test_the_preview_type_holds_nothing_else():
    [preview] = [
        node
        for node in parse(printed_schema()).definitions
        if isinstance(node, ObjectTypeDefinitionNode) and node.name.value == "InvitationPreview"
    ]
    fields = {field.name.value for field in preview.fields}
    assert fields == {
        "organisationName",
        "inviterName",
        "role",
        "maskedEmail",
        "hasAccount",
        "firstName",
        "lastName",
    }


async def test_a_new_person_sees_who_invites_them_and_the_names_typed(
    tree, sign_in, anonymous, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    await invite(admin, tree.acme.id, "nina.new@example.com", "VIEWER")
    token = await mailed_token(smtp_server)

    preview = (await anonymous.data(PREVIEW, {"token": token}))["invitationPreview"]
    assert preview == {
        "organisationName": "Acme",
        "inviterName": "Admin Test",
        "role": "VIEWER",
        "maskedEmail": "n•••@example.com",
        "hasAccount": False,
        "firstName": "Nina",  # as the inviter typed it (INVITE gives no last name)
        "lastName": None,
    }
    # Looking consumes nothing: the same link still accepts, once.
    assert (await Invitation.get(email="nina.new@example.com")).accepted_at is None
    await anonymous.ok(CONFIRM, {"token": token, "password": "a new long passphrase"})
    assert await anonymous(PREVIEW, {"token": token}) == invalid_answer()


async def test_an_existing_account_is_named_as_such_and_its_names_stay_out(
    tree, sign_in, anonymous, smtp_server
):
    bob = tree["globex.member"]
    admin = await sign_in(tree["acme.owner"].email)
    await invite(admin, tree.acme.id, bob.email, "ADMIN")
    token = await mailed_token(smtp_server)

    preview = (await anonymous.data(PREVIEW, {"token": token}))["invitationPreview"]
    assert preview == {
        "organisationName": "Acme",
        "inviterName": "Owner Test",
        "role": "ADMIN",
        "maskedEmail": "m•••@globex.example.com",
        "hasAccount": True,
        "firstName": None,
        "lastName": None,
    }
    # Signed in (as anyone) the preview says the same.
    signed_in = await sign_in(tree["acme.member"].email)
    assert (await signed_in.data(PREVIEW, {"token": token}))["invitationPreview"] == preview


async def test_an_inviter_without_a_name_is_not_shown_by_address(
    tree, sign_in, anonymous, smtp_server
):
    admin = tree["acme.admin"]
    admin.user.first_name = admin.user.last_name = ""
    await admin.user.save(update_fields=["first_name", "last_name"])
    client = await sign_in(admin.email)
    await invite(client, tree.acme.id, "nameless@example.com")
    token = await mailed_token(smtp_server)
    preview = (await anonymous.data(PREVIEW, {"token": token}))["invitationPreview"]
    assert preview["inviterName"] is None
    assert admin.email not in str(preview)


async def test_unknown_expired_revoked_used_and_replaced_tokens_get_one_answer(
    tree, sign_in, anonymous, elsewhere, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)

    revoked = await invite(admin, tree.acme.id, "revoked@example.com")
    revoked_token = await mailed_token(smtp_server)
    await admin.ok(REVOKE, {"id": revoked["id"]})

    await invite(admin, tree.acme.id, "used@example.com")
    used_token = await mailed_token(smtp_server)
    await anonymous.ok(CONFIRM, {"token": used_token, "password": "a new long passphrase"})

    resent = await invite(admin, tree.acme.id, "resent@example.com")
    old_token = await mailed_token(smtp_server)
    await admin.ok(RESEND, {"id": resent["id"]})
    new_token = await mailed_token(smtp_server)

    await invite(admin, tree.acme.id, "expired@example.com")
    expired_token = await mailed_token(smtp_server)
    invitation = await Invitation.get(email="expired@example.com")
    invitation.expires_at = clock.now() - timedelta(seconds=1)
    await invitation.save(update_fields=["expires_at"])

    # Within the address's free failures: each token is really looked up.
    tokens = [revoked_token, used_token, old_token, expired_token, "fdi_" + "x" * 43]
    assert len(tokens) <= get_settings().throttle_account_attempts
    for token in tokens:
        assert await elsewhere(PREVIEW, {"token": token}) == invalid_answer(), token
    for token in ["", "not-even-a-token", "\u0000"]:
        assert await anonymous(PREVIEW, {"token": token}) == invalid_answer(), token
    # The replacement link works.
    assert (await anonymous.data(PREVIEW, {"token": new_token}))["invitationPreview"]


async def test_guesses_are_throttled_per_address_and_the_lock_answers_the_same(
    tree, sign_in, anonymous, elsewhere, smtp_server, monkeypatch
):
    stop_real_time(monkeypatch)
    admin = await sign_in(tree["acme.admin"].email)
    await invite(admin, tree.acme.id, "nina.new@example.com")
    token = await mailed_token(smtp_server)
    assert (await anonymous.data(PREVIEW, {"token": token}))["invitationPreview"]

    # Guesses packed into one document count one by one.
    lockouts = sample("frontdesk_lockouts_total", key="token")
    free = get_settings().throttle_account_attempts
    guesses = " ".join(
        f'g{i}: invitationPreview(token: "fdi_guess{i}") {{ role }}' for i in range(free + 3)
    )
    body = await anonymous("{ " + guesses + " }")
    assert body["data"] == {f"g{i}": None for i in range(free + 3)}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"INVITE_INVALID"}
    assert len(body["errors"]) == free + 3

    assert sample("frontdesk_lockouts_total", key="token") == lockouts + 1  # the 5th set it
    # Locked now: the real link gets the same answer as a guess, and is not even looked up.
    assert await anonymous(PREVIEW, {"token": token}) == invalid_answer()
    # Another address is not locked by this one's guesses.
    assert (await elsewhere.data(PREVIEW, {"token": token}))["invitationPreview"]
    # The lock escalates with each failure and ends by itself.
    row = await LoginThrottle.get(key=keys_for_token_lookup("invitation", CLIENT_IP).account)
    assert row.attempts == free and row.locked_until is not None  # the 3 locked ones not checked
    clock.advance(timedelta(seconds=2))
    assert (await anonymous.data(PREVIEW, {"token": token}))["invitationPreview"]
    # The table names no address and no token in clear.
    keys = [r.key for r in await LoginThrottle.all()]
    assert not any(token in key or "fdi_guess" in key for key in keys)


async def test_guesses_spend_the_address_budget_sign_ins_draw_on(tree, anonymous, monkeypatch):
    stop_real_time(monkeypatch)
    capacity = get_settings().throttle_address_attempts
    await anonymous(PREVIEW, {"token": "fdi_guess"})
    bucket = await LoginThrottle.get(key=f"ip:{CLIENT_IP}")
    assert bucket.tokens == capacity - 1
    await anonymous(LOGIN, {"email": tree["acme.member"].email, "password": "wrong guess"})
    bucket = await LoginThrottle.get(key=f"ip:{CLIENT_IP}")
    assert bucket.tokens == capacity - 2
