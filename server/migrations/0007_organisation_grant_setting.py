from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_principals')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Organisation',
            name='ticket_access_after_first_sign_in',
            field=fields.BooleanField(default=False),
        ),
    ]
