"""Tenant isolation, proven by property (issue 5, item 5).

Hypothesis draws random worlds (tests/helpers/tenancy.py): a tree of 3–10
organisations (a provider, resellers, customers; some suspended, some
requiring a second factor), 2–7 people with 1–3 memberships each of random
role, status, ticket access and canImpersonate grant, API tokens with random
permission sets (active, revoked or expired; their creators' rights may be
less than the token was given), invitations, contacts, tickets with comments,
extensions with calls, audit events, webhook endpoints with the deliveries
those events queued, and other people's sessions. The caller is person 0,
signed in by `login`, or their API token, or an impersonation of them by
someone else reaching a random subtree. A pure-Python model of the documented
rules (the Model class; never the server's Actor) says what that caller may
see and do; the real ASGI app, over HTTP, must agree:

1. Nothing out of reach appears in any answer below: every object with an id
   belongs to an organisation the caller sees (their own memberships, a
   support desk's tickets and the caller's own user being the documented
   exceptions), every person shown has a membership there, and every webhook
   payload shown names an organisation the caller sees.
2. `viewer`: memberships and awaitingTwoFactor exactly as the rules say;
   `viewer.user.memberships` the caller's own plus those under MEMBERS_VIEW.
3. `organisations` lists exactly the organisations with ORGANISATION_VIEW.
4. `organisation(id:)` for every organisation: null without an error out of
   reach, FORBIDDEN when seen without ORGANISATION_VIEW, otherwise `parent`
   only if seen, `children` exactly those seen, `viewerPermissions` exact.
5. `node(id:)` for every organisation, membership, user, invitation, audit
   event, API token, contact, ticket, ticket comment, extension, call record,
   webhook endpoint (with its deliveries), webhook delivery and session is
   non-null exactly when the rules say so; likewise `ticket(id:)`.
6. Connections: `members` (with and without includeDescendants),
   `invitations`, `auditEvents` and `tickets` (with descendants), `apiTokens`,
   `contacts`, `extensions`, `callRecords`, `webhookEndpoints` answer
   NOT_FOUND out of reach, FORBIDDEN without the permission, otherwise
   exactly the expected rows and totalCount; `ownExtensions`,
   `ownCallRecords`, and the nested `Organisation.members` (with each
   member's `user.memberships`) and `Organisation.invitations` likewise.
7. `GET /audit/export.csv` answers 401 / 404 / 403 / exactly the rows.
8. Every mutation taking an id (MUTATIONS; the two meta-tests below fail when
   the schema grows one that is not listed) aimed at an object out of reach
   answers NOT_FOUND; aimed at a seen object without the permission,
   FORBIDDEN; `@notForApiTokens` / `@notWhileImpersonating` ones refuse
   tokens / impersonations outright; a foreign member's id smuggled into a
   permitted createExtension / assignExtension is NOT_FOUND; and afterwards
   every row of every table is unchanged.
9. A caller that cannot act (refused log-in, revoked or expired token,
   disabled creator or impersonator) sees nothing and changes nothing.
10. Independent of the caller: each audited change queued one webhook
   delivery for each endpoint of its organisation and of its ancestors, and
   none for anyone else (a reseller hears its customers, never its parent or
   a sibling).

Requests that end in an error cost one request each (a failing non-null root
field nulls the whole answer), so per example a sample of them is made: of
the refused connections, of the permitted ones without includeDescendants,
of the mutations per kind and of the FORBIDDEN mutations (see the *_SAMPLE
constants); the sample is drawn by Hypothesis, so a failure replays.

Two bugs it found (an API token or an impersonation showing the person's
memberships beyond its subtree) are fixed; the tests at the end of this
module keep them fixed. TOLERATED (the model's `tolerate`) can name a known
bug the property lets pass while it is being fixed: none now.

Settings: FRONTDESK_HYPOTHESIS_EXAMPLES (default 40) examples, no deadline,
derandomised (the same examples every run, no example database);
FRONTDESK_HYPOTHESIS_SEED=<int> explores other, random examples;
FRONTDESK_HYPOTHESIS_SHRINK=1 shrinks a failure (minutes). A failure lists
the world (organisations, people, tokens, caller) and every disagreement.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, event, given, seed, settings

from server.accounts.models import Membership
from server.audit.models import AuditEvent
from server.core import clock
from server.core.permissions import Role
from tests.helpers.fixtures import LOGIN, PASSWORD, GraphQLClient, add_person, gid
from tests.helpers.tenancy import (
    ALL,
    KNOWN_BUGS,
    Built,
    Model,
    World,
    build,
    decode,
    empty_database,
    impersonation_session,
    pick,
    snapshot,
    worlds,
)

TOLERATED: frozenset[str] = frozenset()
EXAMPLES = int(os.environ.get("FRONTDESK_HYPOTHESIS_EXAMPLES", "40"))
_SEED = os.environ.get("FRONTDESK_HYPOTHESIS_SEED")
_SHRINK = os.environ.get("FRONTDESK_HYPOTHESIS_SHRINK", "") not in ("", "0")
# Refusals that need a request each, and mutations, are sampled per example (every one
# of them every time would take minutes); over the examples all of them come up.
FORBIDDEN_SAMPLE = 6  # "seen but not permitted" mutations (FORBIDDEN ends the request)
# refused connections per connection and kind of refusal (twice as many for `members`)
REFUSED_SAMPLE = {"NOT_FOUND": 2, "FORBIDDEN": 1}
ALLOWED_SAMPLE = 3  # permitted connections, per connection (all with includeDescendants)
MUTATION_SAMPLE = 2  # objects out of reach per mutation (batched)
BATCH = 25  # aliased fields per request (the server allows 30)
# Page size of every connection asked for: above any list a world can hold (at most 21
# memberships), small enough for BATCH of them to stay under the server's cost limit.
PAGE = 25

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=_SEED is None,
    database=None,
    # Shrinking a failure takes minutes here (a second per example): opt in to it.
    phases=[p for p in Phase if p is not Phase.shrink or _SHRINK],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _seeded(test: Any) -> Any:
    return seed(int(_SEED))(test) if _SEED else test


# --- the operations -----------------------------------------------------------------------

REF = "__typename id"
# Per type, what node(id:) asks for besides the id: every object it points at.
NODE_SELECTIONS = {
    "Organisation": "parent { ...R }",
    "Membership": "organisation { ...R } user { ...R memberships { ...R organisation { ...R } } }",
    "User": "memberships { ...R organisation { ...R } }",
    "Invitation": "organisation { ...R } membership { ...R } invitedBy { ...R }",
    "AuditEvent": "organisation { ...R }",
    "ApiToken": "organisation { ...R } createdBy { ...R }",
    "Contact": "organisation { ...R } user { ...R }",
    "Ticket": "organisation { ...R } reporter { ...R } comments { ...R author { ...R } }",
    "TicketComment": "author { ...R }",
    "Extension": "organisation { ...R } member { ...R organisation { ...R } }",
    "CallRecord": "extension { ...R organisation { ...R } }",
    "WebhookEndpoint": f"deliveries(first: {PAGE}) {{ totalCount nodes {{ ...R payload }} }}",
    "WebhookDelivery": "payload",
    "Session": "",
}


# Asked together, these would clash: the same field with different nullability
# (AuditEvent.organisation and Contact.user may be null, the others' may not).
# (Webhook endpoints go alone: their deliveries connection is costly.)
_ALONE = ("AuditEvent", "Contact", "WebhookEndpoint")
NODE_GROUPS = (tuple(t for t in NODE_SELECTIONS if t not in _ALONE), *((t,) for t in _ALONE))


def node_fragments(types: tuple[str, ...]) -> str:
    """Fragments for node(id:) lookups of objects of these types."""
    inline = " ".join(f"... on {t} {{ {NODE_SELECTIONS[t]} }}" for t in types if NODE_SELECTIONS[t])
    if not inline:
        return f"fragment F on Node {{ {REF} }}"
    return f"fragment R on Node {{ {REF} }} fragment F on Node {{ {REF} {inline} }}"


VIEWER = f"""{{ viewer {{
  user {{ {REF} memberships {{ {REF} organisation {{ {REF} }} }} }}
  memberships {{ {REF} organisation {{ {REF} }} }}
  awaitingTwoFactor {{ {REF} organisation {{ {REF} }} }}
}} }}"""
ORGANISATIONS = f"{{ organisations(first: {PAGE}) {{ totalCount nodes {{ {REF} }} }} }}"
ORGANISATION_FIELD = (
    f'organisation(id: "$ID") {{ {REF} parent {{ {REF} }} viewerPermissions '
    f"children(first: {PAGE}) {{ totalCount nodes {{ {REF} }} }} }}"
)
ROW = f"totalCount nodes {{ {REF} organisation {{ {REF} }} }}"
MEMBER_ROW = f"totalCount nodes {{ {REF} organisation {{ {REF} }} user {{ {REF} }} }}"


@dataclass(frozen=True)
class Listing:
    """A root connection of one organisation: the field, and the permission it needs."""

    name: str
    permission: str  # "DESK": ticket access (tickets/access.py), not a role permission
    field: str


LISTINGS = (
    Listing(
        "members",
        "MEMBERS_VIEW",
        f'members(organisationId: "$ID", first: {PAGE}) {{ {MEMBER_ROW} }}',
    ),
    Listing(
        "membersBelow",
        "MEMBERS_VIEW",
        f'members(organisationId: "$ID", includeDescendants: true, first: {PAGE}) {{ {MEMBER_ROW} }}',
    ),
    Listing(
        "invitations",
        "MEMBERS_MANAGE",
        f'invitations(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} invitedBy {{ {REF} }} }} }}',
    ),
    Listing(
        "auditEvents",
        "AUDIT_VIEW",
        f'auditEvents(organisationId: "$ID", includeDescendants: true, first: {PAGE}) {{ {ROW} }}',
    ),
    Listing(
        "apiTokens",
        "API_TOKENS_MANAGE",
        f'apiTokens(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} createdBy {{ {REF} }} }} }}',
    ),
    Listing(
        "contacts", "CONTACTS_VIEW", f'contacts(organisationId: "$ID", first: {PAGE}) {{ {ROW} }}'
    ),
    Listing(
        "extensions",
        "EXTENSIONS_VIEW",
        f'extensions(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} member {{ {REF} }} }} }}',
    ),
    Listing(
        "callRecords",
        "EXTENSIONS_VIEW",
        f'callRecords(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} extension {{ {REF} }} }} }}',
    ),
    Listing(
        "webhookEndpoints",
        "WEBHOOKS_MANAGE",
        f'webhookEndpoints(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} }} }}',
    ),
    Listing(
        "tickets",
        "DESK",
        f'tickets(organisationId: "$ID", includeDescendants: true, first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} reporter {{ {REF} }} }} }}',
    ),
)
LISTING = {listing.name: listing for listing in LISTINGS}


@dataclass(frozen=True)
class Mutation:
    """A mutation aimed at one object: `$ID` is replaced by the object's global id."""

    name: str
    target: str  # the GraphQL type of the object named by the id
    permission: str | None  # None: any signed-in caller; "DESK": ticket access
    input: str
    not_impersonating: bool = False
    not_for_tokens: bool = False


