"""The provider's rows: signing keys, clients, and what the code flow issues
(authorization codes, access and refresh tokens, consents). Every secret a
client or browser holds is kept as its SHA-256 only; signing keys' private
halves are encrypted with the server key (core/encryption.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.accounts.models import User
from server.core.permissions import Permission
from server.core.visibility import WithPermission, viewable
from server.tenancy.models import Organisation


class OidcSigningKey(Model):
    """An ES256 key pair that signs ID tokens. The newest unretired key signs,
    a retired one stays in the JWKS until the tokens it signed have expired."""

    id = fields.IntField(primary_key=True)
    kid = fields.CharField(max_length=64, unique=True)
    # The private JWK, Fernet-encrypted under the server key.
    private_jwk = fields.TextField()
    public_jwk: fields.JSONField[dict[str, str]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    retired_at = fields.DatetimeField(null=True)
    # When it leaves the JWKS (set at retirement: retirement + the longest token life).
    published_until = fields.DatetimeField(null=True)

    class Meta:
        table = "oidc_signing_key"


@viewable(WithPermission(Permission.OIDC_CLIENTS_MANAGE))
class OidcClient(Model):
    """A relying party registered by a provider or reseller: who it is, where it
    may send people back to, and who may sign in to it (its access rule)."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="oidc_clients", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    client_id = fields.CharField(max_length=64, unique=True)
    # None for a public client (no secret: PKCE only).
    secret_hash = fields.CharField(max_length=64, null=True)
    secret_hint = fields.CharField(max_length=16, null=True)
    public = fields.BooleanField(default=False)
    # Our own systems: no consent page.
    first_party = fields.BooleanField(default=False)
    redirect_uris: fields.JSONField[list[str]] = fields.JSONField(default=list)
    post_logout_redirect_uris: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # The API permissions its access tokens may use at most (scopes `api:<permission>`).
    api_permissions: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # The access rule: organisation ids of the subtree (empty: the whole subtree),
    # roles (empty: any), and whether the person must hold the portal access grant.
    access_organisation_ids: fields.JSONField[list[int]] = fields.JSONField(default=list)
    access_roles: fields.JSONField[list[str]] = fields.JSONField(default=list)
    access_requires_portal_grant = fields.BooleanField(default=False)
    # private_key_jwt: the client's public JSON Web Key Set ({"keys": [...]}, public
    # halves only, checked in assertions.check_jwks); such a client has no secret.
    jwks: fields.JSONField[dict[str, list[dict[str, str]]] | None] = fields.JSONField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="oidc_clients", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    organisation_id: int
    created_by_id: int | None

    class Meta:
        table = "oidc_client"

    @property
    def auth_method(self) -> str:
        """How it authenticates at the token and revocation endpoints."""
        if self.public:
            return "none"
        return "private_key_jwt" if self.jwks is not None else "client_secret"


class OidcAuthorizationCode(Model):
    """A code handed to the browser: single use, a minute of life, bound to its
    client, redirect URI and PKCE challenge."""

    id = fields.IntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    client: fields.ForeignKeyRelation[OidcClient] = fields.ForeignKeyField(
        "models.OidcClient", related_name="codes", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="oidc_codes", on_delete=fields.CASCADE
    )
    redirect_uri = fields.CharField(max_length=2000)
    scope = fields.CharField(max_length=2000)
    nonce = fields.CharField(max_length=255, null=True)
    code_challenge = fields.CharField(max_length=128)
    auth_time = fields.DatetimeField()
    acr = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    # The tokens issued for it: a replayed code revokes them.
    family = fields.CharField(max_length=64, null=True)

    client_id: int
    user_id: int

    class Meta:
        table = "oidc_authorization_code"


class OidcToken(Model):
    """An access or refresh token. Refresh tokens rotate: each use issues a new
    one in the same `family`; presenting a used one again revokes the family."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    kind = fields.CharField(max_length=8)  # "access" or "refresh"
    family = fields.CharField(max_length=64, db_index=True)
    client: fields.ForeignKeyRelation[OidcClient] = fields.ForeignKeyField(
        "models.OidcClient", related_name="tokens", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="oidc_tokens", on_delete=fields.CASCADE
    )
    scope = fields.CharField(max_length=2000)
    auth_time = fields.DatetimeField()
    acr = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    client_id: int
    user_id: int

    class Meta:
        table = "oidc_token"


class OidcConsent(Model):
    """The consent of a person to a third-party client for these scopes."""

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[OidcClient] = fields.ForeignKeyField(
        "models.OidcClient", related_name="consents", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="oidc_consents", on_delete=fields.CASCADE
    )
    scopes: fields.JSONField[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField()

    client_id: int
    user_id: int

    class Meta:
        table = "oidc_consent"
        unique_together = (("client", "user"),)


class OidcSubject(Model):
    """The `sub` of a person: random, stable and opaque (never the database id)."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="oidc_subject", on_delete=fields.CASCADE
    )
    subject = fields.CharField(max_length=64, unique=True)

    user_id: int

    class Meta:
        table = "oidc_subject"


class OidcUsedAssertion(Model):
    """A `private_key_jwt` client assertion already used: its `jti` (as SHA-256)
    is kept until the assertion expires, so it cannot be presented again."""

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[OidcClient] = fields.ForeignKeyField(
        "models.OidcClient", related_name="used_assertions", on_delete=fields.CASCADE
    )
    jti_hash = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField()

    client_id: int

    class Meta:
        table = "oidc_used_assertion"
        unique_together = (("client", "jti_hash"),)
