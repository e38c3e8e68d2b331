from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from server.core.permissions import Permission
from server.core.visibility import WithPermission, viewable


@viewable(WithPermission(Permission.AUDIT_VIEW))
class AuditEvent(Model):
    """What happened, by whom, where. Append-only: rows are never updated,
    except that deleting a user pseudonymises the labels naming them.

    Plain ids instead of foreign keys: the trail outlives what it names.
    """

    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(db_index=True)
    organisation_id = fields.IntField(null=True, db_index=True)
    actor_id = fields.IntField(null=True, db_index=True)
    actor_label = fields.CharField(max_length=254, default="")
    # During impersonation the actor is the person acted as; this names who did it.
    impersonator_id = fields.IntField(null=True, db_index=True)
    impersonator_label = fields.CharField(max_length=254, default="")
    # Set when an API token made the change (the actor is then the token's creator).
    api_token_id = fields.IntField(null=True)
    api_token_label = fields.CharField(max_length=140, default="")
    action = fields.CharField(max_length=64, db_index=True)
    target_type = fields.CharField(max_length=32, default="")
    target_id = fields.IntField(null=True)
    target_label = fields.CharField(max_length=254, default="")
    # The person the event is about (a member's user), for pseudonymisation on delete.
    subject_user_id = fields.IntField(null=True, db_index=True)
    client_ip = fields.CharField(max_length=64, default="")
    request_id = fields.CharField(max_length=64, default="")
    details: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"
        indexes = (("organisation_id", "id"), ("target_type", "target_id"))
