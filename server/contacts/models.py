from __future__ import annotations

from enum import Enum

import strawberry
from tortoise import fields
from tortoise.models import Model

from server.accounts.models import User
from server.core.permissions import Permission
from server.core.visibility import WithPermission, viewable
from server.tenancy.models import Organisation


@strawberry.enum(description="What a contact person is the organisation's contact for.")
class ContactKind(Enum):
    BILLING = "BILLING"
    TECHNICAL = "TECHNICAL"
    CONTRACTUAL = "CONTRACTUAL"
    GENERAL = "GENERAL"


@viewable(WithPermission(Permission.CONTACTS_VIEW))
class Contact(Model):
    """A contact person of an organisation. Contacts never sign in: there is
    no credential here. Inviting one creates a user (linked in `user`)."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="contacts", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(ContactKind, max_length=16, default=ContactKind.GENERAL)
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100, default="")
    title = fields.CharField(max_length=100, default="")
    email = fields.CharField(max_length=254, default="")
    office_phone = fields.CharField(max_length=32, default="")
    mobile_phone = fields.CharField(max_length=32, default="")
    notes = fields.TextField(default="")
    # The user an invitation of this contact created (or found).
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="contacts", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    organisation_id: int
    user_id: int | None

    class Meta:
        table = "contact"
        indexes = (("organisation_id", "kind"),)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email
