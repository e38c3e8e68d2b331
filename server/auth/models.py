from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.accounts.models import User


class Session(Model):
    """A signed-in session. The client holds a random token, we keep its SHA-256."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(description="Absolute timeout.")
    client_ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=255, default="")

    user_id: int

    class Meta:
        table = "session"


class PasswordReset(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="password_resets", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: int

    class Meta:
        table = "password_reset"
