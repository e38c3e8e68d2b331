from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry
from strawberry.dataloader import DataLoader
from tortoise import fields
from tortoise.models import Model

from server.core.permissions import Role, TicketAccess
from server.core.prepared import PreparedSelect
from server.core.visibility import MemberRule, PersonRule, viewable
from server.tenancy.models import Organisation, OrganisationStatus

if TYPE_CHECKING:
    from server.invitations.models import Invitation


@strawberry.enum
class UserStatus(Enum):
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@strawberry.enum
class MembershipStatus(Enum):
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


async def _memberships_by_user(user_ids: Sequence[int]) -> list[list[Membership]]:
    grouped: dict[int, list[Membership]] = defaultdict(list)
    for membership in await _MEMBERSHIPS_OF_USERS.fetch(list(user_ids)):
        grouped[membership.user_id].append(membership)
    return [grouped[i] for i in user_ids]


def memberships_by_user() -> DataLoader[int, list[Membership]]:
    """Each person's memberships (any status), with their organisations: one
    loader for the view rule below and the `memberships` field alike."""
    return DataLoader(load_fn=_memberships_by_user)


@viewable(PersonRule(memberships_by_user))
class User(Model):
    """One person. The email is the log-in name, stored normalised."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100, default="")
    title = fields.CharField(max_length=100, default="")
    office_phone = fields.CharField(max_length=32, default="")
    mobile_phone = fields.CharField(max_length=32, default="")
    fax = fields.CharField(max_length=32, default="")
    password_hash = fields.CharField(max_length=255, null=True)
    must_change_password = fields.BooleanField(default=False)
    # Two-factor settings. The TOTP seed is encrypted at rest (server.core.encryption);
    # a pending seed waits for its first code before it replaces the active one.
    totp_secret = fields.TextField(null=True)
    totp_pending_secret = fields.TextField(null=True)
    totp_confirmed_at = fields.DatetimeField(null=True)
    # The last accepted time step: each code works once (pyotp does not track it).
    totp_last_step = fields.BigIntField(default=0)
    email_two_factor = fields.BooleanField(default=False)
    # How many passkeys the person has (server/auth/passkeys.py keeps it with them).
    passkey_count = fields.IntField(default=0, db_default=0)
    # "en", "de" (server/core/i18n.py LANGUAGES); None: the organisation's, then the browser's.
    language = fields.CharField(max_length=8, null=True)
    status = fields.CharEnumField(UserStatus, max_length=16, default=UserStatus.INVITED)
    last_login_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "user"

    def as_invitee(self, invited_at: datetime) -> User:
        """What a pending invitation shows of the person: the address the inviter
        typed, nothing else (whether they have an account elsewhere included)."""
        return User(id=self.id, email=self.email, status=UserStatus.INVITED, created_at=invited_at)

    def as_named_only(self) -> User:
        """Who an API token acts for: their id, email and names, nothing else of theirs."""
        return User(
            id=self.id,
            email=self.email,
            first_name=self.first_name,
            last_name=self.last_name,
            status=self.status,
            created_at=self.created_at,
        )

    @property
    def has_totp(self) -> bool:
        return self.totp_confirmed_at is not None

    @property
    def has_second_factor(self) -> bool:
        return self.has_totp or self.email_two_factor or self.passkey_count > 0

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


@viewable(MemberRule())
class Membership(Model):
    """A user's place in one organisation: exactly one role plus feature grants."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="memberships", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=16)
    status = fields.CharEnumField(MembershipStatus, max_length=16, default=MembershipStatus.INVITED)
    ticket_access = fields.CharEnumField(TicketAccess, max_length=16, default=TicketAccess.NONE)
    can_impersonate = fields.BooleanField(default=False)
    restrict_recording_deletion = fields.BooleanField(default=False)
    # "Portal access": may sign in to the OpenID Connect clients whose access rule asks for it.
    portal_access = fields.BooleanField(default=False, db_default=False)
    # The organisation's identity provider's id for this person (SCIM `externalId`).
    scim_external_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    organisation_id: int
    user_id: int
    invitations: fields.ReverseRelation[Invitation]

    class Meta:
        table = "membership"
        unique_together = (("organisation", "user"),)
        # By user: the actor's memberships, loaded on almost every request.
        indexes = (("organisation_id", "status", "role"), ("user_id", "status"))


class EmailChange(Model):
    """A person's sign-in address waiting to change: the link mailed to the new
    address confirms it (single use, expiring; only the token's hash is kept). A
    newer request cancels an older one."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="email_changes", on_delete=fields.CASCADE
    )
    new_email = fields.CharField(max_length=254)
    token_hash = fields.CharField(max_length=64, unique=True)
    # Who asked: the person themselves or an administrator (null once erased).
    requested_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="requested_email_changes", null=True, on_delete=fields.SET_NULL
    )
    # The organisation whose administrator asked: where the trail records the change.
    organisation_id = fields.IntField(null=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: int
    requested_by_id: int | None

    class Meta:
        table = "email_change"
        indexes = (("user_id", "used_at", "cancelled_at"),)


# Loaded for every request's actor: the SQL is built once (server/core/prepared.py).
_ACTIVE_MEMBERSHIPS = PreparedSelect(
    Membership,
    lambda user_id: Membership.filter(
        user_id=user_id, status=MembershipStatus.ACTIVE
    ).select_related("organisation"),
)
_SUSPENDED = PreparedSelect(
    Organisation,
    lambda ids: Organisation.filter(id__in=ids, status=OrganisationStatus.SUSPENDED),
)


async def usable_memberships(user_id: int) -> list[Membership]:
    """Active memberships whose organisation and its ancestors are all active."""
    memberships = await _ACTIVE_MEMBERSHIPS.fetch(user_id)
    ancestor_ids = sorted({i for m in memberships for i in m.organisation.ancestor_ids})
    if not ancestor_ids:
        return []
    suspended = {o.id for o in await _SUSPENDED.fetch(ancestor_ids)}
    return [m for m in memberships if suspended.isdisjoint(m.organisation.ancestor_ids)]


# memberships_by_user's batches: the SQL is built once (server/core/prepared.py).
_MEMBERSHIPS_OF_USERS = PreparedSelect(
    Membership,
    lambda user_ids: (
        Membership.filter(user_id__in=user_ids).select_related("organisation").order_by("id")
    ),
)
