from __future__ import annotations

from enum import Enum

import strawberry
from tortoise import fields
from tortoise.models import Model

from server.accounts.models import User
from server.core.visibility import ThroughParent, TicketRule, viewable
from server.tenancy.models import Organisation


@strawberry.enum(description="An incident (something is broken) or a request (please do this).")
class TicketKind(Enum):
    INCIDENT = "INCIDENT"
    REQUEST = "REQUEST"


@strawberry.enum
class TicketPriority(Enum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"


@strawberry.enum(
    description="NEW → IN_PROGRESS → WAITING_ON_CUSTOMER → RESOLVED → CLOSED; "
    "a RESOLVED ticket may be reopened (IN_PROGRESS)."
)
class TicketStatus(Enum):
    NEW = "NEW"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING_ON_CUSTOMER = "WAITING_ON_CUSTOMER"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


@strawberry.enum(description="The order of a ticket list.")
class TicketOrder(Enum):
    NEWEST_FIRST = strawberry.enum_value("NEWEST_FIRST", description="Raised last first.")
    OLDEST_FIRST = strawberry.enum_value("OLDEST_FIRST", description="Raised earliest first.")
    LAST_UPDATED = strawberry.enum_value(
        "LAST_UPDATED", description="Changed, answered or moved most recently first."
    )
    STATUS = strawberry.enum_value(
        "STATUS", description="In workflow order (NEW first, CLOSED last), newest first within one."
    )


class TicketCounter(Model):
    """The last ticket number of an organisation. Raising a ticket increments
    it with one UPDATE inside the ticket's transaction: the row lock (or
    SQLite's single writer) hands out numbers without gaps or duplicates."""

    id = fields.IntField(primary_key=True)
    organisation: fields.OneToOneRelation[Organisation] = fields.OneToOneField(
        "models.Organisation", related_name="ticket_counter", on_delete=fields.CASCADE
    )
    last_number = fields.IntField(default=0)

    organisation_id: int

    class Meta:
        table = "ticket_counter"


@viewable(TicketRule())
class Ticket(Model):
    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="tickets", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    kind = fields.CharEnumField(TicketKind, max_length=16)
    priority = fields.CharEnumField(TicketPriority, max_length=16, default=TicketPriority.NORMAL)
    subject = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    status = fields.CharEnumField(TicketStatus, max_length=24, default=TicketStatus.NEW)
    # Kept when the person is deleted (null then): the ticket belongs to the organisation.
    reporter: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reported_tickets", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    organisation_id: int
    reporter_id: int | None

    class Meta:
        table = "ticket"
        unique_together = (("organisation", "number"),)
        indexes = (("organisation_id", "status"), ("organisation_id", "reporter_id"))

    @property
    def label(self) -> str:
        return f"#{self.number} {self.subject}"[:254]


@viewable(ThroughParent(lambda: Ticket, "ticket_id"))
class TicketComment(Model):
    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="ticket_comments", on_delete=fields.CASCADE
    )
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="comments", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="ticket_comments", null=True, on_delete=fields.SET_NULL
    )
    body = fields.TextField()
    created_at = fields.DatetimeField()

    organisation_id: int
    ticket_id: int
    author_id: int | None

    class Meta:
        table = "ticket_comment"
        indexes = (("ticket_id", "id"),)
