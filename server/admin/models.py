"""The admin side's stored rows: the append-only audit log and hourly usage counters."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """One admin action: who (and in which role) did what to which target, when, before/after.

    Append-only: no code path updates or deletes a row except the retention job, which removes
    only rows older than the retention period (on PostgreSQL and SQLite a trigger enforces this).
    """

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    actor_id = fields.IntField(null=True)  # the staff account; None for the system (CLI, jobs)
    actor_role = fields.CharField(max_length=16)
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=40)
    target_id = fields.CharField(max_length=64)
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    request_id = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "audit_entry"
        indexes = (("actor_id", "at"), ("action", "at"), ("target_type", "target_id", "at"))


class UsageCount(Model):
    """How often something happened in one local hour (food-map searches, ...), for the cockpit."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=40)
    date = fields.DateField()
    hour = fields.SmallIntField()
    count = fields.IntField(default=0)

    class Meta:
        table = "usage_count"
        unique_together = (("name", "date", "hour"),)
