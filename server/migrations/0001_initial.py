from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from server.accounts.models import MembershipStatus, UserStatus
from server.auth.models import ChallengePurpose
from server.core.permissions import Role, TicketAccess
from server.mail.models import MailStatus
from server.tenancy.models import OrganisationKind, OrganisationStatus
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="AuditEvent",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "created_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("organisation_id", fields.IntField(null=True, db_index=True)),
                ("actor_id", fields.IntField(null=True, db_index=True)),
                ("actor_label", fields.CharField(default="", max_length=254)),
                ("impersonator_id", fields.IntField(null=True, db_index=True)),
                ("impersonator_label", fields.CharField(default="", max_length=254)),
                ("api_token_id", fields.IntField(null=True)),
                ("action", fields.CharField(db_index=True, max_length=64)),
                ("target_type", fields.CharField(default="", max_length=32)),
                ("target_id", fields.IntField(null=True)),
                ("target_label", fields.CharField(default="", max_length=254)),
                ("subject_user_id", fields.IntField(null=True, db_index=True)),
                ("client_ip", fields.CharField(default="", max_length=64)),
                ("request_id", fields.CharField(default="", max_length=64)),
                ("details", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={
                "table": "audit_event",
                "app": "models",
                "indexes": [
                    Index(fields=["organisation_id", "id"]),
                    Index(fields=["target_type", "target_id"]),
                ],
                "pk_attr": "id",
                "table_description": "What happened, by whom, where. Append-only: rows are never updated,",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="LoginThrottle",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("key", fields.CharField(unique=True, max_length=80)),
                ("attempts", fields.IntField(default=0)),
                (
                    "locked_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("last_attempt_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "login_throttle",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Attempts per account (email) or client address, and the lock they earned.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Organisation",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "parent",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="parent_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="children",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("path", fields.CharField(default="", db_index=True, max_length=255)),
                (
                    "kind",
                    fields.CharEnumField(
                        description="PROVIDER: PROVIDER\nRESELLER: RESELLER\nCUSTOMER: CUSTOMER",
                        enum_type=OrganisationKind,
                        max_length=16,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "status",
                    fields.CharEnumField(
                        default=OrganisationStatus.ACTIVE,
                        description="ACTIVE: ACTIVE\nSUSPENDED: SUSPENDED",
                        enum_type=OrganisationStatus,
                        max_length=16,
                    ),
                ),
                ("require_two_factor", fields.BooleanField(default=False)),
                ("allow_email_codes", fields.BooleanField(default=True)),
                ("require_totp_for_admins", fields.BooleanField(default=False)),
                ("seat_limit", fields.IntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "organisation",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A node of the provider → reseller → customer tree.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxMail",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("organisation_id", fields.IntField(null=True, db_index=True)),
                ("kind", fields.CharField(max_length=32)),
                ("message_id", fields.CharField(unique=True, max_length=255)),
                ("recipient", fields.CharField(max_length=254)),
                ("subject", fields.CharField(max_length=255)),
                ("text_body", fields.TextField(unique=False)),
                ("html_body", fields.TextField(unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=MailStatus.PENDING,
                        description="PENDING: pending\nSENDING: sending\nSENT: sent\nDEAD: dead",
                        enum_type=MailStatus,
                        max_length=16,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("next_attempt_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("last_error", fields.TextField(default="", unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "outbox_mail",
                "app": "models",
                "indexes": [Index(fields=["status", "next_attempt_at"])],
                "pk_attr": "id",
                "table_description": "A mail waiting to be sent, written in the transaction of the change that caused it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("email", fields.CharField(unique=True, max_length=254)),
                ("first_name", fields.CharField(default="", max_length=100)),
                ("last_name", fields.CharField(default="", max_length=100)),
                ("title", fields.CharField(default="", max_length=100)),
                ("office_phone", fields.CharField(default="", max_length=32)),
                ("mobile_phone", fields.CharField(default="", max_length=32)),
                ("fax", fields.CharField(default="", max_length=32)),
                ("password_hash", fields.CharField(null=True, max_length=255)),
                ("must_change_password", fields.BooleanField(default=False)),
                ("totp_secret", fields.TextField(null=True, unique=False)),
                ("totp_pending_secret", fields.TextField(null=True, unique=False)),
                (
                    "totp_confirmed_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("totp_last_step", fields.BigIntField(default=0)),
                ("email_two_factor", fields.BooleanField(default=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=UserStatus.INVITED,
                        description="INVITED: INVITED\nACTIVE: ACTIVE\nDISABLED: DISABLED",
                        enum_type=UserStatus,
                        max_length=16,
                    ),
                ),
                (
                    "last_login_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "user",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One person. The email is the log-in name, stored normalised.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "organisation",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="organisation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="api_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("hint", fields.CharField(max_length=16)),
                ("permissions", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="api_tokens",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "last_used_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "api_token",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A secret for integrations: acts in one organisation and its descendants",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="LoginChallenge",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="login_challenges",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "purpose",
                    fields.CharEnumField(
                        default=ChallengePurpose.LOGIN,
                        description="LOGIN: login\nREAUTH: reauth",
                        enum_type=ChallengePurpose,
                        max_length=16,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "completed_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("email_code_hash", fields.CharField(null=True, max_length=64)),
                (
                    "email_code_expires_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("email_code_attempts", fields.IntField(default=0)),
            ],
            options={
                "table": "login_challenge",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The second step of a log-in (or a re-authentication): short-lived, single use.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Membership",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "organisation",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="organisation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "role",
                    fields.CharEnumField(
                        description="OWNER: OWNER\nADMIN: ADMIN\nMEMBER: MEMBER\nVIEWER: VIEWER\nSUPPORT_ONLY: SUPPORT_ONLY",
                        enum_type=Role,
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=MembershipStatus.INVITED,
                        description="INVITED: INVITED\nACTIVE: ACTIVE\nDISABLED: DISABLED",
                        enum_type=MembershipStatus,
                        max_length=16,
                    ),
                ),
                (
                    "ticket_access",
                    fields.CharEnumField(
                        default=TicketAccess.NONE,
                        description="NONE: NONE\nOWN: OWN\nACCOUNT: ACCOUNT\nADMIN: ADMIN",
                        enum_type=TicketAccess,
                        max_length=16,
                    ),
                ),
                ("can_impersonate", fields.BooleanField(default=False)),
                ("restrict_recording_deletion", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "membership",
                "app": "models",
                "unique_together": (("organisation", "user"),),
                "indexes": [Index(fields=["organisation_id", "status", "role"])],
                "pk_attr": "id",
                "table_description": "A user's place in one organisation: exactly one role plus feature grants.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Invitation",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "organisation",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="organisation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="invitations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "membership",
                    fields.ForeignKeyField(
                        "models.Membership",
                        source_field="membership_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="invitations",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("email", fields.CharField(max_length=254)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "invited_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="invited_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sent_invitations",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "accepted_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "invitation",
                "app": "models",
                "indexes": [Index(fields=["organisation_id", "accepted_at", "revoked_at"])],
                "pk_attr": "id",
                "table_description": "A single-use invitation to one membership. Only the token's hash is kept.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PasswordReset",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="password_resets",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "password_reset", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RecoveryCode",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="recovery_codes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("code_hash", fields.CharField(max_length=64)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "recovery_code",
                "app": "models",
                "unique_together": (("user", "code_hash"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Session",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "expires_at",
                    fields.DatetimeField(
                        description="Absolute timeout.", auto_now=False, auto_now_add=False
                    ),
                ),
                ("authenticated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("second_factor", fields.CharField(null=True, max_length=16)),
                (
                    "impersonator",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="impersonator_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="impersonations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("impersonation_reason", fields.CharField(default="", max_length=500)),
                ("impersonation_scope", fields.CharField(default="", max_length=255)),
                ("impersonation_organisation_id", fields.IntField(null=True)),
                ("client_ip", fields.CharField(default="", max_length=64)),
                ("user_agent", fields.CharField(default="", max_length=255)),
            ],
            options={
                "table": "session",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A signed-in session. The client holds a random token, we keep its SHA-256.",
            },
            bases=["Model"],
        ),
    ]
