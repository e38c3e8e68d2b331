from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.accounts.models import User
from server.core.permissions import Permission
from server.core.visibility import WithPermission, viewable
from server.tenancy.models import Organisation


@viewable(WithPermission(Permission.API_TOKENS_MANAGE))
class ApiToken(Model):
    """A secret for integrations: acts in one organisation and its descendants
    with a chosen subset of its creator's permissions. Only its hash is kept."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="api_tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    token_hash = fields.CharField(max_length=64, unique=True)
    # The first characters of the secret, so people can tell their tokens apart.
    hint = fields.CharField(max_length=16)
    permissions: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # May do what needs a recent sign-in (granting OWNER, webhooks): given only
    # by a creator who signed in within the step-up window.
    privileged = fields.BooleanField(default=False)
    # May send only the admin app's trusted documents when the server enforces
    # them (FRONTDESK_TRUSTED_DOCUMENTS=enforce, server/trusted_documents.py).
    restricted_to_trusted_documents = fields.BooleanField(default=False)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_tokens", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    organisation_id: int
    created_by_id: int | None

    class Meta:
        table = "api_token"
