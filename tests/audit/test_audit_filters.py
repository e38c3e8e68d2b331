"""The audit list's person filters (`actorId`, a person as `targetId`), its order,
and a reseller's view of its customers: who may be named, and the answer for
anyone else."""

from __future__ import annotations

from tests.audit.test_audit import CHANGE_ROLE, EVENTS, make_history, variables
from tests.helpers.fixtures import gid

ORDERED = """
query($org: ID!, $desc: Boolean!, $order: AuditOrder!, $actor: ID, $target: ID) {
  auditEvents(organisationId: $org, includeDescendants: $desc, order: $order, actorId: $actor,
              targetId: $target) {
    nodes { action createdAt actorLabel organisation { name } }
  }
}"""
CREATE_CUSTOMER = """mutation($parent: ID!) {
  createOrganisation(input: {parentId: $parent, name: "Initech"}) { errors { code } } }"""


async def test_a_person_as_target_lists_the_events_about_their_memberships_too(tree, sign_in):
    acme_owner = await make_history(tree, sign_in)
    member = gid("User", tree["acme.member"].user.id)
    about = (await acme_owner.data(EVENTS, variables(tree.acme.id, target=member)))["auditEvents"]
    # The role change's target is the membership; the person is its subject.
    assert "member.role_changed" in [n["action"] for n in about["nodes"]]
    assert all(n["details"]["subject"]["id"] == member for n in about["nodes"])
    # A member who acted in no event: an empty list, not an error.
    admin = gid("User", tree["acme.admin"].user.id)
    by_admin = (await acme_owner.data(EVENTS, variables(tree.acme.id, actor=admin)))["auditEvents"]
    assert by_admin["totalCount"] == 0


async def test_an_unknown_or_foreign_person_is_not_found(tree, sign_in):
    acme_owner = await make_history(tree, sign_in)
    for argument in ("actor", "target"):
        for person in (
            gid("User", 999_999),  # nobody
            gid("User", tree["globex.owner"].user.id),  # someone of another customer
        ):
            body = await acme_owner(EVENTS, variables(tree.acme.id, **{argument: person}))
            [error] = body["errors"]
            assert error["extensions"]["code"] == "NOT_FOUND", error
            assert error["message"] == "Person not found.", error
            assert body["data"] is None
    # Not a person's id at all, or not an id.
    for actor in (gid("Organisation", tree.acme.id), "nonsense"):
        code = await acme_owner.error_code(EVENTS, variables(tree.acme.id, actor=actor))
        assert code == "NOT_FOUND"


async def test_the_csv_refuses_an_unknown_person_like_the_list(tree, sign_in, http):
    acme_owner = await make_history(tree, sign_in)
    url = (
        f"/audit/export.csv?organisationId={gid('Organisation', tree.acme.id)}"
        f"&actorId={gid('User', tree['globex.owner'].user.id)}"
    )
    response = await http.get(url, headers={"authorization": f"Bearer {acme_owner.token}"})
    assert response.status_code == 404 and response.text == "Person not found."


async def test_newest_first_unless_asked_otherwise(tree, sign_in):
    acme_owner = await make_history(tree, sign_in)
    await acme_owner.ok(CHANGE_ROLE, {"id": tree["acme.member"].membership_id, "role": "MEMBER"})
    args = {"org": gid("Organisation", tree.acme.id), "desc": False}
    newest = (await acme_owner.data(ORDERED, {**args, "order": "NEWEST_FIRST"}))["auditEvents"]
    oldest = (await acme_owner.data(ORDERED, {**args, "order": "OLDEST_FIRST"}))["auditEvents"]
    default = (await acme_owner.data(EVENTS, variables(tree.acme.id)))["auditEvents"]
    assert [n["action"] for n in newest["nodes"]] == [n["action"] for n in default["nodes"]]
    assert newest["nodes"] == list(reversed(oldest["nodes"]))
    stamps = [n["createdAt"] for n in newest["nodes"]]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) >= 3


async def test_a_reseller_names_its_customers_people_and_sees_a_new_customer(tree, sign_in):
    await make_history(tree, sign_in)
    reseller = await sign_in(tree["reseller.owner"].email)
    await reseller.ok(CREATE_CUSTOMER, {"parent": gid("Organisation", tree.reseller.id)})
    below = {"org": gid("Organisation", tree.reseller.id), "desc": True, "order": "NEWEST_FIRST"}
    events = (await reseller.data(ORDERED, below))["auditEvents"]["nodes"]
    # The new customer's creation is at the top, with the customers' own events.
    assert (events[0]["action"], events[0]["organisation"]["name"]) == (
        "organisation.created",
        "Initech",
    )
    assert {"Acme", "Globex", "Initech"} <= {n["organisation"]["name"] for n in events}
    # A customer's person may be named with descendants; the reseller's own list
    # (narrowed to itself) does not know them.
    acme_owner = gid("User", tree["acme.owner"].user.id)
    by_acme_owner = (await reseller.data(ORDERED, {**below, "actor": acme_owner}))["auditEvents"]
    assert by_acme_owner["nodes"]
    assert {n["organisation"]["name"] for n in by_acme_owner["nodes"]} == {"Acme"}
    narrowed = {**below, "desc": False, "actor": acme_owner}
    assert await reseller.error_code(ORDERED, narrowed) == "NOT_FOUND"
    # The reseller's own people in its own list.
    own = (
        await reseller.data(
            ORDERED, {**narrowed, "actor": gid("User", tree["reseller.owner"].user.id)}
        )
    )["auditEvents"]["nodes"]
    assert {n["organisation"]["name"] for n in own} == {"Reseller"}
