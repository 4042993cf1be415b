"""Request and response shapes of supervision: complaints, entities, credit, inspections, risks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from server.http import RowId
from server.supervision.models import (
    Complaint,
    ComplaintChannel,
    ComplaintStatus,
    CreditListEntry,
    CreditListKind,
    CreditRecord,
    CreditRecordKind,
    EntityKind,
    InspectionResult,
    MarketEntity,
    RiskKind,
    RiskLevel,
)
from server.supervision.service import is_overdue

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)
_QUERY = ConfigDict(extra="ignore")


# --- complaints ----------------------------------------------------------------------------


class ComplaintIn(BaseModel):
    """A visitor's complaint from the mini-program."""

    model_config = _STRICT

    text: str = Field(min_length=2, max_length=2000)
    venue_id: RowId | None = None
    entity_id: RowId | None = None
    category: str | None = Field(None, max_length=32)
    occurred_at: AwareDatetime | None = None


class StaffComplaintIn(ComplaintIn):
    """A complaint taken by staff, in person or on the phone (the caller's phone is optional)."""

    channel: Literal["staff", "phone"] = "phone"
    contact_phone: str | None = Field(None, max_length=20)


class ComplaintFiledOut(BaseModel):
    id: int
    reference: str
    status: ComplaintStatus


class ComplaintOut(BaseModel):
    """A complaint as staff see it; `overdue` is true when a step is late now."""

    id: int
    reference: str
    text: str
    channel: ComplaintChannel
    category: str | None
    venue_id: int | None
    entity_id: int | None
    contact_phone: str = Field(description="masked")
    occurred_at: datetime | None
    status: ComplaintStatus
    filed_at: datetime
    accept_by: datetime
    deadline: datetime
    assignee_id: int | None
    assigned_at: datetime | None
    answer: str | None
    answered_at: datetime | None
    upheld: bool | None
    closed_at: datetime | None
    overdue: bool


class VisitorComplaintOut(BaseModel):
    """A complaint as its visitor sees it."""

    id: int
    reference: str
    text: str
    status: ComplaintStatus
    filed_at: datetime
    deadline: datetime
    answer: str | None
    answered_at: datetime | None


class ComplaintsQuery(BaseModel):
    model_config = _QUERY

    status: ComplaintStatus | None = None
    overdue: bool | None = None
    venue_id: RowId | None = None
    entity_id: RowId | None = None
    assignee_id: RowId | None = None
    since: date | None = Field(None, description="filed on or after this local day")
    until: date | None = Field(None, description="filed on or before this local day")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class AssignIn(BaseModel):
    model_config = _STRICT

    assignee_id: RowId


class AnswerIn(BaseModel):
    model_config = _STRICT

    answer: str = Field(min_length=2, max_length=4000)
    upheld: bool


class FiguresQuery(BaseModel):
    model_config = _QUERY

    start: date
    end: date


def complaint_out(complaint: Complaint, now: datetime) -> ComplaintOut:
    """The staff view of a complaint at `now`."""
    return ComplaintOut(
        id=complaint.id,
        reference=complaint.reference,
        text=complaint.text,
        channel=complaint.channel,
        category=complaint.category,
        venue_id=complaint.venue_id,
        entity_id=complaint.entity_id,
        contact_phone=complaint.contact_phone_masked,
        occurred_at=complaint.occurred_at,
        status=complaint.status,
        filed_at=complaint.filed_at,
        accept_by=complaint.accept_by,
        deadline=complaint.deadline,
        assignee_id=complaint.assignee_id,
        assigned_at=complaint.assigned_at,
        answer=complaint.answer,
        answered_at=complaint.answered_at,
        upheld=complaint.upheld,
        closed_at=complaint.closed_at,
        overdue=is_overdue(complaint, now),
    )


def visitor_complaint_out(complaint: Complaint) -> VisitorComplaintOut:
    """The visitor's view of their own complaint."""
    return VisitorComplaintOut(
        id=complaint.id,
        reference=complaint.reference,
        text=complaint.text,
        status=complaint.status,
        filed_at=complaint.filed_at,
        deadline=complaint.deadline,
        answer=complaint.answer,
        answered_at=complaint.answered_at,
    )


# --- market entities and credit ------------------------------------------------------------


