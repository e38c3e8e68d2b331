"""Phone extensions over HTTP: numbers, assignment (moving), a member's own
extension (do-not-disturb, forwarding) against an admin's, forwarding-rule
validation, call records and recording deletion under the restriction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.accounts.models import Membership, MembershipStatus
from server.audit.models import AuditEvent
from server.core import clock
from server.core.permissions import Role
from server.telephony.models import CallRecord, Extension, ForwardingRule
from tests.helpers.audit import own_details
from tests.helpers.fixtures import GraphQLClient, add_person, gid

CREATE = """
mutation($org: ID!, $number: String!, $label: String, $member: ID) {
  createExtension(input: {organisationId: $org, number: $number, label: $label, membershipId: $member}) {
    extension { id number label doNotDisturb member { id user { email } } forwardingRules { condition } }
    errors { field code message }
  }
}"""
UPDATE = """
mutation($input: UpdateExtensionInput!) {
  updateExtension(input: $input) { extension { number label } errors { field code message } }
}"""
ASSIGN = """
mutation($id: ID!, $member: ID) {
  assignExtension(input: {extensionId: $id, membershipId: $member}) {
    extension { number member { id } } errors { field code message }
  }
}"""
DELETE = """
mutation($id: ID!) { deleteExtension(input: {extensionId: $id}) { deletedExtensionId errors { code } } }"""
DND = """
mutation($id: ID!, $on: Boolean!) {
  setDoNotDisturb(input: {extensionId: $id, enabled: $on}) {
    extension { number doNotDisturb } errors { field code message }
  }
}"""
FORWARD = """
mutation($id: ID!, $rules: [ForwardingRuleInput!]!) {
  setForwardingRules(input: {extensionId: $id, rules: $rules}) {
    extension { forwardingRules { condition destination ringSeconds internal } }
    errors { field code message }
  }
}"""
EXTENSIONS = """
query($org: ID!, $search: String, $assigned: Boolean) {
  extensions(organisationId: $org, search: $search, assigned: $assigned) {
    totalCount nodes { number label member { user { email } } }
  }
}"""
OWN = "{ ownExtensions { totalCount nodes { id number doNotDisturb organisation { name } } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Extension { number } ... on CallRecord { remoteNumber } } }"
ADD_CALL = """
mutation($input: AddCallRecordInput!) {
  addCallRecord(input: $input) {
    callRecord { id direction remoteNumber durationSeconds recording { format durationSeconds sizeBytes }
                 extension { number } }
    errors { field code message }
  }
}"""
CALLS = """
query($org: ID!, $ext: ID, $rec: Boolean) {
  callRecords(organisationId: $org, extensionId: $ext, withRecording: $rec) {
    totalCount nodes { id remoteNumber }
  }
}"""
OWN_CALLS = "{ ownCallRecords { totalCount nodes { id remoteNumber recording { format } } } }"
DELETE_RECORDING = """
mutation($id: ID!) {
  deleteRecording(input: {callRecordId: $id}) {
    callRecord { recording { format } recordingDeletedAt } errors { field code message }
  }
}"""


async def new_extension(
    admin: GraphQLClient, org_id: int, number: str, member: str | None = None
) -> dict:
    payload = await admin.ok(
        CREATE,
        {
            "org": gid("Organisation", org_id),
            "number": number,
            "label": f"Ext {number}",
            "member": member,
        },
    )
    return payload["extension"]


@pytest.fixture
async def phones(tree, sign_in):  # type: ignore[no-untyped-def]
    """Acme: 200 (reception, nobody), 201 (the member), 202 (a second member); Globex: 300."""
    admin = await sign_in(tree["acme.admin"].email)
    second = await add_person(tree.acme, "second@acme.example.com", Role.MEMBER)
    result = {
        "admin": admin,
        "second": second,
        "200": await new_extension(admin, tree.acme.id, "200"),
        "201": await new_extension(admin, tree.acme.id, "201", tree["acme.member"].membership_id),
        "202": await new_extension(admin, tree.acme.id, "202", second.membership_id),
    }
    globex = await sign_in(tree["globex.admin"].email)
    result["300"] = await new_extension(globex, tree.globex.id, "300")
    return result


def rules(*specs: tuple) -> list[dict]:
    return [
        {"condition": c, "destination": d, **({"ringSeconds": s[0]} if s else {})}
        for c, d, *s in specs
    ]


async def test_admin_creates_lists_and_assigns(tree, sign_in, phones):
    assert phones["201"]["member"]["user"]["email"] == tree["acme.member"].email
    admin = phones["admin"]
    org = gid("Organisation", tree.acme.id)
    listed = (await admin.data(EXTENSIONS, {"org": org}))["extensions"]
    assert [n["number"] for n in listed["nodes"]] == ["200", "201", "202"]
    free = await admin.data(EXTENSIONS, {"org": org, "assigned": False})
    assert [n["number"] for n in free["extensions"]["nodes"]] == ["200"]
    found = await admin.data(EXTENSIONS, {"org": org, "search": "20"})
    assert found["extensions"]["totalCount"] == 3
    event = await AuditEvent.filter(action="extension.assigned").order_by("id").first()
    member = tree["acme.member"]
    assert own_details(event.details) == {
        "before": {"member": None},
        "after": {
            "member": {
                "id": member.membership_id,
                "name": "Member Test",
                "personId": gid("User", member.user.id),
            }
        },
    }


async def test_assigning_moves_the_extension(tree, phones):
    admin = phones["admin"]
    member = tree["acme.member"].membership_id
    moved = await admin.ok(ASSIGN, {"id": phones["200"]["id"], "member": member})
    assert moved["extension"]["member"]["id"] == member
    assert (await Extension.get(number="201", organisation_id=tree.acme.id)).membership_id is None
    assert await Extension.filter(membership_id=tree["acme.member"].membership.id).count() == 1
    unassigned = await admin.ok(ASSIGN, {"id": phones["200"]["id"], "member": None})
    assert unassigned["extension"]["member"] is None
    actions = (
        await AuditEvent.filter(action__startswith="extension.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == ["extension.unassigned", "extension.assigned", "extension.unassigned"]


async def test_invited_members_get_an_extension_at_once_disabled_ones_none(tree, phones):
    admin = phones["admin"]
    disabled = await add_person(
        tree.acme, "disabled@acme.example.com", Role.MEMBER, status=MembershipStatus.DISABLED
    )
    body = await admin(ASSIGN, {"id": phones["200"]["id"], "member": disabled.membership_id})
    [error] = body["data"]["assignExtension"]["errors"]
    assert (error["field"], error["code"]) == ("membershipId", "CANNOT_SIGN_IN")
    foreign = tree["globex.member"].membership_id
    assert await admin.refused(ASSIGN, {"id": phones["200"]["id"], "member": foreign}) == [
        "NOT_FOUND"
    ]
    bad = gid("Contact", 1)
    assert await admin.refused(ASSIGN, {"id": phones["200"]["id"], "member": bad}) == ["NOT_FOUND"]
    assert (await Extension.get(number="200", organisation_id=tree.acme.id)).membership_id is None

    # Someone just invited, who has no password yet (Click2Call's Add User form).
    invited = await admin.ok(
        """mutation($o: ID!) { inviteUser(input: {organisationId: $o, email: "new@acme.example.com",
           role: MEMBER}) { invitation { membership { id } } errors { code } } }""",
        {"o": gid("Organisation", tree.acme.id)},
    )
    member = invited["invitation"]["membership"]["id"]
    assigned = await admin.ok(ASSIGN, {"id": phones["200"]["id"], "member": member})
    assert assigned["extension"]["member"]["id"] == member


@pytest.mark.parametrize(
    ("number", "code"),
    [("", "REQUIRED"), ("1", "INVALID"), ("123456789", "INVALID"), ("20a", "INVALID"),
     ("+200", "INVALID"), ("٢٠٠", "INVALID"), ("2\x000", "INVALID"), ("201", "NUMBER_TAKEN")],
)  # fmt: skip
async def test_bad_extension_numbers_change_nothing(tree, phones, number, code):
    admin = phones["admin"]
    body = await admin(CREATE, {"org": gid("Organisation", tree.acme.id), "number": number})
    [error] = body["data"]["createExtension"]["errors"]
    assert (error["field"], error["code"]) == ("number", code)
    update = {"input": {"extensionId": phones["200"]["id"], "number": number}}
    if code != "NUMBER_TAKEN":
        assert await admin.refused(UPDATE, update) == [code]
    assert await Extension.filter(organisation_id=tree.acme.id).count() == 3
    assert await Extension.filter(number="200", organisation_id=tree.acme.id).exists()


async def test_numbers_are_unique_per_organisation_only(tree, sign_in, phones):
    globex = await sign_in(tree["globex.admin"].email)
    await new_extension(globex, tree.globex.id, "201")  # Acme has a 201 too
    admin = phones["admin"]
    renumber = {"input": {"extensionId": phones["200"]["id"], "number": "202"}}
    assert await admin.refused(UPDATE, renumber) == ["NUMBER_TAKEN"]


async def test_member_sees_and_changes_only_their_own_extension(tree, sign_in, phones):
    member = await sign_in(tree["acme.member"].email)
    own = (await member.data(OWN))["ownExtensions"]
    assert [n["number"] for n in own["nodes"]] == ["201"]
    assert await member.error_code(EXTENSIONS, {"org": gid("Organisation", tree.acme.id)}) == (
        "FORBIDDEN"
    )
    assert (await member.data(NODE, {"id": phones["202"]["id"]}))["node"] is None
    assert (await member.data(NODE, {"id": phones["201"]["id"]}))["node"] == {"number": "201"}

    changed = await member.ok(DND, {"id": phones["201"]["id"], "on": True})
    assert changed["extension"]["doNotDisturb"] is True
    event = await AuditEvent.get(action="extension.do_not_disturb_changed")
    assert own_details(event.details) == {
        "before": {"doNotDisturb": False},
        "after": {"doNotDisturb": True},
    }
    assert event.actor_label == tree["acme.member"].email

    # Another member's extension is out of reach: NOT_FOUND, nothing changes.
    other = phones["202"]["id"]
    assert await member.refused(DND, {"id": other, "on": True}) == ["NOT_FOUND"]
    assert await member.refused(FORWARD, {"id": other, "rules": rules(("ALWAYS", "201"))}) == [
        "NOT_FOUND"
    ]
    assert not (await Extension.get(number="202", organisation_id=tree.acme.id)).do_not_disturb
    assert await ForwardingRule.all().count() == 0
    # Administration is not theirs.
    assert await member.error_code(ASSIGN, {"id": phones["201"]["id"], "member": None}) == (
        "FORBIDDEN"
    )
    code = await member.error_code(
        CREATE, {"org": gid("Organisation", tree.acme.id), "number": "299"}
    )
    assert code == "FORBIDDEN"


async def test_admin_changes_any_extensions_dnd_viewer_and_sibling_cannot(tree, sign_in, phones):
    admin = phones["admin"]
    await admin.ok(DND, {"id": phones["202"]["id"], "on": True})
    await admin.ok(DND, {"id": phones["201"]["id"], "on": True})
    member = await sign_in(tree["acme.member"].email)
    assert (await member.data(OWN))["ownExtensions"]["nodes"][0]["doNotDisturb"] is True
    await member.ok(DND, {"id": phones["201"]["id"], "on": False})

    viewer = await sign_in((await add_person(tree.acme, "v@acme.example.com", Role.VIEWER)).email)
    org = gid("Organisation", tree.acme.id)
    assert (await viewer.data(EXTENSIONS, {"org": org}))["extensions"]["totalCount"] == 3
    assert await viewer.error_code(DND, {"id": phones["202"]["id"], "on": False}) == "FORBIDDEN"
    sibling = await sign_in(tree["globex.admin"].email)
    assert await sibling.refused(DND, {"id": phones["202"]["id"], "on": False}) == ["NOT_FOUND"]
    assert await sibling.error_code(EXTENSIONS, {"org": org}) == "NOT_FOUND"
    # The reseller's admins administer their customers' phones.
    reseller = await sign_in(tree["reseller.admin"].email)
    await reseller.ok(DND, {"id": phones["202"]["id"], "on": False})
    states = dict(
        await Extension.filter(organisation_id=tree.acme.id).values_list("number", "do_not_disturb")
    )
    assert states == {"200": False, "201": False, "202": False}


async def test_forwarding_rules_are_replaced_as_a_set(tree, sign_in, phones):
    member = await sign_in(tree["acme.member"].email)
    payload = await member.ok(
        FORWARD,
        {
            "id": phones["201"]["id"],
            "rules": rules(
                ("NO_ANSWER", "200", 25), ("UNAVAILABLE", "+44 7700 900123"), ("BUSY", "202")
            ),
        },
    )
    assert payload["extension"]["forwardingRules"] == [
        {"condition": "NO_ANSWER", "destination": "200", "ringSeconds": 25, "internal": True},
        {
            "condition": "UNAVAILABLE",
            "destination": "+44 7700 900123",
            "ringSeconds": 20,
            "internal": False,
        },
        {"condition": "BUSY", "destination": "202", "ringSeconds": 20, "internal": True},
    ]
    event = await AuditEvent.get(action="extension.forwarding_changed")
    assert event.details["before"] == [] and len(event.details["after"]) == 3
    cleared = await member.ok(FORWARD, {"id": phones["201"]["id"], "rules": []})
    assert cleared["extension"]["forwardingRules"] == []
    assert await ForwardingRule.all().count() == 0


@pytest.mark.parametrize(
    ("specs", "field", "code"),
    [
        ((("ALWAYS", "201"),), "rules[0].destination", "FORWARDING_LOOP"),
        ((("BUSY", "200"), ("NO_ANSWER", "201")), "rules[1].destination", "FORWARDING_LOOP"),
        ((("ALWAYS", "299"),), "rules[0].destination", "UNKNOWN_EXTENSION"),
        ((("ALWAYS", "300"),), "rules[0].destination", "UNKNOWN_EXTENSION"),  # Globex's
        ((("ALWAYS", "call bob"),), "rules[0].destination", "INVALID_PHONE"),
        ((("ALWAYS", "+44 12"),), "rules[0].destination", "INVALID_PHONE"),
        ((("ALWAYS", "+44 20 7946 0000 1234 5678"),), "rules[0].destination", "INVALID_PHONE"),
        ((("ALWAYS", "200\x00"),), "rules[0].destination", "INVALID_PHONE"),
        ((("ALWAYS", "1"),), "rules[0].destination", "INVALID"),
        ((("ALWAYS", ""),), "rules[0].destination", "REQUIRED"),
        ((("BUSY", "200"), ("BUSY", "202")), "rules[1].condition", "INVALID"),
        ((("NO_ANSWER", "200", 0),), "rules[0].ringSeconds", "INVALID"),
        ((("NO_ANSWER", "200", 121),), "rules[0].ringSeconds", "INVALID"),
        ((("NO_ANSWER", "200", -5),), "rules[0].ringSeconds", "INVALID"),
    ],
)
async def test_forwarding_rule_validation_changes_nothing(
    tree, sign_in, phones, specs, field, code
):
    member = await sign_in(tree["acme.member"].email)
    existing = rules(("UNAVAILABLE", "+44 7700 900123"))
    await member.ok(FORWARD, {"id": phones["201"]["id"], "rules": existing})
    body = await member(FORWARD, {"id": phones["201"]["id"], "rules": rules(*specs)})
    [error] = body["data"]["setForwardingRules"]["errors"]
    assert (error["field"], error["code"]) == (field, code), error
    assert error["message"]
    stored = await ForwardingRule.all().values_list("condition", "destination")
    assert [(c.value, d) for c, d in stored] == [("UNAVAILABLE", "+44 7700 900123")]
    assert await AuditEvent.filter(action="extension.forwarding_changed").count() == 1


async def test_forwarding_loops_through_other_extensions_are_refused(tree, phones):
    admin = phones["admin"]
    await admin.ok(FORWARD, {"id": phones["200"]["id"], "rules": rules(("ALWAYS", "202"))})
    await admin.ok(FORWARD, {"id": phones["202"]["id"], "rules": rules(("ALWAYS", "201"))})
    # 201 → 200 → 202 → 201: a loop, whatever the condition on 201's side.
    for condition in ("ALWAYS", "NO_ANSWER"):
        refused = await admin.refused(
            FORWARD, {"id": phones["201"]["id"], "rules": rules((condition, "200"))}
        )
        assert refused == ["FORWARDING_LOOP"]
    # Conditional forwarding elsewhere does not make a loop.
    await admin.ok(FORWARD, {"id": phones["202"]["id"], "rules": rules(("BUSY", "201"))})
    await admin.ok(FORWARD, {"id": phones["201"]["id"], "rules": rules(("ALWAYS", "200"))})


async def test_renumbering_and_deleting_keep_forwarding_consistent(tree, phones):
    admin = phones["admin"]
    await admin.ok(FORWARD, {"id": phones["201"]["id"], "rules": rules(("NO_ANSWER", "200"))})
    await admin.ok(FORWARD, {"id": phones["202"]["id"], "rules": rules(("BUSY", "200"))})
    renamed = await admin.ok(
        UPDATE, {"input": {"extensionId": phones["200"]["id"], "number": "210", "label": "Front"}}
    )
    assert renamed["extension"] == {"number": "210", "label": "Front"}
    assert sorted(await ForwardingRule.all().values_list("destination", flat=True)) == [
        "210",
        "210",
    ]
    await admin.ok(DELETE, {"id": phones["200"]["id"]})
    assert await ForwardingRule.all().count() == 0
    event = await AuditEvent.get(action="extension.deleted")
    assert event.details["forwardingRulesRemoved"] == 2


async def add_call(admin: GraphQLClient, extension: dict, **values) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "extensionId": extension["id"],
        "startedAt": (clock.now() - timedelta(hours=1)).isoformat(),
        "direction": "INBOUND",
        "remoteNumber": "+44 20 7946 0999",
        "durationSeconds": 90,
        **values,
    }
    return (await admin.ok(ADD_CALL, {"input": data}))["callRecord"]


RECORDING = {"format": "MP3", "durationSeconds": 60, "sizeBytes": 960_000}


async def test_call_records_belong_to_the_member_of_the_moment(tree, sign_in, phones):
    admin = phones["admin"]
    mine = await add_call(admin, phones["201"], recording=RECORDING)
    assert mine["recording"] == RECORDING and mine["extension"] == {"number": "201"}
    theirs = await add_call(admin, phones["202"], remoteNumber="201")
    member = await sign_in(tree["acme.member"].email)
    own = (await member.data(OWN_CALLS))["ownCallRecords"]
    assert [n["id"] for n in own["nodes"]] == [mine["id"]]
    assert (await member.data(NODE, {"id": theirs["id"]}))["node"] is None
    org = gid("Organisation", tree.acme.id)
    assert await member.error_code(CALLS, {"org": org}) == "FORBIDDEN"
    every = (await admin.data(CALLS, {"org": org}))["callRecords"]
    assert every["totalCount"] == 2
    recorded = await admin.data(CALLS, {"org": org, "rec": True})
    assert [n["id"] for n in recorded["callRecords"]["nodes"]] == [mine["id"]]
    only_202 = await admin.data(CALLS, {"org": org, "ext": phones["202"]["id"]})
    assert [n["id"] for n in only_202["callRecords"]["nodes"]] == [theirs["id"]]
    # The extension moves to the second member: the old calls stay the member's.
    await admin.ok(ASSIGN, {"id": phones["201"]["id"], "member": phones["second"].membership_id})
    assert [n["id"] for n in (await member.data(OWN_CALLS))["ownCallRecords"]["nodes"]] == [
        mine["id"]
    ]
    second = await sign_in(phones["second"].email)
    assert [n["id"] for n in (await second.data(OWN_CALLS))["ownCallRecords"]["nodes"]] == [
        theirs["id"]
    ]


async def test_recording_deletion_and_the_restriction(tree, sign_in, phones):
    admin = phones["admin"]
    mine = await add_call(admin, phones["201"], recording=RECORDING)
    second = await add_call(admin, phones["201"], recording=RECORDING)
    other = await add_call(admin, phones["202"], recording=RECORDING)
    await Membership.filter(id=tree["acme.member"].membership.id).update(
        restrict_recording_deletion=True
    )
    member = await sign_in(tree["acme.member"].email)
    body = await member(DELETE_RECORDING, {"id": mine["id"]})
    [error] = body["data"]["deleteRecording"]["errors"]
    assert (error["field"], error["code"]) == ("callRecordId", "RECORDING_DELETION_RESTRICTED")
    assert "restricted" in error["message"]
    assert await CallRecord.filter(recording_format__isnull=False).count() == 3
    assert not await AuditEvent.filter(action="recording.deleted").exists()

    await Membership.filter(id=tree["acme.member"].membership.id).update(
        restrict_recording_deletion=False
    )
    deleted = await member.ok(DELETE_RECORDING, {"id": mine["id"]})
    assert deleted["callRecord"]["recording"] is None
    assert deleted["callRecord"]["recordingDeletedAt"] is not None
    assert await member.refused(DELETE_RECORDING, {"id": mine["id"]}) == ["INVALID_STATE"]
    assert await member.refused(DELETE_RECORDING, {"id": other["id"]}) == ["NOT_FOUND"]
    event = await AuditEvent.get(action="recording.deleted")
    assert event.details["before"] == {"format": "MP3", "durationSeconds": 60, "sizeBytes": 960000}

    viewer = await sign_in((await add_person(tree.acme, "v@acme.example.com", Role.VIEWER)).email)
    assert await viewer.error_code(DELETE_RECORDING, {"id": other["id"]}) == "FORBIDDEN"
    # An admin deletes anyone's recording, unless restricted too.
    await Membership.filter(id=tree["acme.admin"].membership.id).update(
        restrict_recording_deletion=True
    )
    assert await admin.refused(DELETE_RECORDING, {"id": other["id"]}) == [
        "RECORDING_DELETION_RESTRICTED"
    ]
    await Membership.filter(id=tree["acme.admin"].membership.id).update(
        restrict_recording_deletion=False
    )
    await admin.ok(DELETE_RECORDING, {"id": other["id"]})
    assert await CallRecord.filter(recording_format__isnull=False).count() == 1
    assert await CallRecord.all().count() == 3
    sibling = await sign_in(tree["globex.admin"].email)
    assert await sibling.refused(DELETE_RECORDING, {"id": second["id"]}) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"durationSeconds": -1}, "durationSeconds", "INVALID"),
        ({"durationSeconds": 86_401}, "durationSeconds", "INVALID"),
        ({"remoteNumber": ""}, "remoteNumber", "REQUIRED"),
        ({"remoteNumber": "anonymous"}, "remoteNumber", "INVALID_PHONE"),
        ({"remoteNumber": "+44\r\n20"}, "remoteNumber", "INVALID_PHONE"),
        ({"startedAt": "2099-01-01T00:00:00+00:00"}, "startedAt", "INVALID"),
        ({"startedAt": "1970-01-01T00:00:00+00:00"}, "startedAt", "INVALID"),
        (
            {"recording": {**RECORDING, "durationSeconds": 91}},
            "recording.durationSeconds",
            "INVALID",
        ),
        ({"recording": {**RECORDING, "sizeBytes": -1}}, "recording.sizeBytes", "INVALID"),
    ],
)
async def test_bad_call_records_change_nothing(tree, phones, values, field, code):
    admin = phones["admin"]
    data = {
        "extensionId": phones["201"]["id"],
        "startedAt": (clock.now() - timedelta(hours=1)).isoformat(),
        "direction": "OUTBOUND",
        "remoteNumber": "+44 20 7946 0999",
        "durationSeconds": 90,
        **values,
    }
    body = await admin(ADD_CALL, {"input": data})
    [error] = body["data"]["addCallRecord"]["errors"]
    assert (error["field"], error["code"]) == (field, code)
    assert await CallRecord.all().count() == 0


async def test_only_administrators_add_call_records(tree, sign_in, phones):
    member = await sign_in(tree["acme.member"].email)
    data = {
        "extensionId": phones["201"]["id"],
        "startedAt": clock.now().isoformat(),
        "direction": "INBOUND",
        "remoteNumber": "200",
        "durationSeconds": 5,
    }
    assert await member.error_code(ADD_CALL, {"input": data}) == "FORBIDDEN"
    sibling = await sign_in(tree["globex.admin"].email)
    assert await sibling.refused(ADD_CALL, {"input": data}) == ["NOT_FOUND"]
    assert await CallRecord.all().count() == 0
