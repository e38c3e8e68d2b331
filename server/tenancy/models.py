from __future__ import annotations

from enum import Enum

import strawberry
from tortoise import fields
from tortoise.models import Model

from server.core.loaders import register_organisation_model
from server.core.visibility import SeenOrganisation, viewable


@strawberry.enum
class OrganisationKind(Enum):
    PROVIDER = "PROVIDER"
    RESELLER = "RESELLER"
    CUSTOMER = "CUSTOMER"


@strawberry.enum
class OrganisationStatus(Enum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


@strawberry.enum(description="How people a SCIM client (an identity provider) creates join.")
class ScimNewPeople(Enum):
    # An invitation mail: they accept it and choose a password (the default).
    INVITE = "INVITE"
    # Active at once; a mail with a link to choose a password.
    SET_PASSWORD_LINK = "SET_PASSWORD_LINK"  # noqa: S105 - a choice, not a secret


@viewable(SeenOrganisation())
class Organisation(Model):
    """A node of the provider → reseller → customer tree.

    `path` lists the ids from the root down to this organisation ("/1/4/9/"),
    so "every descendant of X" is one indexed prefix query and "is X an
    ancestor of Y" needs no query at all.
    """

    id = fields.IntField(primary_key=True)
    parent: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", null=True, related_name="children", on_delete=fields.RESTRICT
    )
    path = fields.CharField(max_length=255, db_index=True, default="")
    kind = fields.CharEnumField(OrganisationKind, max_length=16)
    name = fields.CharField(max_length=100)
    status = fields.CharEnumField(
        OrganisationStatus, max_length=16, default=OrganisationStatus.ACTIVE
    )
    require_two_factor = fields.BooleanField(default=False)
    # Emailed codes are a weaker factor: an organisation may refuse them, and
    # may insist on an authenticator app for its owners and admins.
    allow_email_codes = fields.BooleanField(default=True)
    require_totp_for_admins = fields.BooleanField(default=False)
    # Phishing-resistant: owners and admins must sign in with a passkey.
    require_passkeys_for_admins = fields.BooleanField(default=False, db_default=False)
    # UKCloud: ticket access is granted only once the person has signed in.
    ticket_access_after_first_sign_in = fields.BooleanField(default=False)
    # Seats: members plus pending invitations may not exceed this (None: no limit).
    seat_limit = fields.IntField(null=True)
    # People created through SCIM (server/scim): invited, or active with a set-password link.
    # (db_default: existing organisations get it when the column is added.)
    scim_new_people = fields.CharEnumField(
        ScimNewPeople, max_length=24, default=ScimNewPeople.INVITE, db_default="INVITE"
    )
    # Its memberships of every status, pending invitations included: database
    # triggers keep it in the transaction that adds, removes or moves one
    # (migration 0015). Read-only here; the seats in use and the members list's
    # unfiltered totalCount.
    member_count = fields.IntField(default=0, db_default=0)
    # The memberships of this organisation and of every one below it, kept by the
    # same triggers (migration 0019): a whole subtree's totalCount in one read.
    subtree_member_count = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    parent_id: int | None

    class Meta:
        table = "organisation"

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to and including this organisation."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def is_within(self, other_path: str) -> bool:
        """True if this organisation is `other_path`'s organisation or below it."""
        return self.path.startswith(other_path)


async def organisation_suspended(organisation: Organisation) -> bool:
    """It, or an organisation above it, is suspended."""
    return await Organisation.filter(
        id__in=organisation.ancestor_ids, status=OrganisationStatus.SUSPENDED
    ).exists()


register_organisation_model(Organisation)
