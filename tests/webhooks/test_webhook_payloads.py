"""Every webhook event, raised by the mutations that raise it and delivered by
the real worker: every id in its payload is a global id that `node(id:)`
resolves for the endpoint's administrator (or did, just before the event
deleted what it names). `RAISED_BY` is also what README's event table is
checked against (tests/test_readme_integrators.py)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from server.accounts.models import Membership
from server.core import clock
from server.schema import NODE_TYPES
from server.webhooks.events import EVENTS
from tests.helpers.fixtures import GraphQLClient, gid
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import CONFIRM, token_from
from tests.webhooks.test_webhooks import Receiver, register, worker

# Event → the mutations that raise it (README "Webhook events" lists the same).
RAISED_BY: dict[str, tuple[str, ...]] = {
    "member.invited": ("inviteUser", "inviteContact"),
    "member.joined": ("confirmInvitation", "createUser"),
    "member.role_changed": ("changeRole",),
    "member.disabled": ("disableMember",),
    "member.enabled": ("enableMember",),
    "member.removed": ("removeMember", "deleteUser"),
    "organisation.created": ("createOrganisation",),
    "organisation.updated": ("updateOrganisation",),
    "organisation.suspended": ("suspendOrganisation",),
    "organisation.reactivated": ("reactivateOrganisation",),
    "ticket.created": ("createTicket",),
    "ticket.status_changed": ("changeTicketStatus",),
}

EVENT_OF = {mutation: event for event, mutations in RAISED_BY.items() for mutation in mutations}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
TOKEN = """mutation($org: ID!, $expires: DateTime!) {
  createApiToken(input: {organisationId: $org, name: "CRM", expiresAt: $expires,
    permissions: [ORGANISATION_VIEW, CUSTOMERS_MANAGE]}) { secret errors { code } } }"""
IMPERSONATE = """mutation($id: ID!) {
  impersonateUser(input: {membershipId: $id, reason: "a call"}) { token errors { code } } }"""
MUTATIONS: dict[str, str] = {
    "createOrganisation": """mutation($parent: ID!) { createOrganisation(input: {parentId: $parent,
      name: "Initech"}) { organisation { id } errors { code } } }""",
    "updateOrganisation": """mutation($id: ID!) { updateOrganisation(input: {organisationId: $id,
      name: "Initech Ltd"}) { errors { code } } }""",
    "suspendOrganisation": """mutation($id: ID!) { suspendOrganisation(input: {organisationId: $id})
      { errors { code } } }""",
    "reactivateOrganisation": """mutation($id: ID!) { reactivateOrganisation(input:
      {organisationId: $id}) { errors { code } } }""",
    "inviteUser": """mutation($org: ID!) { inviteUser(input: {organisationId: $org,
      email: "nina@example.com", role: MEMBER}) { errors { code } } }""",
    "createContact": """mutation($org: ID!) { createContact(input: {organisationId: $org,
      firstName: "Carl", email: "carl@example.com"}) { contact { id } errors { code } } }""",
    "inviteContact": """mutation($id: ID!) { inviteContact(input: {contactId: $id}) {
      errors { code } } }""",
    "createUser": """mutation($org: ID!) { createUser(input: {organisationId: $org,
      email: "cora@example.com", role: MEMBER, sendSetPasswordLink: true}) {
      membership { id } errors { code } } }""",
    "changeRole": """mutation($id: ID!) { changeRole(input: {membershipId: $id, role: VIEWER}) {
      errors { code } } }""",
    "disableMember": """mutation($id: ID!) { disableMember(input: {membershipId: $id}) {
      errors { code } } }""",
    "enableMember": """mutation($id: ID!) { enableMember(input: {membershipId: $id}) {
      errors { code } } }""",
    "removeMember": """mutation($id: ID!) { removeMember(input: {membershipId: $id}) {
      errors { code } } }""",
    "deleteUser": """mutation($id: ID!) { deleteUser(input: {membershipId: $id}) {
      errors { code } } }""",
    "createTicket": """mutation($org: ID!) { createTicket(input: {organisationId: $org,
      type: INCIDENT, subject: "No dial tone"}) { ticket { id } errors { code } } }""",
    "changeTicketStatus": """mutation($id: ID!) { changeTicketStatus(input: {ticketId: $id,
      status: IN_PROGRESS}) { errors { code } } }""",
}


def is_id_key(key: str) -> bool:
    return key == "id" or key.endswith("Id") or key.endswith("_id")


def ids_in(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every id-like field of a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if is_id_key(key) and not isinstance(item, dict | list):
                yield where, item
            else:
                yield from ids_in(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from ids_in(item, f"{path}[{index}]")


def decoded(value: Any) -> tuple[str, str] | None:
    """(type, key) of a relay global id, or None for anything else (a raw id)."""
    if not isinstance(value, str):
        return None
    try:
        type_name, _, key = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (type_name, key) if type_name in NODE_TYPES and key.isdigit() else None


async def resolves(client: GraphQLClient, global_id: str) -> bool:
    found = (await client.data(NODE, {"id": global_id}))["node"]
    return found is not None and found["id"] == global_id


class Checker:
    """Delivers what is queued and checks each new payload's ids at once, while
    what they name is as the event left it."""

    def __init__(self, admin: GraphQLClient, receiver: Receiver) -> None:
        self.admin = admin
        self.receiver = receiver
        self.payloads: list[dict[str, Any]] = []
        self.keys: set[str] = set()

    async def deliver(self, mutation: str, deleted: frozenset[str] = frozenset()) -> None:
        """Deliver what `mutation` raised: its event, with every id checked."""
        await worker().run_once()
        new = self.receiver.events()[len(self.payloads) :]
        assert EVENT_OF[mutation] in [p["type"] for p in new], (mutation, new)
        for payload in new:
            self.payloads.append(payload)
            body = {key: value for key, value in payload.items() if key != "id"}
            assert len(payload["id"]) == 36  # the event's own id (a UUID, = Frontdesk-Event-Id)
            for path, value in ids_in(body):
                self.keys.add(path.rsplit(".", 1)[-1])
                if value is None:
                    continue
                where = f"{payload['type']}: {path} = {value!r}"
                assert decoded(value) is not None, where
                # What the event deleted or took out of reach resolved just before it (`resolve_all`).
                assert await resolves(self.admin, value) is (value not in deleted), where

    async def resolve_all(self, *global_ids: str) -> frozenset[str]:
        for global_id in global_ids:
            assert await resolves(self.admin, global_id), global_id
        return frozenset(global_ids)


async def raise_every_event(
    tree: Any, sign_in: Any, http: Any, smtp_server: Any, receiver: Receiver
) -> Checker:
    """Subscribe the reseller to every event and run each mutation of RAISED_BY
    (one through an API token, one inside an impersonation), checking each
    delivery's ids as it arrives."""
    admin = await sign_in(tree["reseller.admin"].email)
    await register(admin, tree.reseller.id, receiver.url, list(EVENTS))
    checker = Checker(admin, receiver)
    acme = gid("Organisation", tree.acme.id)
    ran: set[str] = set()

    async def run(name: str, client: GraphQLClient = admin, **variables: str) -> dict:
        ran.add(name)
        payload = await client.ok(MUTATIONS[name], variables)
        await checker.deliver(name)
        return payload

    # Organisations, the first through an API token (the payload names the token).
    expires = (clock.now() + timedelta(days=30)).isoformat()
    reseller = gid("Organisation", tree.reseller.id)
    token = await admin.ok(TOKEN, {"org": reseller, "expires": expires})
    integration = GraphQLClient(http, token["secret"])
    initech = (await run("createOrganisation", integration, parent=reseller))["organisation"]["id"]
    await run("updateOrganisation", id=initech)
    await run("suspendOrganisation", id=initech)
    await run("reactivateOrganisation", id=initech)

    # People joining: invited (and accepting), a contact invited, created with a link.
    await run("inviteUser", org=acme)
    [invitation_mail] = await smtp_server.deliver()
    ran.add("confirmInvitation")
    link = links_in(invitation_mail)[0]
    await GraphQLClient(http).ok(CONFIRM, {"token": token_from(link), "password": "a passphrase!"})
    await checker.deliver("confirmInvitation")
    contact = (await admin.ok(MUTATIONS["createContact"], {"org": acme}))["contact"]["id"]
    await run("inviteContact", id=contact)
    cora = (await run("createUser", org=acme))["membership"]["id"]

    member = tree["acme.member"].membership_id
    await run("changeRole", id=member)
    await run("disableMember", id=member)
    await run("enableMember", id=member)

    # A ticket raised by the member inside the reseller admin's impersonation.
    await Membership.filter(id=tree["reseller.admin"].membership.id).update(can_impersonate=True)
    acting = GraphQLClient(http, (await admin.ok(IMPERSONATE, {"id": member}))["token"])
    ticket = (await run("createTicket", acting, org=acme))["ticket"]["id"]
    await run("changeTicketStatus", id=ticket)

    # Removals: what they delete (or take out of reach) resolves just before, not after.
    nina_row = await Membership.get(user__email="nina@example.com")
    nina = gid("Membership", nina_row.id)
    ran.add("removeMember")
    # Her only membership: she leaves the admin's reach with it.
    gone = await checker.resolve_all(nina, gid("User", nina_row.user_id))
    await admin.ok(MUTATIONS["removeMember"], {"id": nina})
    await checker.deliver("removeMember", gone)
    cora_row = await Membership.get(user__email="cora@example.com")
    ran.add("deleteUser")
    gone = await checker.resolve_all(cora, gid("User", cora_row.user_id))
    await admin.ok(MUTATIONS["deleteUser"], {"id": cora})
    await checker.deliver("deleteUser", gone)

    assert ran == {m for mutations in RAISED_BY.values() for m in mutations}
    return checker


