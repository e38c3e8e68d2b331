from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.tenancy.models import Organisation


class OrganisationBrand(Model):
    """What one organisation sets of its brand (a null field is inherited).

    The sender address counts only once `sender_verified_at` is set (a mail to
    it was confirmed). `host_name` is this organisation's own: it is not
    inherited, and no two organisations share one.
    """

    id = fields.IntField(primary_key=True)
    organisation: fields.OneToOneRelation[Organisation] = fields.OneToOneField(
        "models.Organisation", related_name="brand", on_delete=fields.CASCADE
    )
    portal_name = fields.CharField(max_length=100, null=True)
    sender_name = fields.CharField(max_length=100, null=True)
    sender_address = fields.CharField(max_length=254, null=True)
    sender_verified_at = fields.DatetimeField(null=True)
    support_contact = fields.CharField(max_length=200, null=True)
    logo_url = fields.CharField(max_length=500, null=True)
    colour = fields.CharField(max_length=7, null=True)
    language = fields.CharField(max_length=8, null=True)
    host_name = fields.CharField(max_length=253, null=True, unique=True)
    updated_at = fields.DatetimeField(auto_now=True)

    organisation_id: int

    class Meta:
        table = "organisation_brand"


class SenderVerification(Model):
    """A one-use, expiring link mailed to a new sender address. Only its hash is kept."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="sender_verifications", on_delete=fields.CASCADE
    )
    address = fields.CharField(max_length=254)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    organisation_id: int

    class Meta:
        table = "sender_verification"
