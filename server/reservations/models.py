"""Time slots: a venue's entry windows with their capacity and the places already booked."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.fields import LocalTimeField


class SlotTemplate(Model):
    """One entry window of a weekday (0 = Monday) from which dated slots are generated."""

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="slot_templates")
    weekday = fields.SmallIntField()
    starts_at = LocalTimeField()
    ends_at = LocalTimeField()
    capacity = fields.IntField()

    class Meta:
        table = "slot_template"
        unique_together = (("venue", "weekday", "starts_at"),)


class TimeSlot(Model):
    """A dated entry window: `booked` only grows by a conditional UPDATE within capacity."""

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="slots")
    date = fields.DateField()
    starts_at = LocalTimeField()
    ends_at = LocalTimeField()
    capacity = fields.IntField()
    booked = fields.IntField(default=0)

    class Meta:
        table = "time_slot"
        unique_together = (("venue", "date", "starts_at"),)
