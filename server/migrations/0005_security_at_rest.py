from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_lookup_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='LoginChallenge',
            name='failed_codes',
            field=fields.IntField(default=0),
        ),
        ops.AlterModelOptions(
            name='LoginThrottle',
            options={'table': 'login_throttle', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Failures per account (email), per trusted device, or per client address,'},
        ),
        ops.AddField(
            model_name='LoginThrottle',
            name='pending',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='LoginThrottle',
            name='pending_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='LoginThrottle',
            name='tokens',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='OutboxMail',
            name='sealed',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
