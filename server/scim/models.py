from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.accounts.models import User
from server.core.permissions import Permission
from server.core.visibility import WithPermission, viewable
from server.tenancy.models import Organisation


@viewable(WithPermission(Permission.SCIM_MANAGE))
class ScimToken(Model):
    """The secret an identity provider sends to /scim/v2/: provisions people into
    one organisation with its creator's rights there. Only its hash is kept."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="scim_tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    token_hash = fields.CharField(max_length=64, unique=True)
    # The first characters of the secret, so people can tell their tokens apart.
    hint = fields.CharField(max_length=16)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="scim_tokens", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    organisation_id: int
    created_by_id: int | None

    class Meta:
        table = "scim_token"