class EntityIn(BaseModel):
    """A market entity; `contact_phone` of a tour guide is a personal mobile, kept encrypted."""

    model_config = _STRICT

    kind: EntityKind
    licence_number: str = Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9\-]+$")
    name: str = Field(min_length=2, max_length=128)
    address: str = Field("", max_length=255)
    county: str = Field("", max_length=32)
    contact_name: str = Field("", max_length=64)
    contact_phone: str = Field("", max_length=20)
    venue_id: RowId | None = None
    a_level: int | None = Field(None, ge=1, le=5)


class EntitiesQuery(BaseModel):
    model_config = _QUERY

    kind: EntityKind | None = None
    county: str | None = Field(None, max_length=32)
    grade: Literal["A", "B", "C", "D"] | None = None
    q: str | None = Field(None, max_length=64, description="part of the name or licence number")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class CreditOut(BaseModel):
    score: float
    grade: Literal["A", "B", "C", "D"]
    lists: list[CreditListKind]


class EntityOut(BaseModel):
    id: int
    kind: EntityKind
    licence_number: str
    name: str
    address: str
    county: str
    contact_name: str
    contact_phone: str = Field(description="masked for individuals")
    venue_id: int | None
    a_level: int | None
    active: bool
    credit: CreditOut


class CreditRecordIn(BaseModel):
    model_config = _STRICT

    kind: CreditRecordKind
    category: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=2, max_length=2000)
    occurred_on: date
    points: int | None = Field(None, ge=-100, le=50)


class CreditRecordOut(BaseModel):
    id: int
    entity_id: int
    kind: CreditRecordKind
    category: str
    points: int
    reason: str
    occurred_on: date
    source: str | None


class ListEntryOut(BaseModel):
    id: int
    entity_id: int
    entity_name: str
    licence_number: str
    list_kind: CreditListKind
    basis: str
    reason: str
    entered_at: datetime
    expires_at: datetime
    removed_at: datetime | None
    removal_reason: str | None


class ListQuery(BaseModel):
    model_config = _QUERY

    list_kind: CreditListKind | None = None
    active: bool = True


class RemovalIn(BaseModel):
    model_config = _STRICT

    reason: str = Field(min_length=2, max_length=1000)


def entity_out(entity: MarketEntity, credit: Any) -> EntityOut:
    """Staff view of an entity: an individual's phone only masked."""
    return EntityOut(
        id=entity.id,
        kind=entity.kind,
        licence_number=entity.licence_number,
        name=entity.name,
        address=entity.address,
        county=entity.county,
        contact_name=entity.contact_name,
        contact_phone=entity.contact_phone_masked or entity.contact_phone,
        venue_id=entity.venue_id,
        a_level=entity.a_level,
        active=entity.active,
        credit=CreditOut(score=credit.score, grade=credit.grade, lists=list(credit.lists)),
    )


def credit_record_out(record: CreditRecord) -> CreditRecordOut:
    return CreditRecordOut(
        id=record.id,
        entity_id=record.entity_id,
        kind=record.kind,
        category=record.category,
        points=record.points,
        reason=record.reason,
        occurred_on=record.occurred_on,
        source=record.source,
    )


def list_entry_out(entry: CreditListEntry) -> ListEntryOut:
    return ListEntryOut(
        id=entry.id,
        entity_id=entry.entity_id,
        entity_name=entry.entity.name,
        licence_number=entry.entity.licence_number,
        list_kind=entry.list_kind,
        basis=entry.basis,
        reason=entry.reason,
        entered_at=entry.entered_at,
        expires_at=entry.expires_at,
        removed_at=entry.removed_at,
        removal_reason=entry.removal_reason,
    )


# --- inspections ---------------------------------------------------------------------------


class InspectorIn(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=2, max_length=64)
    badge_number: str = Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9\-]+$")
    staff_id: RowId | None = None


class ConflictIn(BaseModel):
    model_config = _STRICT

    entity_id: RowId
    reason: str = Field(min_length=2, max_length=255)


