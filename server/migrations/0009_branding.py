from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_person_language')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrganisationBrand',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.OneToOneField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='brand', on_delete=OnDelete.CASCADE)),
                ('portal_name', fields.CharField(null=True, max_length=100)),
                ('sender_name', fields.CharField(null=True, max_length=100)),
                ('sender_address', fields.CharField(null=True, max_length=254)),
                ('sender_verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('support_contact', fields.CharField(null=True, max_length=200)),
                ('logo_url', fields.CharField(null=True, max_length=500)),
                ('colour', fields.CharField(null=True, max_length=7)),
                ('language', fields.CharField(null=True, max_length=8)),
                ('host_name', fields.CharField(null=True, unique=True, max_length=253)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'organisation_brand', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What one organisation sets of its brand (a null field is inherited).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SenderVerification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='sender_verifications', on_delete=OnDelete.CASCADE)),
                ('address', fields.CharField(max_length=254)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sender_verification', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A one-use, expiring link mailed to a new sender address. Only its hash is kept.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OutboxMail',
            name='mail_from',
            field=fields.CharField(default='', max_length=400),
        ),
    ]
