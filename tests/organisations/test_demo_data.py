"""`frontdesk seed-demo` fills contacts, tickets, extensions and calls that obey
the same rules as the API (numbering continues, forwarding points at real
extensions, the support desk sees its customers' tickets)."""

from __future__ import annotations

from server.contacts.models import Contact
from server.seed import seed_demo
from server.telephony.models import CallRecord, Extension, ForwardingRule
from server.tenancy.models import Organisation
from server.tickets.models import Ticket
from tests.helpers.fixtures import gid

DEMO_PASSWORD = "a demo passphrase for tests"
TICKETS = """
query($org: ID!) { tickets(organisationId: $org, includeDescendants: true) { nodes { number subject } } }"""
CREATE = """
mutation($org: ID!) {
  createTicket(input: {organisationId: $org, type: REQUEST, subject: "One more"}) {
    ticket { number } errors { code }
  }
}"""
OWN = "{ ownExtensions { nodes { number forwardingRules { destination } } } ownCallRecords { totalCount } }"


async def test_demo_data(sign_in):
    assert await seed_demo(DEMO_PASSWORD)
    assert await Contact.all().count() == 5
    assert await Extension.all().count() == 6
    assert await CallRecord.all().count() == 24
    numbers = {e.number for e in await Extension.all()}
    assert {r.destination for r in await ForwardingRule.all()} - numbers == {"+44 7700 900123"}
    acme = await Organisation.get(name="Acme Ltd")
    northwind = await Organisation.get(name="Northwind Hosting")
    numbered = (
        await Ticket.filter(organisation=acme).order_by("number").values_list("number", flat=True)
    )
    assert numbered == [1, 2, 3]

    desk = await sign_in("member@northwind.example.com", DEMO_PASSWORD)
    seen = await desk.data(TICKETS, {"org": gid("Organisation", northwind.id)})
    assert len(seen["tickets"]["nodes"]) == 4
    alice = await sign_in("alice@acme.example.com", DEMO_PASSWORD)
    raised = await alice.ok(CREATE, {"org": gid("Organisation", acme.id)})
    assert raised["ticket"]["number"] == 4
    own = await alice.data(OWN)
    assert own["ownExtensions"]["nodes"][0]["number"] == "201"
    assert own["ownCallRecords"]["totalCount"] == 4
    assert not await seed_demo(DEMO_PASSWORD)  # idempotent
    assert await Contact.all().count() == 5
