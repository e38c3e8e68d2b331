"""A reseller integration, start to finish, with an API token.

    FRONTDESK_URL=https://portal.example.com FRONTDESK_TOKEN=fdt_... \
    RESELLER_ID=T3JnYW5pc2F0aW9uOjI= python examples/reseller_sync.py examples/users.csv

It creates a customer, invites its users from a CSV file, lists them, changes
a role, disables one, and receives the webhook events those changes raise on
a small HTTP endpoint of its own (whose URL the server must be able to reach;
set WEBHOOK_HOST/WEBHOOK_PORT, by default 127.0.0.1 and a free port).
Only httpx and the standard library are needed.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

URL = os.environ["FRONTDESK_URL"].rstrip("/") + "/graphql"
TOKEN = os.environ["FRONTDESK_TOKEN"]
RESELLER_ID = os.environ["RESELLER_ID"]


def graphql(query: str, **variables: object) -> dict:
    """One call; GraphQL errors (no permission, …) and payload errors both stop the script."""
    response = httpx.post(
        URL,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        sys.exit(f"GraphQL error: {body['errors']}")
    [payload] = body["data"].values()
    if isinstance(payload, dict) and payload.get("errors"):
        sys.exit(f"Refused: {payload['errors']}")
    return payload


class Events(BaseHTTPRequestHandler):
    """Receives webhook posts and checks their signature before trusting them."""

    secret = ""
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp, _, mac = self.headers["Frontdesk-Signature"].partition(",v1=")
        expected = hmac.new(self.secret.encode(), stamp[2:].encode() + b"." + body, hashlib.sha256)
        fresh = abs(time.time() - int(stamp[2:])) < 300
        if fresh and hmac.compare_digest(mac, expected.hexdigest()):
            Events.received.append(json.loads(body))
            self.send_response(204)
        else:
            self.send_response(401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main(csv_path: str) -> None:
    host = os.environ.get("WEBHOOK_HOST", "127.0.0.1")
    server = ThreadingHTTPServer((host, int(os.environ.get("WEBHOOK_PORT", "0"))), Events)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook_url = f"http://{host}:{server.server_address[1]}/frontdesk"

    # 1. Hear what happens below the reseller (its customers included).
    hook = graphql(
        """mutation($org: ID!, $url: String!) { createWebhook(input: {organisationId: $org,
           url: $url, events: ["organisation.created", "member.invited",
           "member.role_changed", "member.disabled"]}) { secret errors { code message } } }""",
        org=RESELLER_ID,
        url=hook_url,
    )
    Events.secret = hook["secret"]

    # 2. A new customer.
    customer = graphql(
        """mutation($parent: ID!) { createOrganisation(input: {parentId: $parent,
           name: "Initech"}) { organisation { id name } errors { code message } } }""",
        parent=RESELLER_ID,
    )["organisation"]
    print(f"created customer {customer['name']}")

    # 3. Its users, from the CSV file.
    with open(csv_path, newline="") as handle:
        for row in csv.DictReader(handle):
            graphql(
                """mutation($org: ID!, $email: String!, $role: Role!, $first: String, $last: String) {
                   inviteUser(input: {organisationId: $org, email: $email, role: $role,
                   firstName: $first, lastName: $last}) { invitation { id } errors { code message } } }""",
                org=customer["id"],
                email=row["email"],
                role=row["role"],
                first=row["first_name"],
                last=row["last_name"],
            )
            print(f"invited {row['email']} as {row['role']}")

    # 4. Everyone of every customer, 50 a page.
    after = None
    members = []
    while True:
        page = graphql(
            """query($org: ID!, $after: String) { members(organisationId: $org,
               includeDescendants: true, after: $after) { totalCount
               pageInfo { hasNextPage endCursor }
               nodes { id role status user { email } organisation { name } } } }""",
            org=RESELLER_ID,
            after=after,
        )
        members += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    ours = [m for m in members if m["organisation"]["name"] == "Initech"]
    print(f"{len(members)} users below the reseller, {len(ours)} at Initech")

    # 5. Change a role; disable someone (an invited member too: their invitation dies).
    by_email = {m["user"]["email"]: m for m in ours}
    graphql(
        """mutation($id: ID!) { changeRole(input: {membershipId: $id, role: VIEWER}) {
           membership { role } errors { code message } } }""",
        id=by_email["grace@initech.example.com"]["id"],
    )
    print("grace@initech.example.com is now a VIEWER")
    graphql(
        """mutation($id: ID!) { disableMember(input: {membershipId: $id}) {
           membership { status } errors { code message } } }""",
        id=by_email["alan@initech.example.com"]["id"],
    )
    print("alan@initech.example.com is disabled")

    # 6. The events, as they arrive.
    deadline = time.monotonic() + 30
    while len(Events.received) < 6 and time.monotonic() < deadline:
        time.sleep(0.2)
    for event in Events.received:
        print(f"event {event['type']}: {event['target']['label'] or event['organisation']['name']}")
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/users.csv")
