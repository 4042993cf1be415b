"""Tickets (one per named visitor), gate scans, live occupancy and crowd warnings."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class TicketStatus(StrEnum):
    """A ticket admits once: valid until used at the gate, or revoked by cancellation."""

    VALID = "valid"
    USED = "used"
    REVOKED = "revoked"


class Ticket(Model):
    """Entry for one named person to one slot. Personal data is stored encrypted and masked."""

    id = fields.IntField(primary_key=True)
    reservation = fields.ForeignKeyField("etour.Reservation", related_name="tickets")
    venue = fields.ForeignKeyField("etour.Venue", related_name="tickets")
    slot = fields.ForeignKeyField("etour.TimeSlot", related_name="tickets")
    date = fields.DateField()
    holder_name_encrypted = fields.TextField()
    holder_name_masked = fields.CharField(max_length=64)
    id_number_encrypted = fields.TextField()
    id_number_hash = fields.CharField(max_length=64, db_index=True)
    id_number_masked = fields.CharField(max_length=32)
    fare = fields.JSONField(default=dict)  # {"discount": "free"|"half"|None, "rule", "note", ...}
    price_cents = fields.IntField(default=0)
    status = fields.CharEnumField(TicketStatus, max_length=16, default=TicketStatus.VALID)
    admitted_at = fields.DatetimeField(null=True)
    exited_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket"


class ScanDirection(StrEnum):
    """Whether a scan lets someone in or records them leaving."""

    ENTRY = "entry"
    EXIT = "exit"


class GateScan(Model):
    """Every scan at a gate, admitted or refused, with its reason (the gate's audit trail)."""

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="scans")
    ticket = fields.ForeignKeyField("etour.Ticket", related_name="scans", null=True)
    staff = fields.ForeignKeyField("etour.StaffUser", related_name="scans", null=True)
    direction = fields.CharEnumField(ScanDirection, max_length=8)
    admitted = fields.BooleanField()
    reason = fields.CharField(max_length=40)
    # Offline scans are uploaded later, maybe twice: the device's nonce makes them count once.
    nonce = fields.CharField(max_length=64, null=True, unique=True)
    gate = fields.CharField(max_length=64, null=True)  # which gate or device scanned, e.g. north-2
    scanned_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "gate_scan"


class VenueOccupancy(Model):
    """People inside a venue on one day: entries minus exits, kept by conditional UPDATEs."""

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="occupancy_days")
    date = fields.DateField()
    inside = fields.IntField(default=0)
    entered = fields.IntField(default=0)
    exited = fields.IntField(default=0)

    class Meta:
        table = "venue_occupancy"
        unique_together = (("venue", "date"),)


class OccupancyWarning(Model):
    """A crowd warning, recorded once each time occupancy crosses a threshold upwards."""

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="warnings")
    date = fields.DateField()
    threshold_percent = fields.SmallIntField()
    occupancy = fields.IntField()
    capacity = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "occupancy_warning"
