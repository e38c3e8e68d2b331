"""The audit trail: what is recorded, who may read it, filters, CSV export, pruning."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import timedelta

from server.audit.models import AuditEvent
from server.audit.service import prune
from server.core import clock
from tests.helpers.fixtures import gid

EVENTS = """
query($org: ID!, $desc: Boolean!, $action: String, $actor: ID, $target: ID, $since: DateTime) {
  auditEvents(organisationId: $org, includeDescendants: $desc, action: $action, actorId: $actor,
              targetId: $target, since: $since) {
    totalCount
    nodes { action summary actorLabel impersonatorLabel targetType targetLabel clientIp requestId details
            organisation { name } }
  }
}"""
CHANGE_ROLE = """mutation($id: ID!, $role: Role!) {
  changeRole(input: {membershipId: $id, role: $role}) { errors { code } } }"""
DISABLE = "mutation($id: ID!) { disableMember(input: {membershipId: $id}) { errors { code } } }"


async def make_history(tree, sign_in):  # type: ignore[no-untyped-def]
    acme_owner = await sign_in(tree["acme.owner"].email)
    await acme_owner.ok(CHANGE_ROLE, {"id": tree["acme.member"].membership_id, "role": "VIEWER"})
    globex_owner = await sign_in(tree["globex.owner"].email)
    await globex_owner.ok(DISABLE, {"id": tree["globex.member"].membership_id})
    return acme_owner


def variables(org: int, **extra):  # type: ignore[no-untyped-def]
    return {"org": gid("Organisation", org), "desc": False, **extra}


async def test_events_carry_actor_target_before_after_and_request(tree, sign_in):
    acme_owner = await make_history(tree, sign_in)
    events = (await acme_owner.data(EVENTS, variables(tree.acme.id, action="member.role_changed")))[
        "auditEvents"
    ]
    [event] = events["nodes"]
    assert event["actorLabel"] == tree["acme.owner"].email
    assert event["targetType"] == "Membership"
    assert event["targetLabel"] == tree["acme.member"].email
    owner, member = tree["acme.owner"], tree["acme.member"]
    assert event["details"] == {
        "before": {"role": "MEMBER"},
        "after": {"role": "VIEWER"},
        "actor": {"id": gid("User", owner.user.id), "name": "Owner Test"},
        "organisation": {"id": gid("Organisation", tree.acme.id), "name": "Acme"},
        "target": {
            "id": member.membership_id,
            "type": "Membership",
            "name": "Member Test",
            "personId": gid("User", member.user.id),
        },
        "subject": {"id": gid("User", member.user.id), "name": "Member Test"},
    }
    assert event["summary"] == "Owner Test changed the role of Member Test from member to viewer"
    assert event["clientIp"] == "203.0.113.7" and len(event["requestId"]) >= 16
    assert event["organisation"] == {"name": "Acme"}


async def test_admins_see_their_organisation_and_resellers_their_descendants(tree, sign_in):
    acme_owner = await make_history(tree, sign_in)
    own = (await acme_owner.data(EVENTS, variables(tree.acme.id, action="member.")))["auditEvents"]
    assert {n["organisation"]["name"] for n in own["nodes"]} == {"Acme"}
    # Another organisation's trail looks like nothing at all.
    body = await acme_owner(EVENTS, variables(tree.globex.id))
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    reseller = await sign_in(tree["reseller.admin"].email)
    below = (await reseller.data(EVENTS, variables(tree.reseller.id, desc=True, action="member.")))[
        "auditEvents"
    ]
    assert {n["organisation"]["name"] for n in below["nodes"]} == {"Acme", "Globex"}
    # Admins may read it; a member without AUDIT_VIEW may not.
    admin = await sign_in(tree["acme.admin"].email)
    assert (await admin.data(EVENTS, variables(tree.acme.id)))["auditEvents"]["totalCount"] > 0
    member = await sign_in(tree["acme.member"].email)
    assert await member.error_code(EVENTS, variables(tree.acme.id)) == "FORBIDDEN"


async def test_filters(tree, sign_in):
    acme_owner = await make_history(tree, sign_in)
    actor = gid("User", tree["acme.owner"].user.id)
    by_actor = (await acme_owner.data(EVENTS, variables(tree.acme.id, actor=actor)))["auditEvents"]
    assert by_actor["totalCount"] >= 1
    assert {n["actorLabel"] for n in by_actor["nodes"]} == {tree["acme.owner"].email}
    target = tree["acme.member"].membership_id
    by_target = (await acme_owner.data(EVENTS, variables(tree.acme.id, target=target)))[
        "auditEvents"
    ]
    assert [n["action"] for n in by_target["nodes"]] == ["member.role_changed"]
    later = (clock.now() + timedelta(minutes=1)).isoformat()
    assert (await acme_owner.data(EVENTS, variables(tree.acme.id, since=later)))["auditEvents"][
        "totalCount"
    ] == 0


async def test_csv_export_is_guarded_like_the_query(tree, sign_in, http):
    acme_owner = await make_history(tree, sign_in)
    url = f"/audit/export.csv?organisationId={gid('Organisation', tree.acme.id)}&action=member."
    response = await http.get(url, headers={"authorization": f"Bearer {acme_owner.token}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["action"] for r in rows] == ["member.role_changed"]
    assert rows[0]["actor"] == tree["acme.owner"].email
    # Ids are the global ids node(id:) takes, as in `details`.
    details = json.loads(rows[0]["details"])
    assert rows[0]["actor_id"] == gid("User", tree["acme.owner"].user.id) == details["actor"]["id"]
    assert rows[0]["organisation_id"] == gid("Organisation", tree.acme.id)
    assert rows[0]["target_id"] == tree["acme.member"].membership_id == details["target"]["id"]
    event = await AuditEvent.get(action="member.role_changed")
    assert rows[0]["id"] == gid("AuditEvent", event.id) and rows[0]["api_token_id"] == ""

    foreign = f"/audit/export.csv?organisationId={gid('Organisation', tree.globex.id)}"
    assert (
        await http.get(foreign, headers={"authorization": f"Bearer {acme_owner.token}"})
    ).status_code == 404
    assert (await http.get(url)).status_code == 401
    member = await sign_in(tree["acme.member"].email)
    assert (
        await http.get(url, headers={"authorization": f"Bearer {member.token}"})
    ).status_code == 403
    bad = url + "&since=yesterday"
    assert (
        await http.get(bad, headers={"authorization": f"Bearer {acme_owner.token}"})
    ).status_code == 400


async def test_csv_cells_never_become_formulas(tree, sign_in, http):
    owner = await sign_in(tree["acme.owner"].email)
    await owner.ok(
        'mutation($id: ID!) { updateOrganisation(input: {organisationId: $id, name: "=HYPERLINK(1)"}) '
        "{ errors { code } } }",
        {"id": gid("Organisation", tree.acme.id)},
    )
    url = f"/audit/export.csv?organisationId={gid('Organisation', tree.acme.id)}"
    text = (await http.get(url, headers={"authorization": f"Bearer {owner.token}"})).text
    assert "'=HYPERLINK(1)" in text


async def test_prune_removes_only_old_events(tree, sign_in):
    await make_history(tree, sign_in)
    before = await AuditEvent.all().count()
    clock.advance(timedelta(days=30))
    owner = await sign_in(tree["acme.owner"].email)
    await owner.ok(CHANGE_ROLE, {"id": tree["acme.member"].membership_id, "role": "MEMBER"})
    assert await prune(older_than_days=10) == before
    assert [e.action for e in await AuditEvent.all()] == ["auth.login", "member.role_changed"]


def test_prune_command_exists() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "prune-audit", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "--days" in result.stdout
