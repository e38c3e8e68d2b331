from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_branding')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EmailChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='email_changes', on_delete=OnDelete.CASCADE)),
                ('new_email', fields.CharField(max_length=254)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('requested_by', fields.ForeignKeyField('models.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='requested_email_changes', on_delete=OnDelete.SET_NULL)),
                ('organisation_id', fields.IntField(null=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'email_change', 'app': 'models', 'indexes': [Index(fields=['user_id', 'used_at', 'cancelled_at'])], 'pk_attr': 'id', 'table_description': "A person's sign-in address waiting to change: the link mailed to the new"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invitation',
            name='fax',
            field=fields.CharField(default='', max_length=32),
        ),
        ops.AddField(
            model_name='Invitation',
            name='mobile_phone',
            field=fields.CharField(default='', max_length=32),
        ),
        ops.AddField(
            model_name='Invitation',
            name='office_phone',
            field=fields.CharField(default='', max_length=32),
        ),
        ops.AddField(
            model_name='Invitation',
            name='title',
            field=fields.CharField(default='', max_length=100),
        ),
    ]
