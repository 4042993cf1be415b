"""Slots, reservations and the per-person daily claims that stop double booking."""

from __future__ import annotations

from enum import StrEnum

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
    # Grows with every change of `booked` or `capacity`: the Redis mirror of the remaining
    # places keeps only the newest revision, whatever order the updates reach it in.
    revision = fields.IntField(default=0)

    class Meta:
        table = "time_slot"
        unique_together = (("venue", "date", "starts_at"),)


class VenueDay(Model):
    """The places booked at a venue on one day, claimed against the venue's daily cap."""

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="days")
    date = fields.DateField()
    booked = fields.IntField(default=0)

    class Meta:
        table = "venue_day"
        unique_together = (("venue", "date"),)


class ReservationStatus(StrEnum):
    """Where a reservation stands."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class Reservation(Model):
    """A visitor's booking of places in one slot for one to five named people."""

    id = fields.IntField(primary_key=True)
    visitor = fields.ForeignKeyField("etour.Visitor", related_name="reservations")
    venue = fields.ForeignKeyField("etour.Venue", related_name="reservations")
    slot = fields.ForeignKeyField("etour.TimeSlot", related_name="reservations")
    date = fields.DateField()
    party_size = fields.SmallIntField()
    status = fields.CharEnumField(ReservationStatus, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    cancelled_at = fields.DatetimeField(null=True)
    # The request's Idempotency-Key and body digest: a retry finds its first booking here, also
    # when Redis lost the key's record.
    idempotency_key = fields.CharField(max_length=128, null=True)
    request_fingerprint = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "reservation"
        indexes = (("visitor_id", "created_at"), ("venue_id", "date"))
        unique_together = (("visitor", "idempotency_key"),)


class PersonDayClaim(Model):
    """One person (by ID-number hash) holds at most one reservation per venue per day.

    The unique key is the guard under concurrency; the row is deleted when the ticket is cancelled.
    """

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="person_claims")
    date = fields.DateField()
    id_number_hash = fields.CharField(max_length=64)
    reservation = fields.ForeignKeyField("etour.Reservation", related_name="claims")

    class Meta:
        table = "person_day_claim"
        unique_together = (("venue", "date", "id_number_hash"),)
