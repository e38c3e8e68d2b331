"""The probes of one world that read: identities, transport, what was revealed,
the viewer, organisations and lookups by id (`Reads`; tests/tenancy/checks.py adds
the rest)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from server.audit.models import AuditEvent
from server.auth.people import SIGN_IN_EVENTS
from tests.helpers.fixtures import LOGIN, PASSWORD, GraphQLClient, gid
from tests.tenancy.build import Built, decode, impersonation_session, pick
from tests.tenancy.model import Model
from tests.tenancy.operations import (
    BATCH,
    NODE_GROUPS,
    ORGANISATION_FIELD,
    ORGANISATIONS,
    REF,
    VIEWER,
    node_fragments,
)

# --- checking one world -----------------------------------------------------------------
from tests.tenancy.world import ALL


class Reads:
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
            "ScimToken": b.scim_tokens,
            "OidcClient": b.oidc_clients,
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
        if type_name == "Passkey":
            return gid(type_name, b.passkeys[i][1].id)
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
        if type_name in ("ScimToken", "OidcClient"):
            return i
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
            "ScimToken": len(w.orgs),
            "OidcClient": len(w.orgs),
            "Invitation": len(w.invitations),
            "Contact": len(w.contacts),
            "Ticket": len(w.tickets),
            "TicketComment": len(w.tickets),
            "Extension": len(w.extensions),
            "CallRecord": len(b.calls),
            "AuditEvent": len(w.orgs),
            "Session": len(b.sessions),
            "Passkey": len(b.passkeys),
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
            # Signing in writes events into the trail of each of the caller's organisations
            # (tests/auth/test_throttle_bucket.py): the harness's own, not the modelled world's.
            await AuditEvent.filter(action__in=SIGN_IN_EVENTS).delete()
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
            "ScimToken": "SCIM_MANAGE",
            "OidcClient": "OIDC_CLIENTS_MANAGE",
            "Contact": "CONTACTS_VIEW",
        }[type_name]
        return org is not None and m.can(permission, org)
