from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('etour', '0006_card_chat_supervision')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Book',
            name='search_text',
            field=fields.TextField(default='', unique=False),
        ),
    ]
