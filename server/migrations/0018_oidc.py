from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0017_passkeys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OidcClient',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='oidc_clients', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('client_id', fields.CharField(unique=True, max_length=64)),
                ('secret_hash', fields.CharField(null=True, max_length=64)),
                ('secret_hint', fields.CharField(null=True, max_length=16)),
                ('public', fields.BooleanField(default=False)),
                ('first_party', fields.BooleanField(default=False)),
                ('redirect_uris', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('post_logout_redirect_uris', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('api_permissions', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('access_organisation_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('access_roles', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('access_requires_portal_grant', fields.BooleanField(default=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='oidc_clients', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_client', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A relying party registered by a provider or reseller: who it is, where it'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OidcAuthorizationCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('client', fields.ForeignKeyField('models.OidcClient', source_field='client_id', db_constraint=True, to_field='id', related_name='codes', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='oidc_codes', on_delete=OnDelete.CASCADE)),
                ('redirect_uri', fields.CharField(max_length=2000)),
                ('scope', fields.CharField(max_length=2000)),
                ('nonce', fields.CharField(null=True, max_length=255)),
                ('code_challenge', fields.CharField(max_length=128)),
                ('auth_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('acr', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('family', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'oidc_authorization_code', 'app': 'models', 'pk_attr': 'id', 'table_description': "A code handed to the browser: single use, a minute of life, bound to its"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OidcConsent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client', fields.ForeignKeyField('models.OidcClient', source_field='client_id', db_constraint=True, to_field='id', related_name='consents', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='oidc_consents', on_delete=OnDelete.CASCADE)),
                ('scopes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_consent', 'app': 'models', 'unique_together': (('client', 'user'),), 'pk_attr': 'id', 'table_description': "The consent of a person to a third-party client for these scopes."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OidcSigningKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kid', fields.CharField(unique=True, max_length=64)),
                ('private_jwk', fields.TextField(unique=False)),
                ('public_jwk', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('retired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_signing_key', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An ES256 key pair that signs ID tokens. The newest unretired key signs,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OidcSubject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='oidc_subject', on_delete=OnDelete.CASCADE)),
                ('subject', fields.CharField(unique=True, max_length=64)),
            ],
            options={'table': 'oidc_subject', 'app': 'models', 'pk_attr': 'id', 'table_description': "The `sub` of a person: random, stable and opaque (never the database id)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OidcToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('kind', fields.CharField(max_length=8)),
                ('family', fields.CharField(db_index=True, max_length=64)),
                ('client', fields.ForeignKeyField('models.OidcClient', source_field='client_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='oidc_tokens', on_delete=OnDelete.CASCADE)),
                ('scope', fields.CharField(max_length=2000)),
                ('auth_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('acr', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An access or refresh token. Refresh tokens rotate: each use issues a new'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Membership',
            name='portal_access',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
