"""Support tickets over HTTP: who sees what (OWN / ACCOUNT / ADMIN / an ancestor's
support desk / a sibling), numbering under concurrency, the workflow, mails to
the reporter, ticket-access administration and bad input."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from server.accounts.models import Membership
from server.audit.models import AuditEvent
from server.core import clock
from server.core.permissions import Role, TicketAccess
from server.mail.models import OutboxMail
from server.tickets.models import Ticket, TicketComment, TicketStatus
from tests.helpers.audit import own_details
from tests.helpers.fixtures import GraphQLClient, add_person, gid

CREATE = """
mutation($org: ID!, $subject: String!, $description: String, $type: TicketKind! = INCIDENT,
         $priority: TicketPriority! = NORMAL) {
  createTicket(input: {organisationId: $org, type: $type, subject: $subject,
                       description: $description, priority: $priority}) {
    ticket { id number type priority status subject reporterName reporter { email } }
    errors { field code message }
  }
}"""
TICKETS = """
query($org: ID!, $desc: Boolean! = false, $status: TicketStatus, $type: TicketKind,
      $priority: TicketPriority, $reporter: ID, $search: String, $first: Int, $after: String) {
  tickets(organisationId: $org, includeDescendants: $desc, status: $status, type: $type,
          priority: $priority, reporterId: $reporter, search: $search, first: $first,
          after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id number subject organisation { name } }
  }
}"""
TICKET = "query($id: ID!) { ticket(id: $id) { subject comments { body authorName } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Ticket { subject } } }"
UPDATE = """
mutation($input: UpdateTicketInput!) {
  updateTicket(input: $input) { ticket { subject description priority type } errors { field code message } }
}"""
STATUS = """
mutation($id: ID!, $status: TicketStatus!) {
  changeTicketStatus(input: {ticketId: $id, status: $status}) {
    ticket { status resolvedAt closedAt } errors { field code message }
  }
}"""
COMMENT = """
mutation($id: ID!, $body: String!) {
  addTicketComment(input: {ticketId: $id, body: $body}) {
    comment { id body authorName } ticket { id } errors { field code message }
  }
}"""
SET_ACCESS = """
mutation($id: ID!, $access: TicketAccess!) {
  setTicketAccess(input: {membershipId: $id, ticketAccess: $access}) {
    membership { ticketAccess } errors { field code message }
  }
}"""


async def raise_ticket(client: GraphQLClient, org_id: int, subject: str, **extra: str) -> dict:
    payload = await client.ok(
        CREATE, {"org": gid("Organisation", org_id), "subject": subject, **extra}
    )
    return payload["ticket"]


async def set_access(person, access: TicketAccess) -> None:  # type: ignore[no-untyped-def]
    await Membership.filter(id=person.membership.id).update(ticket_access=access)


async def subjects(client: GraphQLClient, org_id: int, **variables) -> set[str]:  # type: ignore[no-untyped-def]
    data = await client.data(TICKETS, {"org": gid("Organisation", org_id), **variables})
    return {n["subject"] for n in data["tickets"]["nodes"]}


@pytest.fixture
async def acme_tickets(tree, sign_in):  # type: ignore[no-untyped-def]
    """Three Acme tickets: the member's, a colleague's and the admin's; one of Globex."""
    colleague = await add_person(tree.acme, "colleague@acme.example.com", Role.MEMBER)
    tickets = {
        "member": await raise_ticket(
            await sign_in(tree["acme.member"].email), tree.acme.id, "mine"
        ),
        "colleague": await raise_ticket(
            await sign_in(colleague.email), tree.acme.id, "colleague's"
        ),
        "admin": await raise_ticket(
            await sign_in(tree["acme.admin"].email), tree.acme.id, "admin's"
        ),
        "globex": await raise_ticket(
            await sign_in(tree["globex.member"].email), tree.globex.id, "globex"
        ),
    }
    return tickets


async def test_raising_numbers_and_reports(tree, sign_in, acme_tickets):
    assert [acme_tickets[k]["number"] for k in ("member", "colleague", "admin")] == [1, 2, 3]
    assert acme_tickets["globex"]["number"] == 1  # numbered per organisation
    mine = acme_tickets["member"]
    assert mine["status"] == "NEW" and mine["type"] == "INCIDENT" and mine["priority"] == "NORMAL"
    assert mine["reporter"]["email"] == tree["acme.member"].email
    assert mine["reporterName"] == "Member Test"
    event = await AuditEvent.filter(action="ticket.created").order_by("id").first()
    assert event.organisation_id == tree.acme.id
    assert event.details["after"]["subject"] == "mine"


