from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from server.accounts.models import Role
from server.fields import LocalTimeField
from server.venues.models import VenueKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Venue',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=40)),
                ('kind', fields.CharEnumField(description='SCENIC_AREA: scenic_area\nMUSEUM: museum\nLIBRARY: library\nTHEATRE: theatre\nSTREET: street\nHERITAGE_SITE: heritage_site', enum_type=VenueKind, max_length=20)),
                ('a_level', fields.SmallIntField(null=True)),
                ('name', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('description', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('address', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('county', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('transport', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('latitude', fields.FloatField(db_index=True)),
                ('longitude', fields.FloatField(db_index=True)),
                ('phone', fields.CharField(default='', max_length=32)),
                ('website', fields.CharField(default='', max_length=255)),
                ('photos', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('tags', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('prices', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('free_rules', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reservable', fields.BooleanField(default=False)),
                ('hidden', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'venue', 'app': 'etour', 'pk_attr': 'id', 'table_description': 'A place visitors go to. Text fields hold {"zh-CN": ..., "en": ...} objects.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClosingDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('venue', fields.ForeignKeyField('etour.Venue', source_field='venue_id', db_constraint=True, to_field='id', related_name='closing_days', on_delete=OnDelete.CASCADE)),
                ('date', fields.DateField()),
                ('reason', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'closing_day', 'app': 'etour', 'unique_together': (('venue', 'date'),), 'pk_attr': 'id', 'table_description': 'A special closing day (maintenance, typhoon, holiday closure).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OpeningHours',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('venue', fields.ForeignKeyField('etour.Venue', source_field='venue_id', db_constraint=True, to_field='id', related_name='opening_hours', on_delete=OnDelete.CASCADE)),
                ('weekday', fields.SmallIntField()),
                ('opens_at', LocalTimeField(generated=False, null=False, unique=False)),
                ('closes_at', LocalTimeField(generated=False, null=False, unique=False)),
                ('last_entry_at', LocalTimeField(null=True, generated=False, unique=False)),
            ],
            options={'table': 'opening_hours', 'app': 'etour', 'unique_together': (('venue', 'weekday'),), 'pk_attr': 'id', 'table_description': 'The regular hours of one weekday (0 = Monday). A weekday with no row is a closed day.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlotTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('venue', fields.ForeignKeyField('etour.Venue', source_field='venue_id', db_constraint=True, to_field='id', related_name='slot_templates', on_delete=OnDelete.CASCADE)),
                ('weekday', fields.SmallIntField()),
                ('starts_at', LocalTimeField(generated=False, null=False, unique=False)),
                ('ends_at', LocalTimeField(generated=False, null=False, unique=False)),
                ('capacity', fields.IntField()),
            ],
            options={'table': 'slot_template', 'app': 'etour', 'unique_together': (('venue', 'weekday', 'starts_at'),), 'pk_attr': 'id', 'table_description': 'One entry window of a weekday (0 = Monday) from which dated slots are generated.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffUser',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('password_hash', fields.CharField(max_length=255)),
                ('role', fields.CharEnumField(description='ADMIN: admin\nSUPERVISOR: supervisor\nVENUE_MANAGER: venue_manager\nVENUE_STAFF: venue_staff', enum_type=Role, max_length=16)),
                ('venue', fields.ForeignKeyField('etour.Venue', source_field='venue_id', null=True, db_constraint=True, to_field='id', related_name='staff', on_delete=OnDelete.RESTRICT)),
                ('is_active', fields.BooleanField(default=True)),
                ('failed_logins', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_user', 'app': 'etour', 'pk_attr': 'id', 'table_description': 'A staff account: bureau admin, supervisor, venue manager or gate staff.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TimeSlot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('venue', fields.ForeignKeyField('etour.Venue', source_field='venue_id', db_constraint=True, to_field='id', related_name='slots', on_delete=OnDelete.CASCADE)),
                ('date', fields.DateField()),
                ('starts_at', LocalTimeField(generated=False, null=False, unique=False)),
                ('ends_at', LocalTimeField(generated=False, null=False, unique=False)),
                ('capacity', fields.IntField()),
                ('booked', fields.IntField(default=0)),
            ],
            options={'table': 'time_slot', 'app': 'etour', 'unique_together': (('venue', 'date', 'starts_at'),), 'pk_attr': 'id', 'table_description': 'A dated entry window: `booked` only grows by a conditional UPDATE within capacity.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Visitor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(unique=True, max_length=64)),
                ('unionid', fields.CharField(null=True, max_length=64)),
                ('nickname', fields.CharField(default='', max_length=64)),
                ('language', fields.CharField(default='zh-CN', max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'visitor', 'app': 'etour', 'pk_attr': 'id', 'table_description': 'A tourist, known by the openid WeChat gives for the mini-program.'},
            bases=['Model'],
        ),
    ]
