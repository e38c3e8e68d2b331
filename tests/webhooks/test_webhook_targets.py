"""Where webhooks may go (SSRF): every spelling of an address is normalised
and checked when an endpoint is created or changed, and each delivery
resolves the host once, checks it, and connects to exactly that address.

Test seams, both real configuration rather than stand-ins for our code:
- `webhook_allow_private` (`FRONTDESK_WEBHOOK_ALLOW_PRIVATE`, on in
  development) lets the real receivers on 127.0.0.1 below be targets. It only
  widens which addresses pass the check: resolution, pinning and TLS take the
  same path as in production.
- the worker's `resolver` stands in for DNS: it answers for names like
  `hooks.pinned.test` that no real DNS knows, so a delivery that arrives
  proves the HTTP client used our answer and resolved nothing itself.
  Creating endpoints always uses the system resolver.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.audit.models import AuditEvent
from server.settings import get_settings
from server.webhooks import service
from server.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from server.webhooks.targets import IPAddress
from server.webhooks.worker import WebhookWorker
from tests.helpers.fixtures import GraphQLClient, gid
from tests.webhooks.test_webhooks import CREATE, INVITE, Receiver

UPDATE = """mutation($id: ID!, $url: String!) {
  updateWebhook(input: {endpointId: $id, url: $url}) {
    endpoint { url } errors { field code message } } }"""

PRIVATE_SPELLINGS = [
    "https://2130706433/",  # 127.0.0.1 as one decimal number
    "https://0x7f000001/",  # … as one hex number
    "https://127.1/",  # … with the middle bytes left out
    "https://0177.0.0.1/",  # … in octal
    "https://0x7f.0.0.1:8443/hook",
    "https://127.0.0.1./",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "https://[::ffff:7f00:1]/",
    "https://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "https://[64:ff9b::a00:1]/",  # NAT64 around 10.0.0.1
    "https://0/",  # 0.0.0.0
    "https://10.1/",  # 10.0.0.1
    "https://0300.0250.0.1/",  # 192.168.0.1
    "https://3232235521/",  # 192.168.0.1
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://100.64.0.1/",  # carrier-grade NAT
    "https://224.0.0.1/",  # multicast
    "https://localhost/",
    "https://LocalHost./",
    "https://hooks.localhost/",
]
NOT_AN_ADDRESS = [
    "https://1.2.3.4.5/",
    "https://0x100000000/",
    "https://256.1.1.1/",
    "https://1.16777216/",
    "https://08/",
    "https://hooks.example.com:99999/",
    "https://hooks.example.com:port/",
    "https://[::1/",
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    """Endpoints are checked as with FRONTDESK_ENV=production."""
    monkeypatch.setattr(
        service,
        "get_settings",
        lambda: dataclasses.replace(get_settings(), webhook_allow_private=False),
    )


async def create(client: GraphQLClient, org_id: int, url: str) -> dict:
    data = await client.data(
        CREATE, {"org": gid("Organisation", org_id), "url": url, "events": ["member.invited"]}
    )
    return data["createWebhook"]


async def nothing_stored() -> None:
    assert await WebhookEndpoint.all().count() == 0
    assert await AuditEvent.filter(action__startswith="webhook.").count() == 0


# --- at creation ------------------------------------------------------------------------------


async def test_every_spelling_of_a_private_address_is_refused(tree, sign_in, production):
    admin = await sign_in(tree["acme.admin"].email)
    for url in PRIVATE_SPELLINGS:
        payload = await create(admin, tree.acme.id, url)
        assert payload["endpoint"] is None and payload["secret"] is None, url
        [error] = payload["errors"]
        assert (error["field"], error["code"]) == ("url", "INVALID"), url
        assert "Private and local addresses are not allowed" in error["message"]
    await nothing_stored()


async def test_a_name_that_resolves_to_a_private_address_is_refused(tree, sign_in, production):
    """This machine's own name resolves through /etc/hosts (to 127.0.x.x or a
    private container address); the check reads the system resolver."""
    name = socket.gethostname()
    addresses = {ipaddress.ip_address(i[4][0]) for i in socket.getaddrinfo(name, 443)}
    if any(a.is_global for a in addresses):
        pytest.skip(f"{name} resolves to a public address here")
    admin = await sign_in(tree["acme.admin"].email)
    payload = await create(admin, tree.acme.id, f"https://{name}/hooks")
    assert [e["code"] for e in payload["errors"]] == ["INVALID"]
    await nothing_stored()


async def test_hosts_that_are_no_valid_address_or_port_are_refused(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    for url in NOT_AN_ADDRESS:
        payload = await create(admin, tree.acme.id, url)
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("url", "INVALID")], url
    await nothing_stored()


async def test_public_hosts_are_stored_in_their_canonical_form(tree, sign_in, production):
    admin = await sign_in(tree["acme.admin"].email)
    for url, stored in [
        ("https://0x08080808/hook?a=1", "https://8.8.8.8/hook?a=1"),
        ("https://134744072:8443/x", "https://8.8.8.8:8443/x"),
        ("https://[2606:4700:4700:0::1111]/", "https://[2606:4700:4700::1111]/"),
        # Does not resolve here: accepted, and checked again before each delivery.
        (
            "https://Hooks.Frontdesk-Example.INVALID./in",
            "https://hooks.frontdesk-example.invalid/in",
        ),
    ]:
        payload = await create(admin, tree.acme.id, url)
        assert payload["errors"] == [], (url, payload)
        assert payload["endpoint"]["url"] == stored


async def test_changing_the_url_is_checked_the_same_way(tree, sign_in, production):
    admin = await sign_in(tree["acme.admin"].email)
    endpoint = (await create(admin, tree.acme.id, "https://8.8.8.8/in"))["endpoint"]
    for url in ["https://0x7f000001/", "https://localhost/", "https://1.2.3.4.5/"]:
        data = await admin.data(UPDATE, {"id": endpoint["id"], "url": url})
        assert [e["code"] for e in data["updateWebhook"]["errors"]] == ["INVALID"], url
    [stored] = await WebhookEndpoint.all()
    assert stored.url == "https://8.8.8.8/in"
    assert await AuditEvent.filter(action="webhook.updated").count() == 0


# --- at delivery --------------------------------------------------------------------------------


class Dns:
    """Answers for made-up names, as a DNS server would; counts the questions."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.questions: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.questions.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(a) for a in self.answers[host]]


