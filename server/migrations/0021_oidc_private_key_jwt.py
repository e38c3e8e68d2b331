from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0020_member_search_ranks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OidcUsedAssertion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client', fields.ForeignKeyField('models.OidcClient', source_field='client_id', db_constraint=True, to_field='id', related_name='used_assertions', on_delete=OnDelete.CASCADE)),
                ('jti_hash', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_used_assertion', 'app': 'models', 'unique_together': (('client', 'jti_hash'),), 'pk_attr': 'id', 'table_description': 'A `private_key_jwt` client assertion already used: its `jti` (as SHA-256)'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OidcClient',
            name='jwks',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