class DrawIn(BaseModel):
    """A draw: sampling rates by grade (lower grade, higher rate), an optional pool filter."""

    model_config = _STRICT

    name: str = Field(min_length=2, max_length=128)
    seed: str | None = Field(
        None, min_length=1, max_length=64, description="a random one is made when omitted"
    )
    rates: dict[Literal["A", "B", "C", "D"], float] | None = None
    kinds: list[EntityKind] = Field(default_factory=list)
    county: str = Field("", max_length=32)

    @field_validator("rates")
    @classmethod
    def _rates_are_shares(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and not all(0 <= rate <= 1 for rate in value.values()):
            raise ValueError("each rate must be between 0 and 1")
        return value


class ResultIn(BaseModel):
    model_config = _STRICT

    result: InspectionResult
    findings: str = Field("", max_length=4000)
    inspected_on: date


# --- risk warnings -------------------------------------------------------------------------


class LocalisedText(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    zh_cn: str = Field(alias="zh-CN", min_length=1, max_length=500)
    en: str | None = Field(None, max_length=500)

    def as_dict(self) -> dict[str, str]:
        return {"zh-CN": self.zh_cn, **({"en": self.en} if self.en else {})}


class FeedPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class FeedItem(BaseModel):
    """One warning or event of the risk feed (format documented in server/supervision/risk.py)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=64)
    type: RiskKind
    level: RiskLevel
    title: LocalisedText
    description: LocalisedText | None = None
    areas: list[str] = Field(default_factory=list, max_length=50)
    point: FeedPoint | None = None
    radius_m: int | None = Field(None, ge=1, le=200_000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> FeedItem:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class Feed(BaseModel):
    """The risk feed document."""

    model_config = ConfigDict(extra="ignore")

    source: str = Field(min_length=1, max_length=64)
    generated_at: AwareDatetime | None = None
    items: list[FeedItem] = Field(max_length=1000)


class InspectorOut(BaseModel):
    id: int
    name: str
    badge_number: str
    staff_id: int | None
    active: bool
    conflict_entity_ids: list[int]


class InspectorBrief(BaseModel):
    id: int
    name: str
    badge_number: str


class TaskOut(BaseModel):
    id: int
    entity_id: int
    entity_name: str
    licence_number: str
    inspectors: list[InspectorBrief]
    result: InspectionResult | None
    findings: str | None
    inspected_on: date | None


class PlanOut(BaseModel):
    id: int
    name: str
    seed: str
    rates: dict[str, float]
    kinds: list[str]
    county: str
    drawn_at: datetime
    pool_size: int
    tasks: list[TaskOut]


class PublicResultOut(BaseModel):
    """A published inspection result: no inspectors, no findings, a person's name masked."""

    plan: str
    drawn_at: datetime
    entity_kind: EntityKind
    entity_name: str
    licence_number: str
    county: str
    result: InspectionResult
    inspected_on: date


class PageQuery(BaseModel):
    model_config = _QUERY

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class WarningsQuery(BaseModel):
    model_config = _QUERY

    include_ended: bool = False


class RiskWarningOut(BaseModel):
    id: int
    source: str
    external_id: str
    kind: RiskKind
    level: RiskLevel
    title: dict[str, str]
    description: dict[str, str]
    areas: list[str]
    starts_at: datetime
    ends_at: datetime
    venue_ids: list[int]


def inspector_out(inspector: Any) -> InspectorOut:
    return InspectorOut(
        id=inspector.id,
        name=inspector.name,
        badge_number=inspector.badge_number,
        staff_id=inspector.staff_id,
        active=inspector.active,
        conflict_entity_ids=sorted(c.entity_id for c in inspector.conflicts),
    )


def _brief(inspector: Any) -> InspectorBrief:
    return InspectorBrief(id=inspector.id, name=inspector.name, badge_number=inspector.badge_number)


def task_out(task: Any) -> TaskOut:
    return TaskOut(
        id=task.id,
        entity_id=task.entity_id,
        entity_name=task.entity.name,
        licence_number=task.entity.licence_number,
        inspectors=[_brief(task.inspector_a), _brief(task.inspector_b)],
        result=task.result,
        findings=task.findings,
        inspected_on=task.inspected_on,
    )


def plan_out(plan: Any, tasks: list[Any]) -> PlanOut:
    return PlanOut(
        id=plan.id,
        name=plan.name,
        seed=plan.seed,
        rates=plan.rates,
        kinds=plan.kinds,
        county=plan.county,
        drawn_at=plan.drawn_at,
        pool_size=len(plan.snapshot["entities"]),
        tasks=[task_out(task) for task in tasks],
    )


def risk_warning_out(warning: Any) -> RiskWarningOut:
    return RiskWarningOut(
        id=warning.id,
        source=warning.source,
        external_id=warning.external_id,
        kind=warning.kind,
        level=warning.level,
        title=warning.title,
        description=warning.description,
        areas=warning.areas,
        starts_at=warning.starts_at,
        ends_at=warning.ends_at,
        venue_ids=sorted(link.venue_id for link in warning.venue_links),
    )
