from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from server.fields import LocalTimeField
from server.food.models import ReviewStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('etour', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Dish',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=40)),
                ('name', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('story', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('county', fields.CharField(db_index=True, max_length=20)),
                ('tags', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('aliases', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('photo', fields.CharField(default='', max_length=255)),
                ('search_terms', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'dish', 'app': 'etour', 'pk_attr': 'id', 'table_description': 'A Wenzhou dish. Text fields hold {"zh-CN": ..., "en": ...}, `county` a county code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Restaurant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=40)),
                ('name', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('description', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('address', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('county', fields.CharField(db_index=True, max_length=20)),
                ('latitude', fields.FloatField()),
                ('longitude', fields.FloatField()),
                ('phone', fields.CharField(default='', max_length=32)),
                ('photos', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('price_level', fields.SmallIntField(db_index=True)),
                ('certified', fields.BooleanField(default=False, db_index=True)),
                ('rating', fields.FloatField(null=True)),
                ('review_count', fields.IntField(default=0)),
                ('hidden', fields.BooleanField(default=False)),
                ('search_terms', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'restaurant', 'app': 'etour', 'indexes': [Index(fields=['latitude', 'longitude', 'hidden'])], 'pk_attr': 'id', 'table_description': 'A place to eat, found by position: latitude and longitude are indexed for the box search.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RestaurantDish',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('restaurant', fields.ForeignKeyField('etour.Restaurant', source_field='restaurant_id', db_constraint=True, to_field='id', related_name='menu', on_delete=OnDelete.CASCADE)),
                ('dish', fields.ForeignKeyField('etour.Dish', source_field='dish_id', db_constraint=True, to_field='id', related_name='served_at', on_delete=OnDelete.CASCADE)),
                ('price_cents', fields.IntField(null=True)),
                ('signature', fields.BooleanField(default=False)),
            ],
            options={'table': 'restaurant_dish', 'app': 'etour', 'unique_together': (('restaurant', 'dish'),), 'pk_attr': 'id', 'table_description': "A dish on a restaurant's menu: `signature` marks what the house is known for."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RestaurantHours',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('restaurant', fields.ForeignKeyField('etour.Restaurant', source_field='restaurant_id', db_constraint=True, to_field='id', related_name='hours', on_delete=OnDelete.CASCADE)),
                ('weekday', fields.SmallIntField()),
                ('opens_at', LocalTimeField(generated=False, null=False, unique=False)),
                ('closes_at', LocalTimeField(generated=False, null=False, unique=False)),
            ],
            options={'table': 'restaurant_hours', 'app': 'etour', 'unique_together': (('restaurant', 'weekday', 'opens_at'),), 'pk_attr': 'id', 'table_description': 'One opening session of a weekday (0 = Monday): lunch and dinner are two rows.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Review',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('restaurant', fields.ForeignKeyField('etour.Restaurant', source_field='restaurant_id', db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.CASCADE)),
                ('visitor', fields.ForeignKeyField('etour.Visitor', source_field='visitor_id', db_constraint=True, to_field='id', related_name='restaurant_reviews', on_delete=OnDelete.CASCADE)),
                ('rating', fields.SmallIntField()),
                ('text', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(description='PUBLISHED: published\nPENDING: pending\nREJECTED: rejected', enum_type=ReviewStatus, max_length=16)),
                ('flagged_terms', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'restaurant_review', 'app': 'etour', 'unique_together': (('restaurant', 'visitor'),), 'indexes': [Index(fields=['restaurant_id', 'status', 'updated_at'])], 'pk_attr': 'id', 'table_description': "A visitor's review of a restaurant: at most one each (the unique key), editable."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tour',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=40)),
                ('venue', fields.ForeignKeyField('etour.Venue', source_field='venue_id', null=True, db_constraint=True, to_field='id', related_name='tours', on_delete=OnDelete.SET_NULL)),
                ('name', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('summary', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('night', fields.BooleanField(default=False, db_index=True)),
                ('starts_at', LocalTimeField(null=True, generated=False, unique=False)),
                ('cover_photo', fields.CharField(default='', max_length=255)),
                ('hidden', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'tour', 'app': 'etour', 'pk_attr': 'id', 'table_description': 'A guided route of a venue (`venue` set) or across the city (`venue` empty).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TourStop',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tour', fields.ForeignKeyField('etour.Tour', source_field='tour_id', db_constraint=True, to_field='id', related_name='stops', on_delete=OnDelete.CASCADE)),
                ('position', fields.SmallIntField()),
                ('venue', fields.ForeignKeyField('etour.Venue', source_field='venue_id', null=True, db_constraint=True, to_field='id', related_name='tour_stops', on_delete=OnDelete.SET_NULL)),
                ('name', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('narration', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('latitude', fields.FloatField()),
                ('longitude', fields.FloatField()),
                ('audio_url', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('panorama_url', fields.CharField(default='', max_length=255)),
                ('minutes', fields.SmallIntField(default=10)),
            ],
            options={'table': 'tour_stop', 'app': 'etour', 'unique_together': (('tour', 'position'),), 'pk_attr': 'id', 'table_description': 'One stop of a tour, in `position` order: a venue, or a point inside one, with its own spot.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TourProgress',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('visitor', fields.ForeignKeyField('etour.Visitor', source_field='visitor_id', db_constraint=True, to_field='id', related_name='tour_progress', on_delete=OnDelete.CASCADE)),
                ('tour', fields.ForeignKeyField('etour.Tour', source_field='tour_id', db_constraint=True, to_field='id', related_name='progress', on_delete=OnDelete.CASCADE)),
                ('stop', fields.ForeignKeyField('etour.TourStop', source_field='stop_id', db_constraint=True, to_field='id', related_name='visits', on_delete=OnDelete.CASCADE)),
                ('visited_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tour_progress', 'app': 'etour', 'unique_together': (('visitor', 'stop'),), 'indexes': [Index(fields=['visitor_id', 'tour_id'])], 'pk_attr': 'id', 'table_description': 'A stop a visitor has marked as visited on a tour: one row per visitor and stop.'},
            bases=['Model'],
        ),
    ]
