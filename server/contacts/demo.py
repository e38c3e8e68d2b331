"""Demo contact persons for `frontdesk seed-demo`."""

from __future__ import annotations

from server.contacts.models import Contact, ContactKind
from server.tenancy.models import Organisation

# (organisation, kind, first, last, title, email, office phone, notes)
DEMO_CONTACTS = [
    ("Acme Ltd", ContactKind.BILLING, "Beatrice", "Penny", "Accounts payable",
     "accounts@acme.example.com", "+44 20 7946 0101", "Invoices by email only."),
    ("Acme Ltd", ContactKind.TECHNICAL, "Tom", "Wires", "IT manager",
     "it@acme.example.com", "+44 20 7946 0102", "On call weekdays 8-18."),
    ("Acme Ltd", ContactKind.CONTRACTUAL, "Clara", "Signet", "Managing director",
     "", "+44 20 7946 0100", ""),
    ("Globex GmbH", ContactKind.TECHNICAL, "Hank", "Scorpio", "Head of operations",
     "ops@globex.example.com", "+49 30 901820", ""),
    ("Northwind Hosting", ContactKind.GENERAL, "Nora", "West", "Partner manager",
     "partners@northwind.example.com", "+44 161 496 0000", "Escalations go to Nora."),
]  # fmt: skip


async def seed(organisations: dict[str, Organisation]) -> None:
    for name, kind, first, last, title, email, phone, notes in DEMO_CONTACTS:
        await Contact.create(
            organisation=organisations[name],
            kind=kind,
            first_name=first,
            last_name=last,
            title=title,
            email=email,
            office_phone=phone,
            notes=notes,
        )