def worker(dns: Dns, *, allow_private: bool) -> WebhookWorker:
    settings = dataclasses.replace(get_settings(), webhook_allow_private=allow_private)
    return WebhookWorker(settings, resolver=dns)


async def invite(client: GraphQLClient, org_id: int, email: str) -> None:
    await client.ok(INVITE, {"org": gid("Organisation", org_id), "email": email})


async def test_a_delivery_goes_to_the_address_that_was_checked(tree, sign_in, receiver):
    port = receiver.server.server_address[1]
    admin = await sign_in(tree["acme.admin"].email)
    await create(admin, tree.acme.id, f"http://hooks.pinned.test:{port}/hooks")
    await invite(admin, tree.acme.id, "a@example.com")
    await invite(admin, tree.acme.id, "b@example.com")
    with pytest.raises(socket.gaierror):  # no real DNS knows the name
        socket.getaddrinfo("hooks.pinned.test", port)

    dns = Dns({"hooks.pinned.test": ["127.0.0.1"]})
    assert await worker(dns, allow_private=True).run_once() == 2
    assert dns.questions == ["hooks.pinned.test"] * 2  # once per delivery
    assert [headers["Host"] for headers, _ in receiver.requests] == [
        f"hooks.pinned.test:{port}"
    ] * 2


async def test_a_name_rebound_to_a_private_address_is_not_posted_to(
    tree, sign_in, receiver, monkeypatch
):
    """Public (or not resolvable) when the endpoint was made, loopback when
    the worker asks: nothing is sent, and the delivery says why."""
    port = receiver.server.server_address[1]
    admin = await sign_in(tree["acme.admin"].email)
    monkeypatch.setattr(
        service,
        "get_settings",
        lambda: dataclasses.replace(get_settings(), webhook_allow_private=False),
    )
    await create(admin, tree.acme.id, f"https://hooks.rebind.test:{port}/hooks")
    await invite(admin, tree.acme.id, "a@example.com")

    for answer in (["127.0.0.1"], ["8.8.8.8", "127.0.0.1"], ["::ffff:127.0.0.1"]):
        dns = Dns({"hooks.rebind.test": answer})
        assert await worker(dns, allow_private=False).run_once() == 0
        [delivery] = await WebhookDelivery.all()
        assert delivery.status == DeliveryStatus.PENDING
        assert "not a public address" in delivery.last_error, delivery.last_error
        await WebhookDelivery.all().update(next_attempt_at=delivery.created_at)  # due again
    assert receiver.requests == []


# --- TLS: SNI and the certificate are for the name ----------------------------------------------


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    names: list[str],
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(
            issuer.subject
            if issuer
            else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        )
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


class TlsReceiver:
    """An HTTPS server on 127.0.0.1 whose certificate names only
    `hooks.tls.test`, issued by a CA made for this test; records the SNI."""

    def __init__(self, directory: Path) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _certificate("Frontdesk test CA", ca_key, None, ca_key, [])
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _certificate("hooks.tls.test", key, ca, ca_key, ["hooks.tls.test"])
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        chain = directory / "server.pem"
        chain.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            + leaf.public_bytes(serialization.Encoding.PEM)
        )
        self.server_names: list[str | None] = []
        self.hosts: list[str] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(chain)
        context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                owner.hosts.append(self.headers["Host"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[TlsReceiver]:
    server = TlsReceiver(tmp_path)
    yield server
    server.server.shutdown()
    server.server.server_close()


async def test_tls_is_checked_for_the_name_at_the_pinned_address(
    tree, sign_in, tls_receiver, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_receiver.ca_file))  # trust the test CA
    port = tls_receiver.port
    admin = await sign_in(tree["acme.admin"].email)
    await create(admin, tree.acme.id, f"https://hooks.tls.test:{port}/hooks")
    dns = Dns({"hooks.tls.test": ["127.0.0.1"], "other.tls.test": ["127.0.0.1"]})
    await invite(admin, tree.acme.id, "a@example.com")
    assert await worker(dns, allow_private=True).run_once() == 1
    assert tls_receiver.server_names == ["hooks.tls.test"]
    assert tls_receiver.hosts == [f"hooks.tls.test:{port}"]

    # Same address, a name the certificate does not cover: refused by TLS.
    await WebhookEndpoint.all().delete()
    await create(admin, tree.acme.id, f"https://other.tls.test:{port}/hooks")
    await invite(admin, tree.acme.id, "b@example.com")
    assert await worker(dns, allow_private=True).run_once() == 0
    delivery = await WebhookDelivery.get(status=DeliveryStatus.PENDING)
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error, delivery.last_error
    assert tls_receiver.hosts == [f"hooks.tls.test:{port}"]
