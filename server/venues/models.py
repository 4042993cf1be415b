"""The catalogue: scenic areas, museums, libraries, theatres and streets, with their hours."""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.fields import LocalTimeField


class VenueKind(StrEnum):
    """What sort of place a venue is."""

    SCENIC_AREA = "scenic_area"
    MUSEUM = "museum"
    LIBRARY = "library"
    THEATRE = "theatre"
    STREET = "street"
    HERITAGE_SITE = "heritage_site"


class Venue(Model):
    """A place visitors go to. Text fields hold {"zh-CN": ..., "en": ...} objects."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    kind = fields.CharEnumField(VenueKind, max_length=20)
    a_level = fields.SmallIntField(null=True)  # national A-level rating of scenic areas, 1..5
    name = fields.JSONField()
    description = fields.JSONField(default=dict)
    address = fields.JSONField(default=dict)
    county = fields.JSONField(default=dict)
    transport = fields.JSONField(default=dict)
    latitude = fields.FloatField(db_index=True)
    longitude = fields.FloatField(db_index=True)
    phone = fields.CharField(max_length=32, default="")
    website = fields.CharField(max_length=255, default="")
    photos = fields.JSONField(default=list)
    tags = fields.JSONField(default=dict)  # {"zh-CN": ["博物馆", ...], "en": ["museum", ...]}
    prices = fields.JSONField(default=list)  # [{"name": {...}, "price_cents": 0}]
    free_rules = fields.JSONField(default=list)  # [{"rule": "age_at_least", "value": 60, ...}]
    reservable = fields.BooleanField(default=False)
    hidden = fields.BooleanField(default=False)
    # Flow limits (限流): people booked for one day, and people inside at one moment.
    daily_capacity = fields.IntField(null=True)
    instant_capacity = fields.IntField(null=True)
    # Booking opens `booking_days_ahead` days before the visit, at `booking_opens_at` local time.
    booking_days_ahead = fields.SmallIntField(default=7)
    booking_opens_at = LocalTimeField(default=time(20, 0))
    cancel_deadline_minutes = fields.IntField(default=60)  # before the slot starts
    # Gate tolerance around a slot: how early one may enter, how late after the slot ends.
    entry_early_minutes = fields.IntField(default=30)
    entry_late_minutes = fields.IntField(default=30)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "venue"


class OpeningHours(Model):
    """The regular hours of one weekday (0 = Monday). A weekday with no row is a closed day."""

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="opening_hours")
    weekday = fields.SmallIntField()
    opens_at = LocalTimeField()
    closes_at = LocalTimeField()
    last_entry_at = LocalTimeField(null=True)

    class Meta:
        table = "opening_hours"
        unique_together = (("venue", "weekday"),)


class ClosingDay(Model):
    """A special closing day (maintenance, typhoon, holiday closure)."""

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="closing_days")
    date = fields.DateField()
    reason = fields.JSONField(default=dict)

    class Meta:
        table = "closing_day"
        unique_together = (("venue", "date"),)
