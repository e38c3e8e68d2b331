from tortoise import migrations
from tortoise.migrations import operations as ops
from server.auth.models import PasskeyPurpose
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0016_member_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Passkey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='passkeys', on_delete=OnDelete.CASCADE)),
                ('credential_id', fields.CharField(unique=True, max_length=1400)),
                ('public_key', fields.TextField(unique=False)),
                ('sign_count', fields.BigIntField(default=0)),
                ('transports', fields.CharField(default='', max_length=255)),
                ('name', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'passkey', 'app': 'models', 'indexes': [Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': 'A WebAuthn credential of one person (server/auth/passkeys.py): a second'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PasskeyChallenge',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge_hash', fields.CharField(unique=True, max_length=64)),
                ('purpose', fields.CharEnumField(description='REGISTER: register\nSIGN_IN: sign_in\nSECOND_FACTOR: second_factor\nREAUTH: reauth', enum_type=PasskeyPurpose, max_length=16)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='passkey_challenges', on_delete=OnDelete.CASCADE)),
                ('login_challenge_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'passkey_challenge', 'app': 'models', 'indexes': [Index(fields=['expires_at'])], 'pk_attr': 'id', 'table_description': 'A WebAuthn challenge handed to the browser: single use, short-lived. Only'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Organisation',
            name='require_passkeys_for_admins',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='User',
            name='passkey_count',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
