"""The probes of one world that list and change: connections, the CSV export,
mutations, a caller that cannot act, and webhook fan-out (`Check`)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from server.audit.models import AuditEvent
from server.core import clock
from tests.helpers.fixtures import gid
from tests.tenancy.build import snapshot
from tests.tenancy.operations import (
    ALLOWED_SAMPLE,
    BATCH,
    FORBIDDEN_SAMPLE,
    LISTING,
    LISTINGS,
    MUTATION_SAMPLE,
    MUTATIONS,
    ORGANISATIONS,
    PAGE,
    REF,
    REFUSED_SAMPLE,
    SOON,
    VIEWER,
    Listing,
    Mutation,
)
from tests.tenancy.reads import Reads


class Check(Reads):
    """Every probe for one world's caller; the disagreements collect in `failures`."""

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
        if listing.name == "ticketAccessMembers":
            return "Membership", {
                i for i, ms in enumerate(w.memberships) if ms.org == o and ms.status == "ACTIVE"
            }
        if listing.name == "apiTokens":
            return "ApiToken", {i for i, t in enumerate(w.tokens) if t.org == o}
        if listing.name == "scimTokens":
            return "ScimToken", {o}  # one per organisation
        if listing.name == "oidcClients":
            return "OidcClient", {o}  # one per organisation
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
        if listing.permission == "TICKET_ADMIN":
            if m.ticket_admin(o):
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
        event_of_id = {gid("AuditEvent", e.id): i for i, e in enumerate(self.built.events)}
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
            got = {event_of_id[row[0]] for row in rows if row[0] in event_of_id}
            unknown = [row[0] for row in rows if row[0] not in event_of_id]
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
                if mutation.target in ("Session", "Passkey"):
                    person, _ = (
                        self.built.sessions[i]
                        if mutation.target == "Session"
                        else self.built.passkeys[i]
                    )
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
