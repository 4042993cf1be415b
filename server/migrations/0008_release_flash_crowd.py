from tortoise import migrations
from tortoise.migrations import operations as ops
from server.release.models import HoldStatus, QuotaKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('etour', '0007_card_book_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BookingQuota',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='ACCOUNT: account\nPERSON: person', enum_type=QuotaKind, max_length=8)),
                ('subject', fields.CharField(max_length=64)),
                ('date', fields.DateField()),
                ('used', fields.IntField(default=0)),
            ],
            options={'table': 'booking_quota', 'app': 'etour', 'unique_together': (('kind', 'subject', 'date'),), 'pk_attr': 'id', 'table_description': 'Reservations held on one visit day by one account or one person, within a daily limit.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BookingRefusal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('rule', fields.CharField(max_length=32)),
                ('visitor_id', fields.IntField(null=True)),
                ('slot_id', fields.IntField(null=True)),
                ('device', fields.CharField(default='', max_length=16)),
                ('detail', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'booking_refusal', 'app': 'etour', 'indexes': [Index(fields=['at']), Index(fields=['visitor_id', 'at']), Index(fields=['rule', 'at'])], 'pk_attr': 'id', 'table_description': 'A booking request refused by an anti-scalping rule, kept for the bureau to review.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlotHold',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('visitor', fields.ForeignKeyField('etour.Visitor', source_field='visitor_id', db_constraint=True, to_field='id', related_name='holds', on_delete=OnDelete.CASCADE)),
                ('slot', fields.ForeignKeyField('etour.TimeSlot', source_field='slot_id', db_constraint=True, to_field='id', related_name='holds', on_delete=OnDelete.CASCADE)),
                ('places', fields.SmallIntField()),
                ('status', fields.CharEnumField(default=HoldStatus.HELD, description='HELD: held\nUSED: used\nRELEASED: released\nEXPIRED: expired', enum_type=HoldStatus, max_length=16)),
                ('active', fields.BooleanField(null=True, default=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'slot_hold', 'app': 'etour', 'unique_together': (('visitor', 'active'),), 'indexes': [Index(fields=['status', 'expires_at'])], 'pk_attr': 'id', 'table_description': 'Places held in a slot for a few minutes while the visitor names the people.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='TimeSlot',
            name='revision',
            field=fields.IntField(default=0),
        ),
    ]
