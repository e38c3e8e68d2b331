"""No N+1 in the contact, ticket, extension and call lists: a page of 5 costs
the same number of SQL statements as a page of 50, nested fields included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from server.contacts.models import Contact
from server.core import clock
from server.core.permissions import Role
from server.telephony.models import (
    CallDirection,
    CallRecord,
    Extension,
    ForwardingCondition,
    ForwardingRule,
)
from server.tickets.models import Ticket, TicketComment, TicketKind
from tests.core.test_queries_count import StatementLog
from tests.helpers.fixtures import add_person, gid

TICKETS = """
query($org: ID!, $first: Int!) {
  tickets(organisationId: $org, includeDescendants: true, first: $first) {
    totalCount
    nodes {
      number reporterName reporter { email } organisation { name }
      comments { body authorName author { email } }
    }
  }
}"""
EXTENSIONS = """
query($org: ID!, $first: Int!) {
  extensions(organisationId: $org, first: $first) {
    totalCount
    nodes { number organisation { name } member { role user { email } } forwardingRules { destination } }
  }
}"""
CALLS = """
query($org: ID!, $first: Int!) {
  callRecords(organisationId: $org, first: $first) {
    totalCount nodes { remoteNumber recording { format } extension { number member { id } } }
  }
}"""
CONTACTS = """
query($org: ID!, $first: Int!) {
  contacts(organisationId: $org, first: $first) {
    totalCount nodes { lastName organisation { name } user { email } }
  }
}"""


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatementLog]:
    log = StatementLog()
    log.install(monkeypatch)
    yield log


@pytest.fixture
async def busy_acme(tree):  # type: ignore[no-untyped-def]
    """60 people in Acme, each with a ticket (with comments), an extension
    (with a rule), a call and a contact linked to them."""
    now = clock.now()
    for i in range(60):
        person = await add_person(tree.acme, f"person{i:02d}@example.com", Role.MEMBER)
        ticket = await Ticket.create(
            organisation=tree.acme,
            number=i + 1,
            kind=TicketKind.INCIDENT,
            subject=f"ticket {i}",
            reporter=person.user,
            created_at=now,
            updated_at=now,
        )
        for author in (person.user, tree["acme.admin"].user):
            await TicketComment.create(
                organisation=tree.acme, ticket=ticket, author=author, body="x", created_at=now
            )
        extension = await Extension.create(
            organisation=tree.acme, number=f"{100 + i}", membership=person.membership
        )
        await ForwardingRule.create(
            organisation=tree.acme,
            extension=extension,
            condition=ForwardingCondition.BUSY,
            destination="+44 20 7946 0000",
        )
        await CallRecord.create(
            organisation=tree.acme,
            extension=extension,
            membership=person.membership,
            started_at=now - timedelta(minutes=i),
            direction=CallDirection.INBOUND,
            remote_number="+44 20 7946 0999",
        )
        await Contact.create(organisation=tree.acme, last_name=f"C{i}", user=person.user)
    return tree


@pytest.mark.parametrize("query", [TICKETS, EXTENSIONS, CALLS, CONTACTS])
async def test_lists_cost_the_same_for_5_and_50_rows(busy_acme, sign_in, statements, query):
    admin = await sign_in(busy_acme["acme.admin"].email)
    org = gid("Organisation", busy_acme.acme.id)
    await admin.data(query, {"org": org, "first": 1})  # warm-up: parser and validation caches
    counts = {}
    for first in (5, 50):
        async with statements.recording_one_request():
            data = await admin.data(query, {"org": org, "first": first})
        [connection] = data.values()
        assert len(connection["nodes"]) == first and connection["totalCount"] == 60
        counts[first] = len(statements.statements)
    assert counts[5] == counts[50], counts
