from __future__ import annotations

from enum import Enum

import strawberry
from tortoise import fields
from tortoise.models import Model

from server.accounts.models import Membership, User
from server.core import clock
from server.core.permissions import Permission
from server.core.visibility import WithPermission, viewable
from server.tenancy.models import Organisation


@strawberry.enum
class InvitationStatus(Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@viewable(WithPermission(Permission.MEMBERS_MANAGE))
class Invitation(Model):
    """A single-use invitation to one membership. Only the token's hash is kept."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="invitations", on_delete=fields.CASCADE
    )
    membership: fields.ForeignKeyNullableRelation[Membership] = fields.ForeignKeyField(
        "models.Membership", related_name="invitations", null=True, on_delete=fields.SET_NULL
    )
    email = fields.CharField(max_length=254)
    # What the inviter typed about the person, given to them when a new person
    # accepts (an existing person's own details stay theirs).
    title = fields.CharField(max_length=100, default="")
    office_phone = fields.CharField(max_length=32, default="")
    mobile_phone = fields.CharField(max_length=32, default="")
    fax = fields.CharField(max_length=32, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sent_invitations", null=True, on_delete=fields.SET_NULL
    )
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    organisation_id: int
    membership_id: int | None
    invited_by_id: int | None

    class Meta:
        table = "invitation"
        indexes = (("organisation_id", "accepted_at", "revoked_at"),)

    @property
    def status(self) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= clock.now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING
