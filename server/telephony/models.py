from __future__ import annotations

from enum import Enum

import strawberry
from tortoise import fields
from tortoise.models import Model

from server.accounts.models import Membership
from server.core.permissions import Permission
from server.core.visibility import OwnOrPermission, viewable
from server.tenancy.models import Organisation


@strawberry.enum(description="When a forwarding rule applies.")
class ForwardingCondition(Enum):
    ALWAYS = "ALWAYS"
    BUSY = "BUSY"
    NO_ANSWER = "NO_ANSWER"
    UNAVAILABLE = "UNAVAILABLE"


@strawberry.enum
class CallDirection(Enum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


@strawberry.enum
class RecordingFormat(Enum):
    WAV = "WAV"
    MP3 = "MP3"


@viewable(OwnOrPermission(Permission.EXTENSIONS_VIEW))
class Extension(Model):
    """A phone extension of an organisation, assigned to at most one member
    (and a member has at most one extension per organisation: their membership)."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="extensions", on_delete=fields.CASCADE
    )
    number = fields.CharField(max_length=8)
    label = fields.CharField(max_length=100, default="")
    membership: fields.OneToOneNullableRelation[Membership] = fields.OneToOneField(
        "models.Membership", related_name="extension", null=True, on_delete=fields.SET_NULL
    )
    do_not_disturb = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    organisation_id: int
    membership_id: int | None

    class Meta:
        table = "extension"
        unique_together = (("organisation", "number"),)


class ForwardingRule(Model):
    """Where calls to an extension go under one condition (one rule per condition)."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="forwarding_rules", on_delete=fields.CASCADE
    )
    extension: fields.ForeignKeyRelation[Extension] = fields.ForeignKeyField(
        "models.Extension", related_name="forwarding_rules", on_delete=fields.CASCADE
    )
    condition = fields.CharEnumField(ForwardingCondition, max_length=16)
    # Another extension's number in the same organisation, or a phone number.
    destination = fields.CharField(max_length=32)
    ring_seconds = fields.IntField(default=20)

    organisation_id: int
    extension_id: int

    class Meta:
        table = "forwarding_rule"
        unique_together = (("extension", "condition"),)
        indexes = (("organisation_id", "destination"),)


@viewable(OwnOrPermission(Permission.EXTENSIONS_VIEW))
class CallRecord(Model):
    """One call of an extension, with optional recording metadata. The member
    the extension was assigned to at the time owns it ("my calls")."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="call_records", on_delete=fields.CASCADE
    )
    extension: fields.ForeignKeyRelation[Extension] = fields.ForeignKeyField(
        "models.Extension", related_name="call_records", on_delete=fields.CASCADE
    )
    membership: fields.ForeignKeyNullableRelation[Membership] = fields.ForeignKeyField(
        "models.Membership", related_name="call_records", null=True, on_delete=fields.SET_NULL
    )
    started_at = fields.DatetimeField()
    direction = fields.CharEnumField(CallDirection, max_length=16)
    remote_number = fields.CharField(max_length=32)
    duration_seconds = fields.IntField(default=0)
    recording_format = fields.CharEnumField(RecordingFormat, max_length=8, null=True)
    recording_seconds = fields.IntField(null=True)
    recording_bytes = fields.BigIntField(null=True)
    recording_deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    organisation_id: int
    extension_id: int
    membership_id: int | None

    class Meta:
        table = "call_record"
        indexes = (
            ("organisation_id", "started_at"),
            ("extension_id", "id"),
            ("membership_id", "id"),
        )

    @property
    def has_recording(self) -> bool:
        return self.recording_format is not None
