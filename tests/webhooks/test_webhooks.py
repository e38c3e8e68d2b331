"""Webhooks, delivered by the real worker to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from server.core import clock
from server.settings import get_settings
from server.webhooks import service
from server.webhooks.models import DeliveryStatus, WebhookDelivery
from server.webhooks.worker import WebhookWorker
from tests.helpers.fixtures import GraphQLClient, gid

CREATE = """
mutation($org: ID!, $url: String!, $events: [String!]!) {
  createWebhook(input: {organisationId: $org, url: $url, events: $events}) {
    secret endpoint { id url events active } errors { field code message }
  }
}"""
DELIVERIES = """query($id: ID!) { node(id: $id) { ... on WebhookEndpoint {
  deliveries { totalCount nodes { id event status attempts lastStatusCode } } } } }"""
REDELIVER = """mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) {
  delivery { status eventId } errors { code } } }"""
INVITE = """mutation($org: ID!, $email: String!) {
  inviteUser(input: {organisationId: $org, email: $email, role: MEMBER}) { errors { code } } }"""
CHANGE_ROLE = """mutation($id: ID!) { changeRole(input: {membershipId: $id, role: VIEWER}) {
  errors { code } } }"""


class Receiver:
    """A real HTTP server on 127.0.0.1 recording what it receives."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    self.send_response(503)
                else:
                    receiver.requests.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def worker() -> WebhookWorker:
    return WebhookWorker(dataclasses.replace(get_settings(), webhook_allow_private=True))


async def register(client: GraphQLClient, org_id: int, url: str, events: list[str]) -> dict:
    return await client.ok(
        CREATE, {"org": gid("Organisation", org_id), "url": url, "events": events}
    )


async def test_a_resellers_endpoint_hears_its_customers_signed(tree, sign_in, receiver):
    reseller = await sign_in(tree["reseller.admin"].email)
    created = await register(
        reseller, tree.reseller.id, receiver.url, ["member.invited", "member.role_changed"]
    )
    secret = created["secret"]
    assert secret.startswith("whsec_")

    acme_admin = await sign_in(tree["acme.admin"].email)
    await acme_admin.ok(
        INVITE, {"org": gid("Organisation", tree.acme.id), "email": "new@acme.example.com"}
    )
    await acme_admin.ok(CHANGE_ROLE, {"id": tree["acme.member"].membership_id})
    # Not subscribed: nothing queued for it.
    await acme_admin.ok(
        "mutation($id: ID!) { disableMember(input: {membershipId: $id}) { errors { code } } }",
        {"id": tree["acme.member"].membership_id},
    )
    assert await worker().run_once() == 2

    assert [e["type"] for e in receiver.events()] == ["member.invited", "member.role_changed"]
    invited = receiver.events()[0]
    assert invited["organisation"] == {"id": gid("Organisation", tree.acme.id), "name": "Acme"}
    assert invited["target"]["label"] == "new@acme.example.com"
    headers, body = receiver.requests[1]
    timestamp, _, mac = headers["Frontdesk-Signature"].partition(",v1=")
    expected = hmac.new(
        secret.encode(), f"{timestamp[2:]}.{body.decode()}".encode(), hashlib.sha256
    )
    assert hmac.compare_digest(mac, expected.hexdigest())
    assert headers["Frontdesk-Event"] == "member.role_changed"


async def test_retries_with_backoff_and_redelivery(tree, sign_in, receiver):
    admin = await sign_in(tree["acme.admin"].email)
    endpoint = (await register(admin, tree.acme.id, receiver.url, ["member.invited"]))["endpoint"]
    await admin.ok(INVITE, {"org": gid("Organisation", tree.acme.id), "email": "a@example.com"})
    receiver.fail_next = 1
    assert await worker().run_once() == 0
    [pending] = await WebhookDelivery.all()
    assert (pending.status, pending.attempts, pending.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        503,
    )
    assert await worker().run_once() == 0  # not due yet
    clock.advance(timedelta(minutes=2))
    assert await worker().run_once() == 1

    log = (await admin.data(DELIVERIES, {"id": endpoint["id"]}))["node"]["deliveries"]
    assert [(n["status"], n["attempts"], n["lastStatusCode"]) for n in log["nodes"]] == [
        ("DELIVERED", 2, 204)
    ]
    again = await admin.ok(REDELIVER, {"id": log["nodes"][0]["id"]})
    assert again["delivery"]["status"] == "PENDING"
    assert await worker().run_once() == 1
    assert receiver.events()[0]["id"] == receiver.events()[1]["id"]  # the same event


async def test_endpoints_are_validated_and_scoped(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    assert await admin.refused(
        CREATE, {"org": org, "url": "ftp://x.example.com", "events": ["member.invited"]}
    ) == ["INVALID"]
    assert await admin.refused(
        CREATE, {"org": org, "url": "https://u:p@x.example.com/", "events": ["member.invited"]}
    ) == ["INVALID"]
    assert await admin.refused(
        CREATE, {"org": org, "url": "https://x.example.com/", "events": ["nope"]}
    ) == ["INVALID"]
    created = await register(
        admin, tree.acme.id, "https://hooks.example.com/in", ["member.invited"]
    )
    other = await sign_in(tree["globex.admin"].email)
    assert (await other.data(DELIVERIES, {"id": created["endpoint"]["id"]}))["node"] is None
    member = await sign_in(tree["acme.member"].email)
    assert (
        await member.error_code(
            CREATE, {"org": org, "url": "https://x.example.com/", "events": ["member.invited"]}
        )
        == "FORBIDDEN"
    )


async def test_private_addresses_are_refused_in_production(tree, sign_in, monkeypatch):
    monkeypatch.setattr(
        service,
        "get_settings",
        lambda: dataclasses.replace(get_settings(), webhook_allow_private=False),
    )
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    for url in (
        "http://hooks.example.com/",
        "https://127.0.0.1/",
        "https://10.0.0.1/x",
        "https://localhost/",
    ):
        assert await admin.refused(
            CREATE, {"org": org, "url": url, "events": ["member.invited"]}
        ) == ["INVALID"], url
