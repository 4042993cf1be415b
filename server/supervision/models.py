"""Market supervision: entities, credit, inspections, complaints, risk warnings."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class EntityKind(StrEnum):
    """The licensed market entities the bureau supervises."""

    TRAVEL_AGENCY = "travel_agency"
    TOUR_GUIDE = "tour_guide"
    INTERNET_CAFE = "internet_cafe"
    PERFORMANCE_BROKER = "performance_broker"
    HOTEL = "hotel"
    SCENIC_AREA = "scenic_area"


class MarketEntity(Model):
    """A licensed entity. A tour guide is a person: their phone is stored only encrypted."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(EntityKind, max_length=24)
    licence_number = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=128)
    address = fields.CharField(max_length=255, default="")
    county = fields.CharField(max_length=32, default="", db_index=True)  # 鹿城区, 乐清市 ...
    contact_name = fields.CharField(max_length=64, default="")
    # An organisation's switchboard is public; a person's mobile is personal data (PIPL).
    contact_phone = fields.CharField(max_length=32, default="")
    contact_phone_encrypted = fields.TextField(null=True)
    contact_phone_masked = fields.CharField(max_length=16, default="")
    venue = fields.ForeignKeyField(
        "etour.Venue", related_name="market_entities", null=True, on_delete=fields.SET_NULL
    )
    a_level = fields.SmallIntField(null=True)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "market_entity"
        indexes = (("kind", "county"),)


class CreditRecordKind(StrEnum):
    """What a credit record is about."""

    COMPLAINT_UPHELD = "complaint_upheld"
    ADMINISTRATIVE_PENALTY = "administrative_penalty"
    INSPECTION_RESULT = "inspection_result"
    COMMENDATION = "commendation"


