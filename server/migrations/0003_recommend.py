from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from recommend.models import EventKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('etour', '0002_tours_food')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ItemEmbedding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('model', fields.CharField(max_length=200)),
                ('item_id', fields.CharField(max_length=48)),
                ('content_hash', fields.CharField(max_length=64)),
                ('vector', fields.BinaryField()),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'item_embedding', 'app': 'etour', 'unique_together': (('model', 'item_id'),), 'pk_attr': 'id', 'table_description': "An item's (or an interest's) sentence vector under one model, and its content's hash."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VisitorEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('visitor', fields.ForeignKeyField('etour.Visitor', source_field='visitor_id', db_constraint=True, to_field='id', related_name='recommend_events', on_delete=OnDelete.CASCADE)),
                ('item_id', fields.CharField(max_length=48)),
                ('kind', fields.CharEnumField(description='VIEW: view\nFAVOURITE: favourite\nUNFAVOURITE: unfavourite\nCHAT_INTEREST: chat_interest', enum_type=EventKind, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'visitor_event', 'app': 'etour', 'indexes': [Index(fields=['visitor_id', 'created_at']), Index(fields=['created_at', 'item_id'])], 'pk_attr': 'id', 'table_description': 'One event of a visitor on an item ("venue:12", "restaurant:7", "tour:3", "dish:5").'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VisitorInterests',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('visitor', fields.OneToOneField('etour.Visitor', source_field='visitor_id', db_constraint=True, to_field='id', related_name='recommend_interests', on_delete=OnDelete.CASCADE)),
                ('interests', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'visitor_interests', 'app': 'etour', 'pk_attr': 'id', 'table_description': 'The interests a visitor chose at onboarding (codes of recommend.profiles.INTERESTS).'},
            bases=['Model'],
        ),
    ]
