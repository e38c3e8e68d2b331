"""Demo tickets for `frontdesk seed-demo`: the customers' tickets, answered by
the reseller's support desk (member@northwind gets ACCOUNT ticket access)."""

from __future__ import annotations

from datetime import timedelta

from server.accounts.models import Membership, User
from server.core import clock
from server.core.permissions import TicketAccess
from server.tenancy.models import Organisation
from server.tickets.models import Ticket, TicketComment, TicketKind, TicketPriority, TicketStatus
from server.tickets.service import next_number

DESK = "member@northwind.example.com"

# (organisation, reporter, kind, priority, status, subject, description, [(author, comment)])
DEMO_TICKETS = [
    ("Acme Ltd", "alice@acme.example.com", TicketKind.INCIDENT, TicketPriority.HIGH,
     TicketStatus.IN_PROGRESS, "Desk phone shows 'No service'",
     "Since this morning my desk phone (ext. 201) shows 'No service'.",
     [(DESK, "Thanks Alice, we are looking at the provisioning server now.")]),
    ("Acme Ltd", "bob@acme.example.com", TicketKind.REQUEST, TicketPriority.NORMAL,
     TicketStatus.NEW, "Extension for a new starter",
     "Please set up an extension for Dana, who starts on Monday.", []),
    ("Acme Ltd", "admin@acme.example.com", TicketKind.REQUEST, TicketPriority.LOW,
     TicketStatus.RESOLVED, "Change the reception greeting",
     "New opening hours from next month: 8:00 to 18:00.",
     [(DESK, "Done: the new greeting is live."), ("admin@acme.example.com", "Sounds great.")]),
    ("Globex GmbH", "carol@globex.example.com", TicketKind.INCIDENT, TicketPriority.URGENT,
     TicketStatus.WAITING_ON_CUSTOMER, "Voicemail to email stopped",
     "Voicemails no longer arrive by email since yesterday.",
     [(DESK, "Which address should receive them? The one on file bounces.")]),
]  # fmt: skip


async def seed(organisations: dict[str, Organisation]) -> None:
    desk = await User.get(email=DESK)
    await Membership.filter(user_id=desk.id).update(ticket_access=TicketAccess.ACCOUNT)
    start = clock.now() - timedelta(days=3)
    for index, (name, reporter, kind, priority, status, subject, text, comments) in enumerate(
        DEMO_TICKETS
    ):
        organisation = organisations[name]
        created = start + timedelta(hours=5 * index)
        ticket = await Ticket.create(
            organisation=organisation,
            number=await next_number(organisation.id),
            kind=kind,
            priority=priority,
            status=status,
            subject=subject,
            description=text,
            reporter=await User.get(email=reporter),
            created_at=created,
            updated_at=created,
            resolved_at=created if status is TicketStatus.RESOLVED else None,
        )
        for offset, (author, body) in enumerate(comments, start=1):
            await TicketComment.create(
                organisation=organisation,
                ticket=ticket,
                author=await User.get(email=author),
                body=body,
                created_at=created + timedelta(minutes=30 * offset),
            )