async def test_every_event_is_raised_by_its_mutations_with_global_ids(
    tree, sign_in, http, smtp_server, receiver
):
    assert set(RAISED_BY) == set(EVENTS), "a new event needs its mutations here and in README"
    checker = await raise_every_event(tree, sign_in, http, smtp_server, receiver)

    assert {p["type"] for p in checker.payloads} == set(EVENTS)
    # The payloads did carry what the test is about.
    assert {"id", "personId"} <= checker.keys
    by_type = {p["type"]: p for p in checker.payloads}
    assert by_type["organisation.created"]["actor"]["apiToken"]["id"] is not None
    assert by_type["organisation.created"]["data"]["parent"]["id"] == gid(
        "Organisation", tree.reseller.id
    )
    assert by_type["ticket.created"]["actor"]["impersonator"]["id"] == gid(
        "User", tree["reseller.admin"].user.id
    )


async def test_the_delivery_header_is_a_global_id(tree, sign_in, receiver):
    admin = await sign_in(tree["acme.admin"].email)
    await register(admin, tree.acme.id, receiver.url, ["member.role_changed"])
    await admin.ok(MUTATIONS["changeRole"], {"id": tree["acme.member"].membership_id})
    assert await worker().run_once() == 1
    [(headers, _)] = receiver.requests
    delivery = headers["Frontdesk-Delivery"]
    assert decoded(delivery) is not None and decoded(delivery)[0] == "WebhookDelivery"  # type: ignore[index]
    assert await resolves(admin, delivery)