async def test_own_access_sees_and_touches_only_own_tickets(tree, sign_in, acme_tickets):
    member = await sign_in(tree["acme.member"].email)
    assert await subjects(member, tree.acme.id) == {"mine"}
    other = acme_tickets["colleague"]["id"]
    assert (await member.data(TICKET, {"id": other}))["ticket"] is None
    assert (await member.data(NODE, {"id": other}))["node"] is None
    assert (await member.data(NODE, {"id": acme_tickets["member"]["id"]}))["node"]
    update = {"ticketId": other, "subject": "hijacked"}
    assert await member.refused(UPDATE, {"input": update}) == ["NOT_FOUND"]
    assert await member.refused(COMMENT, {"id": other, "body": "hi"}) == ["NOT_FOUND"]
    assert await member.refused(STATUS, {"id": other, "status": "IN_PROGRESS"}) == ["NOT_FOUND"]
    assert await Ticket.filter(subject="hijacked").count() == 0
    assert await TicketComment.all().count() == 0


async def test_account_and_admin_access_see_every_ticket_of_the_organisation(
    tree, sign_in, acme_tickets
):
    everything = {"mine", "colleague's", "admin's"}
    admin = await sign_in(tree["acme.admin"].email)
    assert await subjects(admin, tree.acme.id) == everything
    await set_access(tree["acme.member"], TicketAccess.ACCOUNT)
    member = await sign_in(tree["acme.member"].email)
    assert await subjects(member, tree.acme.id) == everything
    colleague = acme_tickets["colleague"]["id"]
    await member.ok(COMMENT, {"id": colleague, "body": "I have this too."})
    # Acme has nothing below it: Globex's ticket stays out of reach.
    assert await subjects(member, tree.acme.id, desc=True) == everything


async def test_ancestor_support_desk_sees_and_answers_descendants(
    tree, sign_in, acme_tickets, smtp_server
):
    for key in ("reseller.member", "provider.member"):
        await set_access(tree[key], TicketAccess.ACCOUNT)
        desk = await sign_in(tree[key].email)
        assert await subjects(desk, tree.acme.id) == {"mine", "colleague's", "admin's"}
        assert await subjects(desk, tree.globex.id) == {"globex"}
        under = await subjects(desk, tree.reseller.id, desc=True)
        assert under == {"mine", "colleague's", "admin's", "globex"}
        assert (await desk.data(NODE, {"id": acme_tickets["member"]["id"]}))["node"]
    desk = await sign_in(tree["reseller.member"].email)
    payload = await desk.ok(COMMENT, {"id": acme_tickets["member"]["id"], "body": "On it."})
    assert payload["comment"]["authorName"] == "Member Test"
    moved = await desk.ok(STATUS, {"id": acme_tickets["member"]["id"], "status": "IN_PROGRESS"})
    assert moved["ticket"]["status"] == "IN_PROGRESS"
    mails = await smtp_server.deliver()
    assert sorted(m["To"] for m in mails) == [tree["acme.member"].email] * 2
    # The desk raises tickets for the customer, too (numbering continues there).
    raised = await raise_ticket(desk, tree.acme.id, "raised by the desk")
    assert raised["number"] == 4


async def test_desk_member_without_account_access_sees_nothing_below(tree, sign_in, acme_tickets):
    desk = await sign_in(tree["reseller.member"].email)  # OWN access by default
    assert await desk.error_code(TICKETS, {"org": gid("Organisation", tree.acme.id)}) == (
        "NOT_FOUND"
    )
    assert await subjects(desk, tree.reseller.id, desc=True) == set()
    assert (await desk.data(NODE, {"id": acme_tickets["member"]["id"]}))["node"] is None
    refused = await desk.refused(COMMENT, {"id": acme_tickets["member"]["id"], "body": "x"})
    assert refused == ["NOT_FOUND"]


