from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_search')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiToken',
            name='restricted_to_trusted_documents',
            field=fields.BooleanField(default=False),
        ),
    ]
