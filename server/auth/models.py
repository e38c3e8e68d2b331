from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.accounts.models import User
from server.core.visibility import OwnSession, viewable


@viewable(OwnSession())
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
    # Last password (and second factor) check: log-in or re-authentication.
    authenticated_at = fields.DatetimeField()
    # The second factor of that check ("totp", "email", "recovery"), or None:
    # organisations' two-factor policies are checked against it.
    second_factor = fields.CharField(max_length=16, null=True)
    # Impersonation: an administrator acting as `user`. Such a session is
    # separate from both people's own sessions, short and not renewable, and
    # reaches only the user's memberships within `impersonation_scope` (the
    # path of the organisation whose membership granted it).
    impersonator: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="impersonations", null=True, on_delete=fields.CASCADE
    )
    impersonation_reason = fields.CharField(max_length=500, default="")
    impersonation_scope = fields.CharField(max_length=255, default="")
    impersonation_organisation_id = fields.IntField(null=True)
    client_ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=255, default="")

    user_id: int
    impersonator_id: int | None

    class Meta:
        table = "session"
        # A user's sessions: listed, ended on a password change or removal.
        indexes = (("user_id",),)


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


class ChallengePurpose(StrEnum):
    LOGIN = "login"
    REAUTH = "reauth"


class LoginChallenge(Model):
    """The second step of a log-in (or a re-authentication): short-lived, single use.
    An emailed code is bound to its challenge; only the latest code is valid."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="login_challenges", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(ChallengePurpose, max_length=16, default=ChallengePurpose.LOGIN)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)
    email_code_hash = fields.CharField(max_length=64, null=True)
    email_code_expires_at = fields.DatetimeField(null=True)
    email_code_attempts = fields.IntField(default=0)
    # Wrong codes of any kind: at the limit the challenge dies (sign in again).
    failed_codes = fields.IntField(default=0)

    user_id: int

    class Meta:
        table = "login_challenge"


class RecoveryCode(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="recovery_codes", on_delete=fields.CASCADE
    )
    code_hash = fields.CharField(max_length=64)
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    user_id: int

    class Meta:
        table = "recovery_code"
        unique_together = (("user", "code_hash"),)


class LoginThrottle(Model):
    """Failures per account (email), per trusted device, or per client address,
    and the lock they earned (server/auth/throttle.py). Keyed by a hash, so
    unknown emails are throttled exactly like known ones."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=80, unique=True)
    # Accounts and devices: failures since the last success, and their lock.
    attempts = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    # Accounts: the last failure; addresses: when `tokens` was last brought up to date.
    last_attempt_at = fields.DatetimeField()
    # Addresses: the token bucket's level at `last_attempt_at` (None: full).
    tokens = fields.FloatField(null=True)
    # Checks under way (their outcome not yet known), and when that count is stale
    # (a process that died mid-check must not hold the key for ever).
    pending = fields.IntField(default=0)
    pending_until = fields.DatetimeField(null=True)

    class Meta:
        table = "login_throttle"


@viewable(OwnSession())
class Passkey(Model):
    """A WebAuthn credential of one person (server/auth/passkeys.py): a second
    factor, and a way to sign in without a password."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="passkeys", on_delete=fields.CASCADE
    )
    # The authenticator's credential id, base64url (at most 1,023 bytes: 1,364 characters).
    credential_id = fields.CharField(max_length=1400, unique=True)
    # The COSE public key, base64url.
    public_key = fields.TextField()
    # The authenticator's signature counter: a use must move it forward (0: it keeps none).
    sign_count = fields.BigIntField(default=0)
    # Comma-separated hints for the browser ("internal,hybrid", "usb"...).
    transports = fields.CharField(max_length=255, default="")
    name = fields.CharField(max_length=100)
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)

    user_id: int

    class Meta:
        table = "passkey"
        indexes = (("user_id",),)


class PasskeyPurpose(StrEnum):
    REGISTER = "register"
    SIGN_IN = "sign_in"  # without a password
    SECOND_FACTOR = "second_factor"  # the second step of a log-in
    REAUTH = "reauth"  # step-up


class PasskeyChallenge(Model):
    """A WebAuthn challenge handed to the browser: single use, short-lived. Only
    its SHA-256 is kept; the browser's signed answer carries the challenge itself."""

    id = fields.IntField(primary_key=True)
    challenge_hash = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharEnumField(PasskeyPurpose, max_length=16)
    # Whose it is (None: a sign-in without a password, anyone's passkey may answer).
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="passkey_challenges", null=True, on_delete=fields.CASCADE
    )
    # SECOND_FACTOR: the log-in challenge it completes.
    login_challenge_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    user_id: int | None

    class Meta:
        table = "passkey_challenge"
        indexes = (("expires_at",),)