async def test_sibling_organisation_sees_nothing(tree, sign_in, acme_tickets):
    for key in ("globex.owner", "globex.admin", "globex.member"):
        sibling = await sign_in(tree[key].email)
        code = await sibling.error_code(TICKETS, {"org": gid("Organisation", tree.acme.id)})
        assert code == "NOT_FOUND"
        for ticket in ("member", "admin"):
            ticket_id = acme_tickets[ticket]["id"]
            assert (await sibling.data(TICKET, {"id": ticket_id}))["ticket"] is None
            assert (await sibling.data(NODE, {"id": ticket_id}))["node"] is None
            assert await sibling.refused(COMMENT, {"id": ticket_id, "body": "x"}) == ["NOT_FOUND"]
            assert await sibling.refused(STATUS, {"id": ticket_id, "status": "IN_PROGRESS"}) == [
                "NOT_FOUND"
            ]
        refused = await sibling.refused(
            CREATE, {"org": gid("Organisation", tree.acme.id), "subject": "x"}
        )
        assert refused == ["NOT_FOUND"]
    assert await Ticket.filter(organisation_id=tree.acme.id).count() == 3
    assert await TicketComment.all().count() == 0


async def test_no_ticket_access_is_forbidden(tree, sign_in, acme_tickets):
    viewer = await add_person(tree.acme, "viewer@acme.example.com", Role.VIEWER)  # NONE
    client = await sign_in(viewer.email)
    assert await client.error_code(TICKETS, {"org": gid("Organisation", tree.acme.id)}) == (
        "FORBIDDEN"
    )
    code = await client.error_code(
        CREATE, {"org": gid("Organisation", tree.acme.id), "subject": "x"}
    )
    assert code == "FORBIDDEN"
    assert await Ticket.filter(organisation_id=tree.acme.id).count() == 3


