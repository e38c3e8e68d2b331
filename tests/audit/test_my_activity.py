"""viewer.auditEvents: members read what was done to them, and nothing about others;
the ids in details are the ones node(id:) follows; summaries in the reader's language."""

from __future__ import annotations

import csv
import io

from strawberry.relay import from_base64

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.core.permissions import Role
from tests.helpers.fixtures import add_person, gid

MINE = """query($first: Int, $after: String) { viewer { auditEvents(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id action summary actorLabel targetLabel clientIp requestId details } } } }"""
CHANGE_ROLE = """mutation($id: ID!, $role: Role!) {
  changeRole(input: {membershipId: $id, role: $role}) { errors { code } } }"""
CREATE_EXTENSION = """mutation($org: ID!, $m: ID!, $n: String!) {
  createExtension(input: {organisationId: $org, number: $n, membershipId: $m}) {
    extension { id } errors { code } } }"""
ASSIGN = """mutation($id: ID!, $m: ID) { assignExtension(input: {extensionId: $id, membershipId: $m})
  { errors { code } } }"""
EVENTS = """query($org: ID!, $action: String, $order: AuditOrder) {
  auditEvents(organisationId: $org, action: $action, order: $order) {
    nodes { action summary details } } }"""
NODE = """query($id: ID!) { node(id: $id) { __typename
  ... on User { email } ... on Membership { role } ... on Organisation { name }
  ... on Extension { number } } }"""


async def name_people(tree) -> None:  # type: ignore[no-untyped-def]
    for key, (first, last) in {
        "acme.admin": ("Ann", "Admin"),
        "acme.member": ("Bob", "Member"),
    }.items():
        await User.filter(id=tree[key].user.id).update(first_name=first, last_name=last)


async def history(tree, sign_in):  # type: ignore[no-untyped-def]
    """Ann Admin gives extension 201 to Bob, then moves it to Carol; Carol's role changes."""
    await name_people(tree)
    carol = await add_person(tree.acme, "carol@acme.example.com", Role.MEMBER)
    await User.filter(id=carol.user.id).update(first_name="Carol", last_name="Member")
    admin = await sign_in(tree["acme.admin"].email)
    created = await admin.ok(
        CREATE_EXTENSION,
        {
            "org": gid("Organisation", tree.acme.id),
            "m": tree["acme.member"].membership_id,
            "n": "201",
        },
    )
    extension = created["extension"]["id"]
    await admin.ok(ASSIGN, {"id": extension, "m": carol.membership_id})
    await admin.ok(CHANGE_ROLE, {"id": carol.membership_id, "role": "VIEWER"})
    return admin, carol, extension


async def test_members_read_what_was_done_to_them_newest_first(tree, sign_in):
    await history(tree, sign_in)
    bob = await sign_in(tree["acme.member"].email)
    mine = (await bob.data(MINE))["viewer"]["auditEvents"]
    assert [n["summary"] for n in mine["nodes"]] == [
        "Bob Member signed in",
        "Ann Admin took extension 201 away from Bob Member",
        "Ann Admin gave extension 201 to Bob Member",
    ]
    # Where an administrator's change came from is theirs, not the member's.
    done_to_him = [n for n in mine["nodes"] if n["action"].startswith("extension.")]
    assert {(n["clientIp"], n["requestId"]) for n in done_to_him} == {("", "")}
    own = mine["nodes"][0]
    assert own["clientIp"] == "203.0.113.7" and own["requestId"]
    assert "account" not in own["details"]

    # Paged like the audit list, newest first.
    first = (await bob.data(MINE, {"first": 1}))["viewer"]["auditEvents"]
    assert first["pageInfo"]["hasNextPage"] and first["totalCount"] == 3
    rest = await bob.data(MINE, {"first": 5, "after": first["pageInfo"]["endCursor"]})
    assert [n["id"] for n in rest["viewer"]["auditEvents"]["nodes"]] == [
        n["id"] for n in mine["nodes"][1:]
    ]


