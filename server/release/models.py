"""Holds, per-day booking quotas and the refusals the anti-scalping rules made."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class HoldStatus(StrEnum):
    """Where a hold stands: held, then used by a reservation, released, or expired."""

    HELD = "held"
    USED = "used"
    RELEASED = "released"
    EXPIRED = "expired"


class SlotHold(Model):
    """Places held in a slot for a few minutes while the visitor names the people."""

    id = fields.IntField(primary_key=True)
    visitor = fields.ForeignKeyField("etour.Visitor", related_name="holds")
    slot = fields.ForeignKeyField("etour.TimeSlot", related_name="holds")
    places = fields.SmallIntField()
    status = fields.CharEnumField(HoldStatus, max_length=16, default=HoldStatus.HELD)
    # True while held, NULL afterwards: the unique key (visitor, active) allows one live hold.
    active = fields.BooleanField(null=True, default=True)
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "slot_hold"
        unique_together = (("visitor", "active"),)
        indexes = (("status", "expires_at"),)


class QuotaKind(StrEnum):
    """Whose reservations a quota row counts: an account's or a person's (by ID hash)."""

    ACCOUNT = "account"
    PERSON = "person"


class BookingQuota(Model):
    """Reservations held on one visit day by one account or one person, within a daily limit."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(QuotaKind, max_length=8)
    subject = fields.CharField(max_length=64)  # the visitor id, or the ID-number lookup hash
    date = fields.DateField()
    used = fields.IntField(default=0)

    class Meta:
        table = "booking_quota"
        unique_together = (("kind", "subject", "date"),)


class BookingRefusal(Model):
    """A booking request refused by an anti-scalping rule, kept for the bureau to review."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField()
    rule = fields.CharField(max_length=32)
    visitor_id = fields.IntField(null=True)
    slot_id = fields.IntField(null=True)
    # A keyed hash of the device id or address: enough to group refusals, not to trace a person.
    device = fields.CharField(max_length=16, default="")
    detail = fields.CharField(max_length=200, default="")

    class Meta:
        table = "booking_refusal"
        indexes = (("at",), ("visitor_id", "at"), ("rule", "at"))
