from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_security_at_rest')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiToken',
            name='privileged',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='api_token_label',
            field=fields.CharField(default='', max_length=140),
        ),
    ]
