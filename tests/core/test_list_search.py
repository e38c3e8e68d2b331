"""The other searchable lists behave like members(search:) (members/test_member_search.py):
contacts, tickets and the organisations list match any part of what they show,
ignoring case and accents, several words in any order, best matches first."""

from __future__ import annotations

from server.audit import service as audit
from server.organisations import service as organisations
from server.tenancy.models import OrganisationKind
from tests.contacts.test_contacts import CREATE as CREATE_CONTACT
from tests.contacts.test_contacts import DELETE as DELETE_CONTACT
from tests.contacts.test_contacts import UPDATE as UPDATE_CONTACT
from tests.helpers.fixtures import GraphQLClient, gid
from tests.tickets.test_tickets import CREATE as CREATE_TICKET
from tests.tickets.test_tickets import TICKETS

CONTACTS = """
query($org: ID!, $search: String) {
  contacts(organisationId: $org, search: $search) { totalCount nodes { lastName } }
}"""
ORGANISATIONS = """
query($search: String) { organisations(search: $search) { totalCount nodes { name } } }"""


async def _contacts(client: GraphQLClient, org: str, search: str) -> list[str]:
    data = await client.data(CONTACTS, {"org": org, "search": search})
    assert data["contacts"]["totalCount"] == len(data["contacts"]["nodes"])
    return [node["lastName"] for node in data["contacts"]["nodes"]]


async def test_contacts(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    created = await admin.ok(
        CREATE_CONTACT,
        {
            "input": {
                "organisationId": org,
                "firstName": "Zoë",
                "lastName": "Ångström",
                "title": "Head of Billing",
                "email": "zoe@supplier.example",
                "mobilePhone": "+49 30 1234567",
            }
        },
    )
    contact_id = created["contact"]["id"]
    await admin.ok(CREATE_CONTACT, {"input": {"organisationId": org, "lastName": "Angstrom"}})
    # The whole name first ("Angstrom"), then a name ending with it ("Zoë Ångström").
    for search in ("angstrom", "ÅNGSTRÖM"):
        assert await _contacts(admin, org, search) == ["Angstrom", "Ångström"], search
    assert await _contacts(admin, org, "ngströ") == ["Ångström", "Angstrom"]  # by id
    assert await _contacts(admin, org, "billing head") == ["Ångström"]
    assert await _contacts(admin, org, "zoe angstrom") == ["Ångström"]
    assert await _contacts(admin, org, "301234567") == ["Ångström"]
    assert await _contacts(admin, org, "supplier.ex") == ["Ångström"]
    # Found by the new text after an edit, gone after a delete.
    await admin.ok(UPDATE_CONTACT, {"input": {"contactId": contact_id, "lastName": "Berg"}})
    assert await _contacts(admin, org, "ngströ") == ["Angstrom"]
    assert await _contacts(admin, org, "berg") == ["Berg"]
    await admin.ok(DELETE_CONTACT, {"id": contact_id})
    assert await _contacts(admin, org, "berg") == []
    await admin.ok(CREATE_CONTACT, {"input": {"organisationId": org, "lastName": "Other"}})
    assert await _contacts(admin, org, "berg") == []
    # Another organisation's admin finds nothing here (the list itself is refused).
    globex = await sign_in(tree["globex.admin"].email)
    body = await globex(CONTACTS, {"org": org, "search": "angstrom"})
    assert body["data"] is None or body["data"]["contacts"] is None
    assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")


async def _subjects(client: GraphQLClient, org: str, search: str) -> list[str]:
    data = await client.data(TICKETS, {"org": org, "search": search})
    return [node["subject"] for node in data["tickets"]["nodes"]]


async def test_tickets(tree, sign_in):
    org = gid("Organisation", tree.acme.id)
    admin = await sign_in(tree["acme.admin"].email)
    member = await sign_in(tree["acme.member"].email)
    await admin.ok(
        CREATE_TICKET,
        {"org": org, "subject": "Téléphone broken", "description": "The déskphone is dead"},
    )
    await member.ok(CREATE_TICKET, {"org": org, "subject": "Printer jam"})
    await admin.ok(CREATE_TICKET, {"org": org, "subject": "Telephone"})
    # The exact subject first, then by number.
    assert await _subjects(admin, org, "telephone") == ["Telephone", "Téléphone broken"]
    assert await _subjects(admin, org, "DESKPHONE") == ["Téléphone broken"]
    assert await _subjects(admin, org, "broken phone") == ["Téléphone broken"]
    assert await _subjects(admin, org, "#2") == ["Printer jam"]
    assert await _subjects(admin, org, "acme jam") == ["Printer jam"]  # organisation's name
    # A member with OWN access finds only their own tickets.
    assert await _subjects(member, org, "acme") == ["Printer jam"]
    assert await _subjects(member, org, "phone") == []


async def test_organisations(tree, sign_in):
    # Created worst first: the order comes from the rank, not the ids.
    for name in ("Northacme", "Acme Labs"):
        await organisations.create_child(
            actor=None, parent=tree.reseller, name=name, kind=OrganisationKind.CUSTOMER
        )
    admin = await sign_in(tree["reseller.admin"].email)

    async def names(search: str) -> list[str]:
        data = await admin.data(ORGANISATIONS, {"search": search})
        return [node["name"] for node in data["organisations"]["nodes"]]

    assert await names("acme") == ["Acme", "Acme Labs", "Northacme"]
    assert await names("LABS ACM") == ["Acme Labs"]
    assert await names("glöbex") == ["Globex"]
    assert await names("provider") == []  # above the reseller: not visible


AUDIT = """
query($org: ID!, $search: String) {
  auditEvents(organisationId: $org, search: $search) { totalCount nodes { action actorLabel targetLabel } }
}"""
CHANGE_ROLE = """
mutation($id: ID!) { changeRole(input: {membershipId: $id, role: VIEWER}) { errors { code } } }"""


async def test_audit_events(tree, sign_in, http):
    admin = await sign_in(tree["acme.admin"].email)
    await admin.ok(CHANGE_ROLE, {"id": tree["acme.member"].membership_id})
    org = gid("Organisation", tree.acme.id)

    async def found(search: str) -> list[tuple[str, str]]:
        data = await admin.data(AUDIT, {"org": org, "search": search})
        return [(n["action"], n["targetLabel"]) for n in data["auditEvents"]["nodes"]]

    changed = [("member.role_changed", "member@acme.example.com")]
    assert await found("MEMBER@acme role_chang") == changed
    assert await found("role_changed admin@acme") == changed  # the actor, any order
    assert await found("globex") == []
    response = await http.get(
        "/audit/export.csv",
        params={"organisationId": org, "search": "role_changed"},
        headers={"authorization": f"Bearer {admin.token}"},
    )
    assert response.status_code == 200
    assert len(response.text.strip().splitlines()) == 2  # the header and the one event
    # A deleted person's name leaves the trail's labels, and the search with it.
    await audit.pseudonymise_user(tree["acme.member"].user.id)
    assert await found("member@acme") == []