async def test_nothing_about_other_people_shows(tree, sign_in, anonymous):
    _, carol, _ = await history(tree, sign_in)
    for person in (tree["acme.member"], carol, tree["globex.member"]):
        client = await sign_in(person.email)
        nodes = (await client.data(MINE, {"first": 100}))["viewer"]["auditEvents"]["nodes"]
        mine = await AuditEvent.filter(subject_user_id=person.user.id).count()
        assert len(nodes) == mine
        me = gid("User", person.user.id)
        assert all(n["details"]["subject"]["id"] == me for n in nodes)
    # Carol's list: her sign-ins (one above, one now), her role, her extension.
    client = await sign_in(carol.email)
    actions = [n["action"] for n in (await client.data(MINE))["viewer"]["auditEvents"]["nodes"]]
    assert actions == ["auth.login", "auth.login", "member.role_changed", "extension.assigned"]
    # Without signing in there is no viewer, and no events.
    assert (await anonymous.data(MINE))["viewer"] is None


async def test_ids_in_details_are_global_ids_node_resolves(tree, sign_in):
    admin, carol, extension = await history(tree, sign_in)
    org = gid("Organisation", tree.acme.id)
    [moved] = (await admin.data(EVENTS, {"org": org, "action": "extension.assigned"}))[
        "auditEvents"
    ]["nodes"][:1]
    details = moved["details"]
    assert moved["summary"] == "Ann Admin moved extension 201 from Bob Member to Carol Member"
    expected = {
        details["actor"]["id"]: ("User", "email", tree["acme.admin"].email),
        details["organisation"]["id"]: ("Organisation", "name", "Acme"),
        details["target"]["id"]: ("Extension", "number", "201"),
        details["before"]["member"]["id"]: ("Membership", "role", "MEMBER"),
        details["after"]["member"]["id"]: ("Membership", "role", "VIEWER"),
        details["subject"]["id"]: ("User", "email", carol.email),
    }
    assert details["target"]["id"] == extension
    assert details["after"]["member"]["id"] == carol.membership_id
    for global_id, (type_name, field, value) in expected.items():
        node = (await admin.data(NODE, {"id": global_id}))["node"]
        assert node["__typename"] == type_name and node[field] == value, global_id

    # No raw database id and one key style anywhere in the trail.
    def keys_and_ids(value, path=""):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            for key, item in value.items():
                assert "_" not in key, f"{path}.{key}"
                assert not (key.endswith("Id") and isinstance(item, int)), f"{path}.{key}"
                keys_and_ids(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                keys_and_ids(item, path)

    for event in await AuditEvent.all():
        keys_and_ids(event.details, event.action)


async def test_lists_are_newest_first_and_summaries_follow_the_language(tree, sign_in, http):
    admin, carol, _ = await history(tree, sign_in)
    org = gid("Organisation", tree.acme.id)
    newest = (await admin.data(EVENTS, {"org": org}))["auditEvents"]["nodes"]
    oldest = (await admin.data(EVENTS, {"org": org, "order": "OLDEST_FIRST"}))["auditEvents"][
        "nodes"
    ]
    assert newest == list(reversed(oldest)) and newest[0]["action"] == "member.role_changed"
    german = await admin(EVENTS, {"org": org, "action": "member."}, **{"accept-language": "de"})
    assert german["data"]["auditEvents"]["nodes"][0]["summary"] == (
        "Ann Admin hat die Rolle von Carol Member von Mitglied auf Betrachter geändert"
    )

    # The profile's language comes before the browser's.
    await User.filter(id=tree["acme.admin"].user.id).update(language="de")
    english_browser = await admin(
        EVENTS, {"org": org, "action": "member."}, **{"accept-language": "en"}
    )
    assert english_browser["data"]["auditEvents"]["nodes"][0]["summary"].startswith(
        "Ann Admin hat die Rolle"
    )
    await User.filter(id=tree["acme.admin"].user.id).update(language=None)

    url = f"/audit/export.csv?organisationId={org}"
    for language, summary in [
        ("en", "Ann Admin changed the role of Carol Member from member to viewer"),
        (
            "de-DE,de;q=0.9",
            "Ann Admin hat die Rolle von Carol Member von Mitglied auf Betrachter geändert",
        ),
    ]:
        response = await http.get(
            url, headers={"authorization": f"Bearer {admin.token}", "accept-language": language}
        )
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert rows[0]["action"] == "member.role_changed" and rows[0]["summary"] == summary
        pks = [int(from_base64(r["id"])[1]) for r in rows]  # global ids of AuditEvents
        assert pks == sorted(pks, reverse=True)