class CreditRecord(Model):
    """One fact in an entity's credit file, with the points it counts (negative: a demerit)."""

    id = fields.IntField(primary_key=True)
    entity = fields.ForeignKeyField("etour.MarketEntity", related_name="credit_records")
    kind = fields.CharEnumField(CreditRecordKind, max_length=24)
    category = fields.CharField(max_length=32)  # e.g. large_fine, licence_revoked, fail
    points = fields.IntField()
    reason = fields.TextField()
    occurred_on = fields.DateField()
    # "complaint:12", "inspection:5": one record per source, so retries do not count twice.
    source = fields.CharField(max_length=48, null=True, unique=True)
    recorded_by = fields.ForeignKeyField(
        "etour.StaffUser", related_name="credit_records", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "credit_record"
        indexes = (("entity_id", "occurred_on"),)


class CreditListKind(StrEnum):
    """The two lists of the 2022 Culture and Tourism Market Credit Management Rules."""

    KEY_SUPERVISION = "key_supervision"  # 重点关注名单
    SERIOUS_DISHONESTY = "serious_dishonesty"  # 严重失信主体名单


class CreditListEntry(Model):
    """An entity's time on a list: why and when it entered, when and why it left."""

    id = fields.IntField(primary_key=True)
    entity = fields.ForeignKeyField("etour.MarketEntity", related_name="list_entries")
    list_kind = fields.CharEnumField(CreditListKind, max_length=24)
    basis = fields.CharField(max_length=40)  # the rule that put it there
    reason = fields.TextField()
    entered_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)
    removal_reason = fields.TextField(null=True)
    source_record = fields.ForeignKeyField(
        "etour.CreditRecord", related_name="list_entries", null=True, on_delete=fields.SET_NULL
    )
    entered_by = fields.ForeignKeyField(
        "etour.StaffUser", related_name="list_entries", null=True, on_delete=fields.SET_NULL
    )
    removed_by = fields.ForeignKeyField(
        "etour.StaffUser", related_name="list_removals", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "credit_list_entry"
        indexes = (("list_kind", "removed_at"), ("entity_id", "list_kind"))


class ComplaintChannel(StrEnum):
    """Where a complaint came in."""

    MINIAPP = "miniapp"
    CHAT = "chat"
    STAFF = "staff"
    PHONE = "phone"


class ComplaintStatus(StrEnum):
    """Where a complaint stands."""

    OPEN = "open"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"


class Complaint(Model):
    """A visitor's complaint, handled by staff within the deadlines of the complaint rules."""

    id = fields.IntField(primary_key=True)
    reference = fields.CharField(max_length=20, unique=True)  # TS20261129-0001
    text = fields.TextField()
    channel = fields.CharEnumField(ComplaintChannel, max_length=8)
    category = fields.CharField(max_length=32, null=True)
    venue = fields.ForeignKeyField(
        "etour.Venue", related_name="complaints", null=True, on_delete=fields.SET_NULL
    )
    entity = fields.ForeignKeyField(
        "etour.MarketEntity", related_name="complaints", null=True, on_delete=fields.SET_NULL
    )
    visitor = fields.ForeignKeyField(
        "etour.Visitor", related_name="complaints", null=True, on_delete=fields.SET_NULL
    )
    contact_phone_encrypted = fields.TextField(null=True)
    contact_phone_masked = fields.CharField(max_length=16, default="")
    occurred_at = fields.DatetimeField(null=True)
    status = fields.CharEnumField(ComplaintStatus, max_length=10, default=ComplaintStatus.OPEN)
    filed_at = fields.DatetimeField()
    filed_on = fields.DateField()  # local date, for the cockpit's per-day figures
    accept_by = fields.DatetimeField()
    deadline = fields.DatetimeField()
    assignee = fields.ForeignKeyField(
        "etour.StaffUser", related_name="complaints", null=True, on_delete=fields.SET_NULL
    )
    assigned_at = fields.DatetimeField(null=True)
    answer = fields.TextField(null=True)
    answered_at = fields.DatetimeField(null=True)
    upheld = fields.BooleanField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "complaint"
        indexes = (("status", "deadline"), ("filed_on",), ("visitor_id", "filed_at"))


class Inspector(Model):
    """A law-enforcement officer in the inspector pool (执法检查人员名录库)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    badge_number = fields.CharField(max_length=32, unique=True)
    staff = fields.ForeignKeyField(
        "etour.StaffUser", related_name="inspector_profiles", null=True, on_delete=fields.SET_NULL
    )
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "inspector"


class InspectorConflict(Model):
    """A declared conflict of interest: this inspector never inspects this entity."""

    id = fields.IntField(primary_key=True)
    inspector = fields.ForeignKeyField("etour.Inspector", related_name="conflicts")
    entity = fields.ForeignKeyField("etour.MarketEntity", related_name="inspector_conflicts")
    reason = fields.CharField(max_length=255)
    declared_at = fields.DatetimeField()

    class Meta:
        table = "inspector_conflict"
        unique_together = (("inspector", "entity"),)


class InspectionPlan(Model):
    """One 双随机 draw: its seed and the snapshot it drew from, so anyone can redo it."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128)
    seed = fields.CharField(max_length=64)
    rates = fields.JSONField()  # {"A": 0.05, "B": 0.1, ...}
    snapshot = fields.JSONField()  # entities with grades, inspectors, conflicts at draw time
    kinds = fields.JSONField(default=list)
    county = fields.CharField(max_length=32, default="")
    drawn_at = fields.DatetimeField()
    drawn_by = fields.ForeignKeyField(
        "etour.StaffUser", related_name="inspection_plans", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "inspection_plan"


class InspectionResult(StrEnum):
    """The outcome of an inspection."""

    PASSED = "passed"
    RECTIFY = "rectify"  # problems found, ordered to put them right
    FAILED = "failed"


class InspectionTask(Model):
    """One drawn entity and the two inspectors drawn for it, with the result once inspected."""

    id = fields.IntField(primary_key=True)
    plan = fields.ForeignKeyField("etour.InspectionPlan", related_name="tasks")
    entity = fields.ForeignKeyField("etour.MarketEntity", related_name="inspection_tasks")
    inspector_a = fields.ForeignKeyField("etour.Inspector", related_name="tasks_as_a")
    inspector_b = fields.ForeignKeyField("etour.Inspector", related_name="tasks_as_b")
    result = fields.CharEnumField(InspectionResult, max_length=8, null=True)
    findings = fields.TextField(null=True)
    inspected_on = fields.DateField(null=True)
    recorded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inspection_task"
        unique_together = (("plan", "entity"),)


class RiskKind(StrEnum):
    """Where a risk warning comes from."""

    WEATHER = "weather"
    TRAFFIC = "traffic"


class RiskLevel(StrEnum):
    """China's four warning colours, from least to most severe."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


class RiskWarning(Model):
    """A weather warning or traffic event from the feed, with the venues it affects."""

    id = fields.IntField(primary_key=True)
    source = fields.CharField(max_length=64)
    external_id = fields.CharField(max_length=64)
    kind = fields.CharEnumField(RiskKind, max_length=8)
    level = fields.CharEnumField(RiskLevel, max_length=8)
    title = fields.JSONField()
    description = fields.JSONField(default=dict)
    areas = fields.JSONField(default=list)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    radius_m = fields.IntField(null=True)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField(db_index=True)
    imported_at = fields.DatetimeField()

    class Meta:
        table = "risk_warning"
        unique_together = (("source", "external_id"),)


class RiskWarningVenue(Model):
    """A venue a risk warning reaches, by its county or its distance from the warning's point."""

    id = fields.IntField(primary_key=True)
    warning = fields.ForeignKeyField("etour.RiskWarning", related_name="venue_links")
    venue = fields.ForeignKeyField("etour.Venue", related_name="risk_links")

    class Meta:
        table = "risk_warning_venue"
        unique_together = (("warning", "venue"),)
