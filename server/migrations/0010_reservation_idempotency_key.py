from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('etour', '0009_booking_refusal_function')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Reservation',
            name='idempotency_key',
            field=fields.CharField(null=True, max_length=128),
        ),
        ops.AddField(
            model_name='Reservation',
            name='request_fingerprint',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddConstraint(
            model_name='Reservation',
            constraint=UniqueConstraint(fields=('visitor', 'idempotency_key'), name=None),
        ),
    ]
