from tortoise import migrations
from tortoise.migrations import operations as ops
from server.tenancy.models import ScimNewPeople
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_api_token_trusted_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ScimToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='scim_tokens', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('hint', fields.CharField(max_length=16)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='scim_tokens', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'scim_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The secret an identity provider sends to /scim/v2/: provisions people into'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Membership',
            name='scim_external_id',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name='Organisation',
            name='scim_new_people',
            field=fields.CharEnumField(default=ScimNewPeople.INVITE, db_default='INVITE', description='INVITE: INVITE\nSET_PASSWORD_LINK: SET_PASSWORD_LINK', enum_type=ScimNewPeople, max_length=24),
        ),
    ]