async def test_concurrent_creation_numbers_without_gaps_or_duplicates(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    other = await sign_in(tree["globex.member"].email)
    org, other_org = gid("Organisation", tree.acme.id), gid("Organisation", tree.globex.id)
    calls = [member(CREATE, {"org": org, "subject": f"acme {i}"}) for i in range(12)]
    calls += [other(CREATE, {"org": other_org, "subject": f"globex {i}"}) for i in range(4)]
    results = await asyncio.gather(*calls)
    assert all(r["data"]["createTicket"]["errors"] == [] for r in results), results
    acme = sorted(
        await Ticket.filter(organisation_id=tree.acme.id).values_list("number", flat=True)
    )
    assert acme == list(range(1, 13))
    globex = await Ticket.filter(organisation_id=tree.globex.id).values_list("number", flat=True)
    assert sorted(globex) == [1, 2, 3, 4]


async def test_workflow_and_invalid_transitions(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    admin = await sign_in(tree["acme.admin"].email)
    ticket = (await raise_ticket(member, tree.acme.id, "broken"))["id"]

    async def move(client: GraphQLClient, status: str) -> dict:
        return (await client.ok(STATUS, {"id": ticket, "status": status}))["ticket"]

    # The reporter (OWN) cannot take the desk's steps.
    assert await member.refused(STATUS, {"id": ticket, "status": "IN_PROGRESS"}) == [
        "OUT_OF_SCOPE_PERMISSION"
    ]
    assert (await move(admin, "IN_PROGRESS"))["status"] == "IN_PROGRESS"
    body = await admin(STATUS, {"id": ticket, "status": "CLOSED"})
    [error] = body["data"]["changeTicketStatus"]["errors"]
    assert error["code"] == "INVALID_TRANSITION" and error["field"] == "status"
    assert "IN_PROGRESS ticket cannot become CLOSED" in error["message"]
    assert await admin.refused(STATUS, {"id": ticket, "status": "NEW"}) == ["INVALID_TRANSITION"]
    await move(admin, "WAITING_ON_CUSTOMER")
    await move(member, "IN_PROGRESS")  # the customer answers
    resolved = await move(admin, "RESOLVED")
    assert resolved["resolvedAt"] is not None
    reopened = await move(member, "IN_PROGRESS")  # reopen
    assert reopened["resolvedAt"] is None
    await move(admin, "RESOLVED")
    closed = await move(member, "CLOSED")
    assert closed["closedAt"] is not None
    for status in ("IN_PROGRESS", "RESOLVED", "NEW"):
        assert await admin.refused(STATUS, {"id": ticket, "status": status}) == [
            "INVALID_TRANSITION"
        ]
    assert await member.refused(COMMENT, {"id": ticket, "body": "hello?"}) == ["INVALID_STATE"]
    refused = await admin.refused(UPDATE, {"input": {"ticketId": ticket, "subject": "x"}})
    assert refused == ["INVALID_STATE"]
    history = await AuditEvent.filter(action="ticket.status_changed").order_by("id")
    assert [e.details["after"]["status"] for e in history] == [
        "IN_PROGRESS",
        "WAITING_ON_CUSTOMER",
        "IN_PROGRESS",
        "RESOLVED",
        "IN_PROGRESS",
        "RESOLVED",
        "CLOSED",
    ]


async def test_reporter_is_mailed_about_others_comments_and_status_changes(
    tree, sign_in, smtp_server
):
    member = await sign_in(tree["acme.member"].email)
    admin = await sign_in(tree["acme.admin"].email)
    ticket = (await raise_ticket(member, tree.acme.id, "Phone <b>dead</b>"))["id"]
    await member.ok(COMMENT, {"id": ticket, "body": "More detail from me."})
    assert await smtp_server.deliver() == []  # the reporter's own words: no mail

    await admin.ok(COMMENT, {"id": ticket, "body": "Try turning it off\nand on again."})
    [message] = await smtp_server.deliver()
    assert message["To"] == tree["acme.member"].email
    assert message["Subject"] == "Ticket #1: new reply - Phone <b>dead</b>"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Hello Member Test," in text and "because you reported ticket #1 at Acme" in text
    assert "Admin Test answered" in text and "> Try turning it off\n> and on again." in text
    [link] = smtp_server.links_in(message)
    assert link == f"https://portal.example.test/admin/tickets/{ticket}"
    html = message.get_body(("html",)).get_content()
    assert "&lt;b&gt;dead&lt;/b&gt;" in html and "<b>dead</b>" not in html

    await admin.ok(STATUS, {"id": ticket, "status": "IN_PROGRESS"})
    [message] = await smtp_server.deliver()
    assert message["Subject"] == "Ticket #1 is now in progress - Phone <b>dead</b>"
    assert "from new to in progress" in message.get_body(("plain",)).get_content()

    # A reporter's own status change sends nothing.
    await admin.ok(STATUS, {"id": ticket, "status": "RESOLVED"})
    await smtp_server.deliver()
    await member.ok(STATUS, {"id": ticket, "status": "CLOSED"})
    assert await smtp_server.deliver() == []


async def test_filters_search_and_pages(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    member = await sign_in(tree["acme.member"].email)
    await raise_ticket(member, tree.acme.id, "Printer jam", type="INCIDENT", priority="HIGH")
    await raise_ticket(member, tree.acme.id, "New headset", type="REQUEST", priority="LOW")
    await raise_ticket(admin, tree.acme.id, "Printer toner", type="REQUEST", priority="HIGH")
    assert await subjects(admin, tree.acme.id, type="REQUEST") == {"New headset", "Printer toner"}
    assert await subjects(admin, tree.acme.id, priority="HIGH") == {"Printer jam", "Printer toner"}
    assert await subjects(admin, tree.acme.id, search="printer") == {"Printer jam", "Printer toner"}
    assert await subjects(admin, tree.acme.id, search="#2") == {"New headset"}
    reporter = gid("User", tree["acme.member"].user.id)
    assert await subjects(admin, tree.acme.id, reporter=reporter) == {"Printer jam", "New headset"}
    assert await subjects(admin, tree.acme.id, status="RESOLVED") == set()
    page = await admin.data(TICKETS, {"org": gid("Organisation", tree.acme.id), "first": 2})
    assert page["tickets"]["totalCount"] == 3 and page["tickets"]["pageInfo"]["hasNextPage"]
    rest = await admin.data(
        TICKETS,
        {
            "org": gid("Organisation", tree.acme.id),
            "after": page["tickets"]["pageInfo"]["endCursor"],
        },
    )
    assert [n["number"] for n in rest["tickets"]["nodes"]] == [1]  # newest first


async def test_update_by_reporter_and_comments_listed(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    ticket = (await raise_ticket(member, tree.acme.id, "Slow line"))["id"]
    payload = await member.ok(
        UPDATE,
        {
            "input": {
                "ticketId": ticket,
                "description": "Since Monday.\nEvery call.",
                "priority": "URGENT",
                "type": "REQUEST",
            }
        },
    )
    assert payload["ticket"]["description"] == "Since Monday.\nEvery call."
    assert payload["ticket"]["priority"] == "URGENT" and payload["ticket"]["subject"] == "Slow line"
    event = await AuditEvent.get(action="ticket.updated")
    assert event.details["before"] == {"description": "", "priority": "NORMAL", "type": "INCIDENT"}
    assert event.details["after"]["type"] == "REQUEST" and payload["ticket"]["type"] == "REQUEST"
    await member.ok(COMMENT, {"id": ticket, "body": "first"})
    await (await sign_in(tree["acme.admin"].email)).ok(COMMENT, {"id": ticket, "body": "second"})
    data = await member.data(TICKET, {"id": ticket})
    assert [(c["body"], c["authorName"]) for c in data["ticket"]["comments"]] == [
        ("first", "Member Test"),
        ("second", "Admin Test"),
    ]


@pytest.mark.parametrize(
    ("variables", "field", "code"),
    [
        ({"subject": ""}, "subject", "REQUIRED"),
        ({"subject": "   "}, "subject", "REQUIRED"),
        ({"subject": "x" * 201}, "subject", "TOO_LONG"),
        ({"subject": "bad\x00byte"}, "subject", "INVALID"),
        ({"subject": "line\nbreak"}, "subject", "INVALID"),
        ({"subject": "ok", "description": "nul\x00"}, "description", "INVALID"),
        ({"subject": "ok", "description": "x" * 10_001}, "description", "TOO_LONG"),
    ],
)
async def test_bad_ticket_input_changes_nothing(tree, sign_in, variables, field, code):
    member = await sign_in(tree["acme.member"].email)
    body = await member(CREATE, {"org": gid("Organisation", tree.acme.id), **variables})
    [error] = body["data"]["createTicket"]["errors"]
    assert (error["field"], error["code"]) == (field, code)
    assert await Ticket.all().count() == 0
    assert not await AuditEvent.filter(action__startswith="ticket.").exists()


async def test_bad_comment_update_and_ids_change_nothing(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    ticket = (await raise_ticket(member, tree.acme.id, "keep"))["id"]
    for body, code in [("", "REQUIRED"), ("\x07bell", "INVALID"), ("x" * 10_001, "TOO_LONG")]:
        assert await member.refused(COMMENT, {"id": ticket, "body": body}) == [code]
    for update, code in [
        ({"subject": ""}, "REQUIRED"),
        ({"subject": None}, "REQUIRED"),
        ({"priority": None}, "REQUIRED"),
        ({"type": None}, "REQUIRED"),
        ({"subject": "a\tb"}, "INVALID"),
    ]:
        assert await member.refused(UPDATE, {"input": {"ticketId": ticket, **update}}) == [code]
    for bad_id in ["nonsense", gid("Ticket", 999), gid("Membership", 1), gid("Ticket", 2**40)]:
        assert await member.refused(COMMENT, {"id": bad_id, "body": "x"}) == ["NOT_FOUND"]
        assert (await member.data(TICKET, {"id": bad_id}))["ticket"] is None
    bad_org = {"org": gid("Organisation", 999), "subject": "x"}
    assert await member.refused(CREATE, bad_org) == ["NOT_FOUND"]
    code = await member.error_code(
        TICKETS, {"org": gid("Organisation", tree.acme.id), "search": "\x00"}
    )
    assert code == "INVALID"
    assert (await Ticket.get()).subject == "keep"
    assert await TicketComment.all().count() == 0
    assert await AuditEvent.filter(action__startswith="ticket.").count() == 1


async def test_ticket_admin_sets_ticket_access_behind_step_up(tree, sign_in):
    # A MEMBER with ADMIN ticket access administers others' ticket access.
    await set_access(tree["acme.member"], TicketAccess.ADMIN)
    colleague = await add_person(tree.acme, "colleague@acme.example.com", Role.MEMBER)
    ticket_admin = await sign_in(tree["acme.member"].email)
    payload = await ticket_admin.ok(
        SET_ACCESS, {"id": colleague.membership_id, "access": "ACCOUNT"}
    )
    assert payload["membership"]["ticketAccess"] == "ACCOUNT"
    event = await AuditEvent.get(action="member.feature_access_changed")
    assert own_details(event.details) == {
        "before": {"ticketAccess": "OWN"},
        "after": {"ticketAccess": "ACCOUNT"},
    }
    # Not above their rank, and not without ADMIN ticket access.
    refused = await ticket_admin.refused(
        SET_ACCESS, {"id": tree["acme.admin"].membership_id, "access": "NONE"}
    )
    assert refused == ["HIGHER_ROLE"]
    plain = await sign_in(colleague.email)
    refused = await plain.refused(
        SET_ACCESS, {"id": tree["acme.member"].membership_id, "access": "NONE"}
    )
    assert refused == ["OUT_OF_SCOPE_PERMISSION"]
    # Another organisation's member is out of reach.
    refused = await ticket_admin.refused(
        SET_ACCESS, {"id": tree["globex.member"].membership_id, "access": "ACCOUNT"}
    )
    assert refused == ["NOT_FOUND"]
    # Step-up: an old sign-in must re-authenticate first.
    clock.advance(timedelta(minutes=10))
    code = await ticket_admin.error_code(
        SET_ACCESS, {"id": colleague.membership_id, "access": "OWN"}
    )
    assert code == "REAUTH_REQUIRED"
    membership = await Membership.get(id=colleague.membership.id)
    assert membership.ticket_access is TicketAccess.ACCOUNT


async def test_reporter_deleted_keeps_the_ticket(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    ticket = (await raise_ticket(member, tree.acme.id, "orphan"))["id"]
    await tree["acme.member"].user.delete()
    admin = await sign_in(tree["acme.admin"].email)
    data = await admin.data(
        "query($id: ID!) { ticket(id: $id) { reporterName reporter { email } } }", {"id": ticket}
    )
    assert data["ticket"] == {"reporterName": "Deleted user", "reporter": None}
    assert (await Ticket.get()).status is TicketStatus.NEW
    assert await OutboxMail.all().count() == 0


ALLOWED = "query($id: ID!) { ticket(id: $id) { status allowedStatuses } }"
# (status, what the reporter with OWN access may choose, what the desk may choose)
STATUS_PICKER = [
    ("NEW", [], ["IN_PROGRESS", "WAITING_ON_CUSTOMER", "RESOLVED"]),
    ("IN_PROGRESS", [], ["WAITING_ON_CUSTOMER", "RESOLVED"]),
    ("WAITING_ON_CUSTOMER", ["IN_PROGRESS"], ["IN_PROGRESS", "RESOLVED"]),
    ("RESOLVED", ["IN_PROGRESS", "CLOSED"], ["IN_PROGRESS", "CLOSED"]),
    ("CLOSED", [], []),
]


async def test_allowed_statuses_offer_exactly_what_change_ticket_status_accepts(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    admin = await sign_in(tree["acme.admin"].email)
    ticket = (await raise_ticket(member, tree.acme.id, "status picker"))["id"]
    for status, reporter_may, desk_may in STATUS_PICKER:
        await Ticket.filter(number=1, organisation_id=tree.acme.id).update(
            status=TicketStatus(status)
        )
        for client, expected in ((member, reporter_may), (admin, desk_may)):
            shown = (await client.data(ALLOWED, {"id": ticket}))["ticket"]
            assert shown == {"status": status, "allowedStatuses": expected}
            # Every other choice is refused and changes nothing.
            for other in TicketStatus:
                if other.value not in expected:
                    assert await client.refused(STATUS, {"id": ticket, "status": other.value})
                    assert (
                        await Ticket.get(number=1, organisation_id=tree.acme.id)
                    ).status.value == status
    # Each offered choice is accepted (from WAITING_ON_CUSTOMER, the reporter's one).
    await Ticket.filter(number=1, organisation_id=tree.acme.id).update(
        status=TicketStatus.WAITING_ON_CUSTOMER
    )
    moved = await member.ok(STATUS, {"id": ticket, "status": "IN_PROGRESS"})
    assert moved["ticket"]["status"] == "IN_PROGRESS"
