from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('etour', '0004_admin_audit')]

    initial = False

    operations = [
        ops.AddField(
            model_name='GateScan',
            name='gate',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