def _m(name: str, target: str, permission: str | None, input: str, **flags: bool) -> Mutation:
    return Mutation(name, target, permission, input, **flags)


SOON = "$SOON"  # replaced by a time a few days ahead
MUTATIONS = (
    # organisations
    _m(
        "createOrganisation",
        "Organisation",
        "CUSTOMERS_MANAGE",
        '{parentId: "$ID", name: "Intruder"}',
    ),
    _m(
        "updateOrganisation",
        "Organisation",
        "ORGANISATION_MANAGE",
        '{organisationId: "$ID", name: "Renamed"}',
    ),
    _m("suspendOrganisation", "Organisation", "CUSTOMERS_MANAGE", '{organisationId: "$ID"}'),
    _m("reactivateOrganisation", "Organisation", "CUSTOMERS_MANAGE", '{organisationId: "$ID"}'),
    _m("setSeatLimit", "Organisation", "CUSTOMERS_MANAGE", '{organisationId: "$ID", limit: 1}'),
    _m(
        "inviteUser",
        "Organisation",
        "MEMBERS_MANAGE",
        '{organisationId: "$ID", email: "intruder@example.com", role: MEMBER}',
        not_impersonating=True,
    ),
    _m(
        "createUser",
        "Organisation",
        "MEMBERS_MANAGE",
        '{organisationId: "$ID", email: "created@example.com", role: MEMBER, password: "a perfectly fine passphrase"}',
        not_impersonating=True,
    ),
    _m(
        "createApiToken",
        "Organisation",
        "API_TOKENS_MANAGE",
        f'{{organisationId: "$ID", name: "x", permissions: [ORGANISATION_VIEW], expiresAt: "{SOON}"}}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "createContact",
        "Organisation",
        "CONTACTS_MANAGE",
        '{organisationId: "$ID", firstName: "Eve"}',
    ),
    _m(
        "createTicket",
        "Organisation",
        "DESK",
        '{organisationId: "$ID", type: INCIDENT, subject: "x"}',
    ),
    _m(
        "createExtension",
        "Organisation",
        "EXTENSIONS_MANAGE",
        '{organisationId: "$ID", number: "7777"}',
    ),
    # memberships
    _m(
        "changeRole",
        "Membership",
        "MEMBERS_MANAGE",
        '{membershipId: "$ID", role: VIEWER}',
        not_impersonating=True,
    ),
    _m(
        "setFeatureAccess",
        "Membership",
        "MEMBERS_MANAGE",
        '{membershipId: "$ID", restrictRecordingDeletion: true}',
        not_impersonating=True,
    ),
    _m("disableMember", "Membership", "MEMBERS_MANAGE", '{membershipId: "$ID"}'),
    _m("enableMember", "Membership", "MEMBERS_MANAGE", '{membershipId: "$ID"}'),
    _m("removeMember", "Membership", "MEMBERS_MANAGE", '{membershipId: "$ID"}'),
    _m(
        "deleteUser",
        "Membership",
        "MEMBERS_MANAGE",
        '{membershipId: "$ID"}',
        not_impersonating=True,
    ),
    _m(
        "resetTwoFactor",
        "Membership",
        "MEMBERS_MANAGE",
        '{membershipId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "impersonateUser",
        "Membership",
        "MEMBERS_IMPERSONATE",
        '{membershipId: "$ID", reason: "curious"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "setTicketAccess", "Membership", "TICKETS_USE", '{membershipId: "$ID", ticketAccess: ADMIN}'
    ),
    # invitations
    _m("resendInvitation", "Invitation", "MEMBERS_MANAGE", '{invitationId: "$ID"}'),
    _m("revokeInvitation", "Invitation", "MEMBERS_MANAGE", '{invitationId: "$ID"}'),
    # API tokens
    _m(
        "revokeApiToken",
        "ApiToken",
        "API_TOKENS_MANAGE",
        '{apiTokenId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    # contacts
    _m("updateContact", "Contact", "CONTACTS_MANAGE", '{contactId: "$ID", notes: "x"}'),
    _m("deleteContact", "Contact", "CONTACTS_MANAGE", '{contactId: "$ID"}'),
    _m("inviteContact", "Contact", "MEMBERS_MANAGE", '{contactId: "$ID"}'),
    # tickets
    _m("updateTicket", "Ticket", "DESK", '{ticketId: "$ID", subject: "x"}'),
    _m("changeTicketStatus", "Ticket", "DESK", '{ticketId: "$ID", status: IN_PROGRESS}'),
    _m("addTicketComment", "Ticket", "DESK", '{ticketId: "$ID", body: "x"}'),
    # extensions and calls
    _m("updateExtension", "Extension", "EXTENSIONS_MANAGE", '{extensionId: "$ID", label: "x"}'),
    _m(
        "assignExtension",
        "Extension",
        "EXTENSIONS_MANAGE",
        '{extensionId: "$ID", membershipId: null}',
    ),
    _m("deleteExtension", "Extension", "EXTENSIONS_MANAGE", '{extensionId: "$ID"}'),
    _m(
        "addCallRecord",
        "Extension",
        "EXTENSIONS_MANAGE",
        f'{{extensionId: "$ID", startedAt: "{SOON}", direction: INBOUND, remoteNumber: "+441234567890", durationSeconds: 5}}',
    ),
    _m("setDoNotDisturb", "Extension", "OWN_EXTENSION", '{extensionId: "$ID", enabled: true}'),
    _m("setForwardingRules", "Extension", "OWN_EXTENSION", '{extensionId: "$ID", rules: []}'),
    _m("deleteRecording", "CallRecord", "RECORDINGS_DELETE", '{callRecordId: "$ID"}'),
    # webhooks
    _m(
        "createWebhook",
        "Organisation",
        "WEBHOOKS_MANAGE",
        '{organisationId: "$ID", url: "https://hooks.example.com/stolen", events: ["member.invited"]}',
        not_impersonating=True,
    ),
    _m(
        "updateWebhook",
        "WebhookEndpoint",
        "WEBHOOKS_MANAGE",
        '{endpointId: "$ID", url: "https://hooks.example.com/stolen"}',
        not_impersonating=True,
    ),
    _m(
        "deleteWebhook",
        "WebhookEndpoint",
        "WEBHOOKS_MANAGE",
        '{endpointId: "$ID"}',
        not_impersonating=True,
    ),
    _m("redeliverWebhook", "WebhookDelivery", "WEBHOOKS_MANAGE", '{deliveryId: "$ID"}'),
    # sessions: only one's own
    _m(
        "revokeSession",
        "Session",
        None,
        '{sessionId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
)
# Mutations whose input holds an id but that need no test here, and why.
EXEMPT_MUTATIONS = {
    "confirmInvitation": "takes a secret token, not an id",
    "resetPassword": "takes a secret token, not an id",
    "verifyTwoFactor": "takes a secret challenge, not an id",
    "sendTwoFactorEmail": "takes a secret challenge, not an id",
}
# Queries with an id argument, and where the property covers them.
COVERED_QUERIES = {
    "node": "node(id:) for every object",
    "organisation": "organisation(id:) for every organisation",
    "ticket": "ticket(id:) for every ticket",
    **{listing.name: "per-organisation connections" for listing in LISTINGS},
}


# --- checking one world -----------------------------------------------------------------


class Check:
    """Runs every probe for one world's caller and collects the disagreements."""

    def __init__(self, http: httpx.AsyncClient, built: Built, model: Model) -> None:
        self.http = http
        self.built = built
        self.world = built.world
        self.model = model
        self.index = built.index()
        self.failures: list[str] = []
        self.client = GraphQLClient(http)
        self.bearer: str | None = None

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def sample(self, items: list[Any], k: int) -> list[Any]:
        """At most k of the items, chosen by the example (so a failure replays)."""
        return pick(self.world.sampler, items, k)

    # identities
    def gid_of(self, type_name: str, i: int) -> str:
        b = self.built
        rows: dict[str, Any] = {
            "Organisation": b.orgs,
            "User": b.users,
            "Membership": b.memberships,
            "ApiToken": b.tokens,
            "Invitation": b.invitations,
            "Contact": b.contacts,
            "Ticket": b.tickets,
            "TicketComment": b.comments,
            "Extension": b.extensions,
            "AuditEvent": b.events,
        }
        if type_name == "CallRecord":
            return gid(type_name, b.calls[i][1].id)
        if type_name == "Session":
            return gid(type_name, b.sessions[i][1].id)
        if type_name == "WebhookDelivery":
            return gid(type_name, b.deliveries[i][2].id)
        if type_name == "WebhookEndpoint":
            return gid(type_name, b.endpoints[i].id)
        return gid(type_name, rows[type_name][i].id)

    def label(self, type_name: str, i: int) -> str:
        org = self.org_of(type_name, i)
        return f"{type_name}#{i}" + (f" (in org{org})" if org is not None else "")

    def org_of(self, type_name: str, i: int) -> int | None:
        w = self.world
        if type_name == "Organisation":
            return i
        if type_name == "Membership":
            return w.memberships[i].org
        if type_name == "ApiToken":
            return w.tokens[i].org
        if type_name == "Invitation":
            return w.invitations[i][0]
        if type_name == "Contact":
            return w.contacts[i]
        if type_name in ("Ticket", "TicketComment"):
            return w.tickets[i].org
        if type_name == "Extension":
            return w.extensions[i].org
        if type_name == "CallRecord":
            return w.extensions[self.built.calls[i][0]].org
        if type_name == "AuditEvent":
            return i
        if type_name == "WebhookEndpoint":
            return w.webhooks[i]
        if type_name == "WebhookDelivery":
            return w.webhooks[self.built.deliveries[i][0]]
        return None

    def objects(self, type_name: str) -> range:
        w, b = self.world, self.built
        sizes = {
            "Organisation": len(w.orgs),
            "User": len(w.people_active),
            "Membership": len(w.memberships),
            "ApiToken": len(w.tokens),
            "Invitation": len(w.invitations),
            "Contact": len(w.contacts),
            "Ticket": len(w.tickets),
            "TicketComment": len(w.tickets),
            "Extension": len(w.extensions),
            "CallRecord": len(b.calls),
            "AuditEvent": len(w.orgs),
            "Session": len(b.sessions),
            "WebhookEndpoint": len(b.endpoints),
            "WebhookDelivery": len(b.deliveries),
        }
        return range(sizes[type_name])

    # transport
    async def call(self, query: str, what: str) -> dict[str, Any]:
        response = await self.client.post(query)
        if response.status_code != 200:
            self.fail(f"{what}: HTTP {response.status_code} {response.text[:300]}")
            return {}
        body = response.json()
        self.walk(body.get("data"), what)
        return body

    def errors_by_alias(self, body: dict[str, Any]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for error in body.get("errors") or []:
            path = error.get("path") or ["<document>"]
            found.setdefault(str(path[0]), []).append(
                (error.get("extensions") or {}).get("code", error.get("message", "?"))
            )
        return found

    async def batch(self, fields: list[tuple[str, str]], what: str, prefix: str = "") -> Any:
        """Run aliased fields in as few requests as the limits allow; yield (alias, value, errors)."""
        results = []
        for start in range(0, len(fields), BATCH):
            chunk = fields[start : start + BATCH]
            query = prefix + "{ " + " ".join(f"{alias}: {text}" for alias, text in chunk) + " }"
            body = await self.call(query, what)
            errors = self.errors_by_alias(body)
            data = body.get("data") or {}
            for alias, _ in chunk:
                results.append((alias, data.get(alias), errors.pop(alias, [])))
            if errors:
                self.fail(f"{what}: unexpected errors {errors}")
        return results

    # 1. nothing out of reach appears anywhere
    def walk(self, value: Any, what: str, own_org: int | None = None) -> None:
        """Check every object in an answer; `own_org` is the organisation of the caller's
        own membership `value` hangs under (shown there, and only there)."""
        if isinstance(value, list):
            for item in value:
                self.walk(item, what)
        elif isinstance(value, dict):
            below = None
            if isinstance(value.get("__typename"), str) and isinstance(value.get("id"), str):
                shown = self.revealed(value["__typename"], value["id"], what, own_org)
                if value["__typename"] == "Membership" and shown in self.model.own_revealable:
                    below = self.world.memberships[shown].org
            if value.get("__typename") == "WebhookDelivery" and "payload" in value:
                # The signed body names the organisation the event happened in.
                about = json.loads(value["payload"]).get("organisation") or {}
                self.revealed("Organisation", str(about.get("id")), f"{what} (a payload)")
            for key, item in value.items():
                self.walk(item, what, below if key == "organisation" else None)

    def revealed(
        self, type_name: str, global_id: str, what: str, own_org: int | None = None
    ) -> int | None:
        decoded = decode(global_id)
        key = (type_name, decoded[1]) if decoded and decoded[0] == type_name else None
        i = self.index.get(key) if key else None
        if i is None:
            self.fail(
                f"{what}: revealed an object the world does not hold: {type_name} {global_id}"
            )
            return None
        m = self.model
        org = self.org_of(type_name, i)
        if type_name == "Organisation":
            ok = i in m.visible or i in m.desk_orgs or i == own_org
        elif type_name == "Membership":
            ok = i in m.own_revealable or org in m.visible
        elif type_name == "User":
            ok = (m.valid and i == m.user) or any(
                ms.person == i and ms.org in m.visible for ms in self.world.memberships
            )
        elif type_name in ("Ticket", "TicketComment"):
            ok = org in m.visible or org in m.desk_orgs
        else:
            ok = org in m.visible
        if not ok:
            self.fail(f"{what}: revealed {self.label(type_name, i)} out of the caller's reach")
        return i

    def ids(self, nodes: list[dict[str, Any]] | None, type_name: str) -> set[int]:
        found = set()
        for node in nodes or []:
            decoded = decode(node["id"])
            i = self.index.get(decoded) if decoded else None
            if decoded is None or decoded[0] != type_name or i is None:
                self.fail(f"unknown {type_name} in a list: {node}")
            else:
                found.add(i)
        return found

    def expect_set(self, what: str, type_name: str, got: set[int], expected: set[int]) -> None:
        if got != expected:
            extra = sorted(got - expected)
            missing = sorted(expected - got)
            self.fail(
                f"{what}: {type_name} extra={[self.label(type_name, i) for i in extra]} "
                f"missing={[self.label(type_name, i) for i in missing]}"
            )

    # signing in
    async def connect(self) -> None:
        c, b = self.world.caller, self.built
        if c.kind == "person":
            body = await GraphQLClient(self.http)(
                LOGIN, {"email": b.users[c.person].email, "password": PASSWORD}
            )
            payload = body["data"]["login"]
            if self.model.valid:
                if payload["errors"] or not payload["token"]:
                    self.fail(f"log-in of p{c.person} refused: {payload['errors']}")
                self.bearer = payload["token"]
            elif payload["token"] or [e["code"] for e in payload["errors"]] != [
                "INVALID_CREDENTIALS"
            ]:
                self.fail(f"log-in of p{c.person} (no usable membership) answered {payload}")
        elif c.kind == "token":
            self.bearer = b.token_secrets[c.token]
        else:
            self.bearer = await impersonation_session(b)
        self.client = GraphQLClient(self.http, self.bearer)

    # 2. viewer
    async def check_viewer(self) -> None:
        m = self.model
        body = await self.call(VIEWER, "viewer")
        viewer = (body.get("data") or {}).get("viewer")
        if viewer is None:
            self.fail(f"viewer is null: {body}")
            return
        if self.ids([viewer["user"]], "User") != {m.user}:
            self.fail(f"viewer.user is {viewer['user']}, not p{m.user}")
        self.expect_set(
            "viewer.memberships",
            "Membership",
            self.ids(viewer["memberships"], "Membership"),
            m.viewer_memberships(),
        )
        self.expect_set(
            "viewer.awaitingTwoFactor",
            "Membership",
            self.ids(viewer["awaitingTwoFactor"], "Membership"),
            m.awaiting_two_factor(),
        )
        self.expect_set(
            "viewer.user.memberships",
            "Membership",
            self.ids(viewer["user"]["memberships"], "Membership"),
            self.user_memberships(m.user),
        )

    def user_memberships(self, person: int) -> set[int]:
        m = self.model
        return {
            i
            for i, ms in enumerate(self.world.memberships)
            if ms.person == person
            and ((person == m.user and i in m.own_revealable) or m.can("MEMBERS_VIEW", ms.org))
        }

    # 3. organisations
    async def check_organisations(self) -> None:
        body = await self.call(ORGANISATIONS, "organisations")
        listed = ((body.get("data") or {}).get("organisations") or {}).get("nodes")
        expected = {
            o for o in self.objects("Organisation") if self.model.can("ORGANISATION_VIEW", o)
        }
        self.expect_set("organisations", "Organisation", self.ids(listed, "Organisation"), expected)

    # 4. organisation(id:) and 5. node(id:), ticket(id:)
    async def check_lookups(self) -> None:
        m, w = self.model, self.world
        fields = [
            (f"o{o}", ORGANISATION_FIELD.replace("$ID", self.gid_of("Organisation", o)))
            for o in self.objects("Organisation")
        ]
        for alias, value, errors in await self.batch(fields, "organisation(id:)"):
            o = int(alias[1:])
            if o not in m.visible:
                expected_errors: list[str] = []
            elif not m.can("ORGANISATION_VIEW", o):
                expected_errors = ["FORBIDDEN"]
            else:
                expected_errors = []
            if errors != expected_errors or (value is not None) != (
                o in m.visible and not expected_errors
            ):
                self.fail(f"organisation(id: org{o}) gave {value} {errors}")
                continue
            if value is None:
                continue
            parent = w.orgs[o].parent
            want_parent = {parent} if parent is not None and parent in m.visible else set()
            got_parent = self.ids([value["parent"]] if value["parent"] else [], "Organisation")
            self.expect_set(f"org{o}.parent", "Organisation", got_parent, want_parent)
            children = {c for c, spec in enumerate(w.orgs) if spec.parent == o and c in m.visible}
            self.expect_set(
                f"org{o}.children",
                "Organisation",
                self.ids(value["children"]["nodes"], "Organisation"),
                children,
            )
            got_permissions = set(value["viewerPermissions"]) & ALL
            if got_permissions != m.perms(o):
                self.fail(
                    f"org{o}.viewerPermissions: beyond the rules "
                    f"{sorted(got_permissions - m.perms(o))}, "
                    f"missing {sorted(m.perms(o) - got_permissions)}"
                )

        for group in NODE_GROUPS:
            fields = [
                (f"n_{type_name}_{i}", f'node(id: "{self.gid_of(type_name, i)}") {{ ...F }}')
                for type_name in group
                for i in self.objects(type_name)
            ]
            for alias, value, errors in await self.batch(
                fields, "node(id:)", node_fragments(group)
            ):
                _, type_name, number = alias.split("_")
                i = int(number)
                expected = self.node_visible(type_name, i)
                if errors or (value is not None) != expected:
                    self.fail(
                        f"node(id: {self.label(type_name, i)}) gave {value} {errors}, "
                        f"expected {'the object' if expected else 'null'}"
                    )
                elif value is not None and type_name == "WebhookEndpoint":
                    own = {d for d, (k, _, _) in enumerate(self.built.deliveries) if k == i}
                    got = self.ids(value["deliveries"]["nodes"], "WebhookDelivery")
                    self.expect_set(f"endpoint{i}.deliveries", "WebhookDelivery", got, own)

        fields = [
            (f"t{k}", f'ticket(id: "{self.gid_of("Ticket", k)}") {{ {REF} }}')
            for k in self.objects("Ticket")
        ]
        for alias, value, errors in await self.batch(fields, "ticket(id:)"):
            k = int(alias[1:])
            org = w.tickets[k].org
            if m.ticket_access(org) == 0:
                want = (None, ["FORBIDDEN"] if org in m.visible else [])
            else:
                want = ("object" if m.ticket_visible(k) else None, [])
            got = ("object" if value is not None else None, errors)
            if got != want:
                self.fail(f"ticket(id: {self.label('Ticket', k)}) gave {got}, expected {want}")

    def node_visible(self, type_name: str, i: int) -> bool:
        m, w = self.model, self.world
        org = self.org_of(type_name, i)
        if type_name == "Organisation":
            return i in m.visible
        if type_name == "Membership":
            return m.membership_visible(i)
        if type_name == "User":
            return m.user_visible(i)
        if type_name in ("Ticket", "TicketComment"):
            return m.ticket_visible(i)
        if type_name == "Extension":
            return m.can("EXTENSIONS_VIEW", w.extensions[i].org) or m.owns_membership(
                w.extensions[i].membership
            )
        if type_name == "CallRecord":
            extension = w.extensions[self.built.calls[i][0]]
            return m.can("EXTENSIONS_VIEW", extension.org) or m.owns_membership(
                extension.membership
            )
        if type_name == "Session":
            return False  # not fetchable by node at all
        if type_name in ("WebhookEndpoint", "WebhookDelivery"):
            return m.can("WEBHOOKS_MANAGE", self.org_of(type_name, i))
        permission = {
            "Invitation": "MEMBERS_MANAGE",
            "AuditEvent": "AUDIT_VIEW",
            "ApiToken": "API_TOKENS_MANAGE",
            "Contact": "CONTACTS_VIEW",
        }[type_name]
        return org is not None and m.can(permission, org)

    # 6. connections
    def listing_rows(
        self, listing: Listing, o: int, audit_orgs: dict[int, int]
    ) -> tuple[str, set[int]]:
        m, w = self.model, self.world
        if listing.name == "members":
            return "Membership", {i for i, ms in enumerate(w.memberships) if ms.org == o}
        if listing.name == "membersBelow":
            return "Membership", {
                i
                for i, ms in enumerate(w.memberships)
                if m.within(ms.org, o) and m.can("MEMBERS_VIEW", ms.org)
            }
        if listing.name == "invitations":
            return "Invitation", {i for i, (org, _) in enumerate(w.invitations) if org == o}
        if listing.name == "auditEvents":
            return "AuditEvent", {
                event
                for event, org in audit_orgs.items()
                if m.within(org, o) and m.can("AUDIT_VIEW", org)
            }
        if listing.name == "apiTokens":
            return "ApiToken", {i for i, t in enumerate(w.tokens) if t.org == o}
        if listing.name == "contacts":
            return "Contact", {i for i, org in enumerate(w.contacts) if org == o}
        if listing.name == "extensions":
            return "Extension", {i for i, e in enumerate(w.extensions) if e.org == o}
        if listing.name == "webhookEndpoints":
            return "WebhookEndpoint", {k for k, org in enumerate(w.webhooks) if org == o}
        if listing.name == "callRecords":
            return "CallRecord", {
                i for i, (k, _) in enumerate(self.built.calls) if w.extensions[k].org == o
            }
        return "Ticket", {
            k for k, t in enumerate(w.tickets) if m.within(t.org, o) and m.ticket_visible(k)
        }

    def listing_outcome(self, listing: Listing, o: int) -> str:
        """ "ok", "FORBIDDEN" or "NOT_FOUND"."""
        m = self.model
        if listing.permission == "DESK":
            if m.ticket_access(o) > 0:
                return "ok"
            return "FORBIDDEN" if o in m.visible else "NOT_FOUND"
        if o not in m.visible:
            return "NOT_FOUND"
        return "ok" if m.can(listing.permission, o) else "FORBIDDEN"

    async def check_listings(self) -> None:
        m, w = self.model, self.world
        audit_orgs = await self.audit_event_orgs()
        allowed: list[tuple[str, str]] = []
        for n, listing in enumerate(LISTINGS):
            refused: dict[str, list[int]] = {"ok": [], "NOT_FOUND": [], "FORBIDDEN": []}
            for o in self.objects("Organisation"):
                refused[self.listing_outcome(listing, o)].append(o)
            permitted = refused.pop("ok")
            below = "includeDescendants" in listing.field  # these reach furthest: all of them
            for o in permitted if below else self.sample(permitted, ALLOWED_SAMPLE):
                text = listing.field.replace("$ID", self.gid_of("Organisation", o))
                allowed.append((f"l{n}_{o}", text))
            # A refused non-null root field nulls the whole answer, so these take a request
            # each: a sample per example (more of them for `members`).
            for outcome, orgs in refused.items():
                k = REFUSED_SAMPLE[outcome] * (2 if listing.name == "members" else 1)
                for o in self.sample(orgs, k):
                    text = listing.field.replace("$ID", self.gid_of("Organisation", o))
                    body = await self.call("{ " + text + " }", f"{listing.name}(org{o})")
                    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
                    if body.get("data") is not None or codes != [outcome]:
                        self.fail(
                            f"{listing.name}(organisationId: org{o}) gave "
                            f"data={body.get('data')} errors={codes}, expected {outcome}"
                        )
        for alias, value, errors in await self.batch(allowed, "connections"):
            n, o = (int(part) for part in alias[1:].split("_"))
            listing = LISTINGS[n]
            if errors or value is None:
                self.fail(f"{listing.name}(organisationId: org{o}) failed: {errors}")
                continue
            type_name, expected = self.listing_rows(listing, o, audit_orgs)
            got = self.ids(value["nodes"], type_name)
            self.expect_set(f"{listing.name}(org{o})", type_name, got, expected)
            if value["totalCount"] != len(expected):
                self.fail(
                    f"{listing.name}(org{o}).totalCount {value['totalCount']} != {len(expected)}"
                )

        own = f"totalCount nodes {{ {REF} }}"
        fields = [
            ("ownExtensions", f"ownExtensions(first: {PAGE}) {{ {own} }}"),
            ("ownCallRecords", f"ownCallRecords(first: {PAGE}) {{ {own} }}"),
        ]
        for alias, value, errors in await self.batch(fields, "own lists"):
            if errors or value is None:
                self.fail(f"{alias} failed: {errors}")
                continue
            if alias == "ownExtensions":
                want = {i for i, e in enumerate(w.extensions) if m.owns_membership(e.membership)}
                self.expect_set(alias, "Extension", self.ids(value["nodes"], "Extension"), want)
            else:
                want = {
                    i
                    for i, (k, _) in enumerate(self.built.calls)
                    if m.owns_membership(w.extensions[k].membership)
                }
                self.expect_set(alias, "CallRecord", self.ids(value["nodes"], "CallRecord"), want)

        # Nested: the organisation's own connections, reached through node(id:).
        member = f"{REF} user {{ {REF} memberships {{ {REF} organisation {{ {REF} }} }} }}"
        fields = []
        for o in sorted(m.visible):
            org_id = self.gid_of("Organisation", o)
            if m.can("MEMBERS_VIEW", o):
                fields.append(
                    (
                        f"m{o}",
                        f'node(id: "{org_id}") {{ ... on Organisation {{ members(first: {PAGE}) {{ nodes {{ {member} }} }} }} }}',
                    )
                )
            if m.can("MEMBERS_MANAGE", o):
                fields.append(
                    (
                        f"i{o}",
                        f'node(id: "{org_id}") {{ ... on Organisation {{ invitations(first: {PAGE}) {{ nodes {{ {REF} }} }} }} }}',
                    )
                )
        for alias, value, errors in await self.batch(fields, "nested connections"):
            o = int(alias[1:])
            if errors or value is None:
                self.fail(f"nested {alias} of org{o} failed: {errors}")
                continue
            if alias[0] == "i":
                got = self.ids(value["invitations"]["nodes"], "Invitation")
                want = {i for i, (org, _) in enumerate(w.invitations) if org == o}
                self.expect_set(f"org{o}.invitations", "Invitation", got, want)
                continue
            nodes = value["members"]["nodes"]
            want = {i for i, ms in enumerate(w.memberships) if ms.org == o}
            self.expect_set(f"org{o}.members", "Membership", self.ids(nodes, "Membership"), want)
            for node in nodes:
                [person] = self.ids([node["user"]], "User") or [None]
                if person is None:
                    continue
                self.expect_set(
                    f"org{o}.members.user(p{person}).memberships",
                    "Membership",
                    self.ids(node["user"]["memberships"], "Membership"),
                    self.user_memberships(person),
                )

    async def audit_event_orgs(self) -> dict[int, int]:
        """AuditEvent index → organisation index, for the seeded events."""
        by_pk = {org.id: o for o, org in enumerate(self.built.orgs)}
        rows = await AuditEvent.filter(id__in=[e.id for e in self.built.events]).values(
            "id", "organisation_id"
        )
        return {
            self.index[("AuditEvent", row["id"])]: by_pk[row["organisation_id"]] for row in rows
        }

    # 7. the CSV export
    async def check_export(self) -> None:
        m = self.model
        audit_orgs = await self.audit_event_orgs()
        event_of_pk = {e.id: i for i, e in enumerate(self.built.events)}
        headers = {"authorization": f"Bearer {self.bearer}"} if self.bearer else {}
        by_outcome: dict[int, list[int]] = {}
        for o in self.objects("Organisation"):
            if not m.valid:
                want = 401
            elif o not in m.visible:
                want = 404
            else:
                want = 200 if m.can("AUDIT_VIEW", o) else 403
            by_outcome.setdefault(want, []).append(o)
        for want, orgs in sorted(by_outcome.items()):
            [o] = self.sample(orgs, 1)
            url = f"/audit/export.csv?organisationId={self.gid_of('Organisation', o)}&includeDescendants=true"
            response = await self.http.get(url, headers=headers)
            if response.status_code != want:
                self.fail(f"export.csv of org{o}: HTTP {response.status_code}, expected {want}")
                continue
            if want != 200:
                continue
            rows = list(csv.reader(io.StringIO(response.text)))[1:]
            got = {event_of_pk[int(row[0])] for row in rows if int(row[0]) in event_of_pk}
            unknown = [row[0] for row in rows if int(row[0]) not in event_of_pk]
            if unknown:
                self.fail(f"export.csv of org{o} holds events the world never made: {unknown}")
            _, want_rows = self.listing_rows(LISTING["auditEvents"], o, audit_orgs)
            self.expect_set(f"export.csv(org{o})", "AuditEvent", got, want_rows)

    # 8. mutations
    def mutation_field(self, mutation: Mutation, target_id: str) -> str:
        soon = (clock.now() + timedelta(days=3)).isoformat()
        text = mutation.input.replace("$ID", target_id).replace(SOON, soon)
        return f"{mutation.name}(input: {text}) {{ errors {{ code }} }}"

    def refused_outright(self, mutation: Mutation) -> str | None:
        kind = self.world.caller.kind
        if kind == "impersonation" and mutation.not_impersonating:
            return "IMPERSONATION_FORBIDDEN"
        if kind == "token" and mutation.not_for_tokens:
            return "API_TOKEN_FORBIDDEN"
        return None

    async def check_mutations(self) -> None:
        m, w = self.model, self.world
        not_found: list[tuple[str, str]] = []
        forbidden: list[tuple[str, str, str]] = []
        outright: dict[str, tuple[str, str]] = {}
        for n, mutation in enumerate(MUTATIONS):
            refusal = self.refused_outright(mutation)
            out_of_reach = []
            for i in self.objects(mutation.target):
                field = self.mutation_field(mutation, self.gid_of(mutation.target, i))
                what = f"{mutation.name}({self.label(mutation.target, i)})"
                if refusal is not None:
                    outright.setdefault(mutation.name, (field, refusal))
                    break
                if mutation.target == "Session":
                    person, _ = self.built.sessions[i]
                    if person != m.user:
                        out_of_reach.append((f"x{n}_{i}", field))
                    continue
                org = self.org_of(mutation.target, i)
                assert org is not None
                if mutation.permission == "DESK":
                    if m.ticket_access(org) > 0:
                        continue  # the support desk may act
                    if org in m.visible:
                        forbidden.append((what, field, "FORBIDDEN"))
                    else:
                        out_of_reach.append((f"x{n}_{i}", field))
                elif org not in m.visible:
                    out_of_reach.append((f"x{n}_{i}", field))
                elif mutation.permission is not None and not m.can(mutation.permission, org):
                    forbidden.append((what, field, "FORBIDDEN"))
            not_found.extend(self.sample(out_of_reach, MUTATION_SAMPLE))

        # Foreign members smuggled into calls the caller may make.
        foreign = [i for i, ms in enumerate(w.memberships) if ms.org not in m.visible]
        managed = [o for o in sorted(m.visible) if m.can("EXTENSIONS_MANAGE", o)]
        if foreign and managed:
            member = self.gid_of("Membership", foreign[0])
            org_id = self.gid_of("Organisation", managed[0])
            not_found.append(
                (
                    "smuggled_create",
                    f'createExtension(input: {{organisationId: "{org_id}", number: "7778", membershipId: "{member}"}}) {{ errors {{ code }} }}',
                )
            )
            for k, extension in enumerate(w.extensions):
                if extension.org in managed:
                    ext_id = self.gid_of("Extension", k)
                    not_found.append(
                        (
                            "smuggled_assign",
                            f'assignExtension(input: {{extensionId: "{ext_id}", membershipId: "{member}"}}) {{ errors {{ code }} }}',
                        )
                    )
                    break

        for start in range(0, len(not_found), BATCH):
            chunk = not_found[start : start + BATCH]
            query = "mutation { " + " ".join(f"{a}: {f}" for a, f in chunk) + " }"
            body = await self.call(query, "mutations out of reach")
            data = body.get("data")
            if data is None:
                self.fail(f"mutations out of reach: no data, errors {body.get('errors')}")
                continue
            for alias, field in chunk:
                codes = [e["code"] for e in (data.get(alias) or {}).get("errors") or []]
                if codes != ["NOT_FOUND"]:
                    self.fail(f"{field.split('{ errors')[0]} answered {codes}, expected NOT_FOUND")

        for what, field, code in self.sample(forbidden, FORBIDDEN_SAMPLE):
            body = await self.call("mutation { " + field + " }", what)
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            if body.get("data") is not None or codes != [code]:
                self.fail(f"{what}: data={body.get('data')} errors={codes}, expected {code}")
        for name, (field, code) in outright.items():
            body = await self.call("mutation { " + field + " }", name)
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            if codes != [code]:
                self.fail(f"{name} by a {self.world.caller.kind}: {codes}, expected {code}")

    # 9. a caller that cannot act
    async def check_powerless(self) -> None:
        body = await self.call(VIEWER, "viewer")
        if (body.get("data") or {}).get("viewer") is not None:
            self.fail(f"viewer of a caller that cannot act: {body}")
        fields = [
            (f"n{o}", f'node(id: "{self.gid_of("Organisation", o)}") {{ {REF} }}')
            for o in self.objects("Organisation")
        ]
        for alias, value, errors in await self.batch(fields, "node(id:)"):
            if value is not None or any(code != "UNAUTHENTICATED" for code in errors):
                self.fail(f"node {alias} for a caller that cannot act: {value} {errors}")
        for query in (
            ORGANISATIONS,
            "{ "
            + LISTING["membersBelow"].field.replace("$ID", self.gid_of("Organisation", 0))
            + " }",
            "mutation { "
            + self.mutation_field(MUTATIONS[0], self.gid_of("Organisation", 0))
            + " }",
        ):
            body = await self.call(query, "a caller that cannot act")
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            if body.get("data") is not None or codes != ["UNAUTHENTICATED"]:
                self.fail(f"{query[:60]}… for a caller that cannot act: {body}")
        await self.check_export()

    # webhooks: an endpoint hears its organisation's events and its descendants', no others
    def check_webhook_fanout(self) -> None:
        w, m = self.world, self.model
        got = [(k, o) for k, o, _ in self.built.deliveries]
        expected = {
            (k, o)
            for k, owner in enumerate(w.webhooks)
            for o in range(len(w.orgs))
            if m.within(o, owner)
        }
        if sorted(got) != sorted(expected):
            wrong = sorted(set(got) - expected)
            lost = sorted(expected - set(got))
            self.fail(
                "webhook deliveries (endpoint, organisation of the event): "
                f"beyond the endpoint's subtree {[(f'endpoint{k} of org{w.webhooks[k]}', f'org{o}') for k, o in wrong]}, "
                f"missing {lost}, duplicated {len(got) - len(set(got))}"
            )

    async def run(self) -> None:
        self.check_webhook_fanout()
        await self.connect()
        # The first request may end a dead session (a disabled user's): only then compare.
        await self.call(VIEWER, "viewer")
        before = await snapshot()
        if self.model.valid:
            await self.check_viewer()
            await self.check_organisations()
            await self.check_lookups()
            await self.check_listings()
            await self.check_export()
            await self.check_mutations()
        else:
            await self.check_powerless()
        after = await snapshot()
        for table in before:
            if before[table] != after[table]:
                changed = [row for row in after[table] if row not in before[table]]
                gone = [row for row in before[table] if row not in after[table]]
                self.fail(f"table {table} changed: new/changed {changed[:3]} gone {gone[:3]}")


async def check_world(
    http: httpx.AsyncClient, world: World, *, tolerate: frozenset[str] = frozenset()
) -> list[str]:
    await empty_database()
    built = await build(world)
    check = Check(http, built, Model(world, tolerate=tolerate))
    await check.run()
    return check.failures


def describe_caller(world: World) -> str:
    """For `--hypothesis-show-statistics`: who called, and how much they could see."""
    model = Model(world, tolerate=TOLERATED)
    if not model.valid:
        return f"{world.caller.kind} that cannot act"
    hidden = len(world.orgs) - len(model.visible)
    sees = "nothing" if not model.visible else "everything" if not hidden else "a part"
    return f"{world.caller.kind} seeing {sees}"


@SETTINGS
@_seeded
@given(world=worlds())
async def test_nothing_outside_the_callers_scope_is_readable_or_changeable(
    http: httpx.AsyncClient, world: World
) -> None:
    event(describe_caller(world))
    failures = await check_world(http, world, tolerate=TOLERATED)
    assert not failures, "\n".join([world.describe(), *failures])


# --- the property covers the whole schema ----------------------------------------------------


def _schema() -> Any:
    from server.schema import build_schema

    return build_schema()._schema


def _has_id_argument(field: Any) -> bool:
    from graphql import GraphQLInputObjectType, get_named_type

    for argument in field.args.values():
        named = get_named_type(argument.type)
        if named.name == "ID":
            return True
        if isinstance(named, GraphQLInputObjectType) and any(
            get_named_type(f.type).name == "ID" for f in named.fields.values()
        ):
            return True
    return False


def test_every_mutation_taking_an_id_is_probed() -> None:
    schema = _schema()
    probed = {mutation.name for mutation in MUTATIONS}
    missing = [
        name
        for name, field in schema.mutation_type.fields.items()
        if _has_id_argument(field) and name not in probed and name not in EXEMPT_MUTATIONS
    ]
    assert not missing, (
        f"mutations taking an id that the tenancy property does not try: {missing}; "
        "add them to MUTATIONS in tests/api/test_tenancy_properties.py"
    )
    assert probed <= set(schema.mutation_type.fields), probed - set(schema.mutation_type.fields)


def test_every_query_taking_an_id_is_probed() -> None:
    schema = _schema()
    missing = [
        name
        for name, field in schema.query_type.fields.items()
        if _has_id_argument(field)
        and name not in COVERED_QUERIES
        and name not in {listing.field.split("(")[0] for listing in LISTINGS}
    ]
    assert not missing, (
        f"queries taking an id that the tenancy property does not try: {missing}; "
        "add them to tests/api/test_tenancy_properties.py"
    )


# --- known bugs, shrunk to their smallest worlds ------------------------------------------

ORGANISATIONS_SHOWN = f"""query($id: ID!) {{
  viewer {{
    memberships {{ organisation {{ name }} }}
    user {{ memberships {{ organisation {{ name }} }} }}
  }}
  node(id: $id) {{ {REF} ... on Membership {{ organisation {{ name }} }} }}
}}"""
CREATE_TOKEN = """mutation($org: ID!, $expires: DateTime!) {
  createApiToken(input: {organisationId: $org, name: "CRM", expiresAt: $expires,
                         permissions: [ORGANISATION_VIEW, MEMBERS_VIEW]}) {
    secret errors { code } } }"""
IMPERSONATE = """mutation($id: ID!) {
  impersonateUser(input: {membershipId: $id, reason: "DND stuck on"}) { token errors { code } } }"""


def organisation_names(value: Any) -> set[str]:
    if isinstance(value, list):
        return {name for item in value for name in organisation_names(item)}
    if isinstance(value, dict):
        found = {value["organisation"]["name"]} if value.get("organisation") else set()
        return found | {name for item in value.values() for name in organisation_names(item)}
    return set()


async def test_an_api_token_shows_none_of_its_creators_memberships_beyond_its_subtree(
    tree, sign_in, http
):
    # The reseller's admin, also a member of Globex, makes a token for Acme only.
    admin = tree["reseller.admin"]
    await add_person(tree.globex, admin.email, Role.MEMBER)
    session = await sign_in(admin.email)
    expires = (clock.now() + timedelta(days=30)).isoformat()
    created = await session.ok(
        CREATE_TOKEN, {"org": gid("Organisation", tree.acme.id), "expires": expires}
    )
    token = GraphQLClient(http, created["secret"])
    # For the token, the reseller does not exist ...
    assert await token.data(
        "query($id: ID!) { organisation(id: $id) { name } }",
        {"id": gid("Organisation", tree.reseller.id)},
    ) == {"organisation": None}
    # ... yet it shows the creator's place there, and at Globex (a sibling of Acme).
    shown = await token.data(ORGANISATIONS_SHOWN, {"id": admin.membership_id})
    assert organisation_names(shown) <= {"Acme"}, organisation_names(shown)


async def test_an_impersonation_shows_none_of_the_members_memberships_beyond_the_admins_subtree(
    tree, sign_in, http
):
    # Acme's owner opens the portal of an Acme member who is also a member of Globex.
    owner, member = tree["acme.owner"], tree["acme.member"]
    elsewhere = await add_person(tree.globex, member.email, Role.MEMBER)
    await Membership.filter(id=owner.membership.id).update(can_impersonate=True)
    admin = await sign_in(owner.email)
    started = await admin.ok(IMPERSONATE, {"id": member.membership_id})
    acting = GraphQLClient(http, started["token"])
    shown = await acting.data(ORGANISATIONS_SHOWN, {"id": elsewhere.membership_id})
    # viewer.memberships rightly holds Acme only; the user's memberships and node() do not.
    assert organisation_names(shown["viewer"]["memberships"]) == {"Acme"}
    assert organisation_names(shown) <= {"Acme"}, organisation_names(shown)


def test_the_model_knows_what_the_property_tolerates() -> None:
    assert TOLERATED <= KNOWN_BUGS
