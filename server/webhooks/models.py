from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.accounts.models import User
from server.core.permissions import Permission
from server.core.visibility import WithPermission, viewable
from server.tenancy.models import Organisation


@viewable(WithPermission(Permission.WEBHOOKS_MANAGE))
class WebhookEndpoint(Model):
    """Where an organisation wants its events (and its descendants') posted."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="webhook_endpoints", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=2000)
    events: fields.JSONField[list[str]] = fields.JSONField(default=list)
    description = fields.CharField(max_length=200, default="")
    # Encrypted at rest (server.core.encryption): we need it back to sign.
    secret = fields.TextField()
    active = fields.BooleanField(default=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="webhook_endpoints", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()

    organisation_id: int

    class Meta:
        table = "webhook_endpoint"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"


@viewable(WithPermission(Permission.WEBHOOKS_MANAGE))
class WebhookDelivery(Model):
    """One event for one endpoint: written in the transaction of the change,
    posted by the worker, retried with backoff, kept as the delivery log."""

    id = fields.BigIntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    organisation_id = fields.IntField(db_index=True)
    event = fields.CharField(max_length=64)
    event_id = fields.CharField(max_length=36, db_index=True)
    # The exact JSON body that is signed and sent.
    payload = fields.TextField()
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    endpoint_id: int

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "next_attempt_at"),)
