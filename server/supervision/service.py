"""Complaints and market entities: filing, handling within the deadlines, figures; the entity file.

Deadlines follow the Tourism Complaint Handling Measures (旅游投诉处理办法, 2010): a complaint
must be accepted (here: assigned to a handler) within 5 working days of filing, and handled
within 60 days of acceptance; the deadline is fixed at filing as the latest legal date.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from server.accounts import service as accounts
from server.accounts.errors import AccountDisabled
from server.accounts.models import Role
from server.clock import LOCAL_TZ, local_now
from server.personal_data import FieldCipher, mask_phone, validate_phone
from server.supervision import credit
from server.supervision import errors as refusals
from server.supervision.models import (
    Complaint,
    ComplaintChannel,
    ComplaintStatus,
    CreditRecordKind,
    EntityKind,
    MarketEntity,
)
from server.venues import service as venues
from server.venues.errors import VenueNotFound

ACCEPT_WORKING_DAYS = 5
HANDLING_DAYS = 60
MIN_TEXT_LENGTH = 2
MAX_TEXT_LENGTH = 2000
MAX_ANSWER_LENGTH = 4000
REFERENCE_PREFIX = "TS"  # 投诉
# Two filings on one day may pick the same next number; the unique key refuses the second,
# which takes the following number. More clashes than this in a row mean something else is wrong.
REFERENCE_ATTEMPTS = 25
HANDLER_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
PENDING = (ComplaintStatus.OPEN, ComplaintStatus.ASSIGNED)
UPHELD_COMPLAINT_POINTS = -5
# An individual's phone is personal data; an organisation's switchboard is not.
INDIVIDUAL_KINDS = frozenset({EntityKind.TOUR_GUIDE})


def add_working_days(start: datetime, days: int) -> datetime:
    """`start` moved forward by `days` working days (Saturdays and Sundays skipped)."""
    moment = start
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


def _clean_text(text: str, *, field: str, limit: int) -> str:
    cleaned = (text or "").strip()
    if not MIN_TEXT_LENGTH <= len(cleaned) <= limit:
        raise refusals.ComplaintTextInvalid(field=field, minimum=MIN_TEXT_LENGTH, maximum=limit)
    return cleaned


async def _entity_of_venue(venue_id: int) -> int | None:
    entity = await MarketEntity.filter(venue_id=venue_id).order_by("id").first()
    return entity.id if entity else None


async def _check_references(venue_id: int | None, entity_id: int | None) -> int | None:
    """Refuse unknown venues and entities; the entity defaults to the venue's own."""
    if venue_id is not None:
        try:
            await venues.get_venue(venue_id=venue_id, include_hidden=True)
        except VenueNotFound:
            raise refusals.ReferencedEntityNotFound(field="venue_id") from None
        if entity_id is None:
            return await _entity_of_venue(venue_id)
    if entity_id is not None and not await MarketEntity.filter(id=entity_id).exists():
        raise refusals.ReferencedEntityNotFound(field="entity_id")
    return entity_id


async def _create_with_reference(filed_at: datetime, values: dict[str, Any]) -> Complaint:
    day = filed_at.astimezone(LOCAL_TZ).date()
    prefix = f"{REFERENCE_PREFIX}{day:%Y%m%d}-"
    number = await Complaint.filter(filed_on=day).count() + 1
    for _ in range(REFERENCE_ATTEMPTS):
        try:
            return await Complaint.create(
                reference=f"{prefix}{number:04d}", filed_at=filed_at, filed_on=day, **values
            )
        except IntegrityError:
            number = max(number + 1, await Complaint.filter(filed_on=day).count() + 1)
    raise RuntimeError("could not allocate a complaint reference")


async def file_complaint(
    *,
    text: str,
    channel: str,
    visitor_id: int | None = None,
    venue_id: int | None = None,
    entity_id: int | None = None,
    occurred_at: datetime | None = None,
    category: str | None = None,
    contact_phone: str | None = None,
    cipher: FieldCipher | None = None,
    now: datetime | None = None,
) -> Complaint:
    """File a complaint from any channel; it gets a reference like TS20261129-0001 and deadlines.

    `contact_phone` (phone and staff channels) needs `cipher`: it is kept only encrypted.
    """
    now = now or local_now()
    cleaned = _clean_text(text, field="text", limit=MAX_TEXT_LENGTH)
    try:
        channel = ComplaintChannel(channel)
    except ValueError:
        raise refusals.UnknownComplaintChannel(
            field="channel", choices=", ".join(c.value for c in ComplaintChannel)
        ) from None
    if occurred_at is not None and (occurred_at.tzinfo is None or occurred_at > now):
        raise refusals.OccurredAtInvalid(field="occurred_at")
    entity_id = await _check_references(venue_id, entity_id)
    phone_fields: dict[str, Any] = {}
    if contact_phone:
        if cipher is None:
            raise ValueError("a contact phone needs the field cipher")
        number = validate_phone(contact_phone)
        phone_fields = {
            "contact_phone_encrypted": cipher.encrypt(number),
            "contact_phone_masked": mask_phone(number),
        }
    accept_by = add_working_days(now, ACCEPT_WORKING_DAYS)
    return await _create_with_reference(
        now,
        {
            "text": cleaned,
            "channel": channel,
            "category": (category or "").strip()[:32] or None,
            "venue_id": venue_id,
            "entity_id": entity_id,
            "visitor_id": visitor_id,
            "occurred_at": occurred_at,
            "accept_by": accept_by,
            "deadline": accept_by + timedelta(days=HANDLING_DAYS),
            **phone_fields,
        },
    )


def is_overdue(complaint: Complaint, now: datetime) -> bool:
    """True when a step is late now: not accepted by `accept_by`, or not answered by `deadline`."""
    late_acceptance = complaint.assigned_at is None and now > complaint.accept_by
    late_answer = complaint.answered_at is None and now > complaint.deadline
    return complaint.status in PENDING and (late_acceptance or late_answer)


def _overdue_filter(now: datetime) -> Q:
    return Q(status__in=list(PENDING)) & (
        Q(assigned_at__isnull=True, accept_by__lt=now) | Q(deadline__lt=now)
    )


async def list_complaints(
    *,
    now: datetime,
    status: ComplaintStatus | None = None,
    overdue: bool | None = None,
    venue_id: int | None = None,
    entity_id: int | None = None,
    assignee_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[Complaint]]:
    """Complaints matching the filters, oldest deadline first, with the total count."""
    query = Complaint.all()
    if status is not None:
        query = query.filter(status=status)
    if overdue is True:
        query = query.filter(_overdue_filter(now))
    elif overdue is False:
        query = query.exclude(_overdue_filter(now))
    for name, value in (("venue_id", venue_id), ("entity_id", entity_id)):
        if value is not None:
            query = query.filter(**{name: value})
    if assignee_id is not None:
        query = query.filter(assignee_id=assignee_id)
    if since is not None:
        query = query.filter(filed_on__gte=since)
    if until is not None:
        query = query.filter(filed_on__lte=until)
    total = await query.count()
    rows = await query.order_by("deadline", "id").offset(offset).limit(limit)
    return total, rows


async def get_complaint(*, complaint_id: int) -> Complaint:
    """One complaint by id."""
    complaint = await Complaint.get_or_none(id=complaint_id)
    if complaint is None:
        raise refusals.ComplaintNotFound(complaint_id=complaint_id)
    return complaint


async def list_own_complaints(*, visitor_id: int) -> list[Complaint]:
    """A visitor's own complaints, newest first."""
    return await Complaint.filter(visitor_id=visitor_id).order_by("-filed_at", "-id")


def _require_status(complaint: Complaint, *allowed: ComplaintStatus) -> None:
    if complaint.status not in allowed:
        raise refusals.ComplaintStateConflict(status=complaint.status.value)


async def _step(complaint_id: int, expected: ComplaintStatus, changes: dict[str, Any]) -> None:
    """Apply a state change only if nobody moved the complaint on meanwhile (one UPDATE)."""
    moved = await Complaint.filter(id=complaint_id, status=expected).update(**changes)
    if not moved:
        current = await get_complaint(complaint_id=complaint_id)
        raise refusals.ComplaintStateConflict(status=current.status.value)


async def assign_complaint(*, complaint_id: int, assignee_id: int, now: datetime) -> Complaint:
    """Accept a complaint by giving it to an active supervisor or admin (reassigning is allowed)."""
    complaint = await get_complaint(complaint_id=complaint_id)
    _require_status(complaint, *PENDING)
    try:
        assignee = await accounts.get_staff(staff_id=assignee_id)
    except AccountDisabled:
        raise refusals.AssigneeInvalid(field="assignee_id") from None
    if assignee.role not in HANDLER_ROLES:
        raise refusals.AssigneeInvalid(field="assignee_id")
    await _step(
        complaint.id,
        complaint.status,
        {
            "assignee_id": assignee.id,
            "assigned_at": complaint.assigned_at or now,
            "status": ComplaintStatus.ASSIGNED,
        },
    )
    return await get_complaint(complaint_id=complaint_id)


async def answer_complaint(
    *, complaint_id: int, answer: str, upheld: bool, handler_id: int, now: datetime
) -> Complaint:
    """Answer a complaint; an upheld one about an entity goes into that entity's credit file."""
    text = _clean_text(answer, field="answer", limit=MAX_ANSWER_LENGTH)
    complaint = await get_complaint(complaint_id=complaint_id)
    _require_status(complaint, *PENDING)
    # The answer and its credit record stand or fall together.
    async with in_transaction():
        await _record_answer(complaint, text, upheld, handler_id, now)
    return await get_complaint(complaint_id=complaint_id)


async def _record_answer(
    complaint: Complaint, text: str, upheld: bool, handler_id: int, now: datetime
) -> None:
    await _step(
        complaint.id,
        complaint.status,
        {
            "answer": text,
            "upheld": upheld,
            "answered_at": now,
            "status": ComplaintStatus.ANSWERED,
            "assignee_id": complaint.assignee_id or handler_id,
            "assigned_at": complaint.assigned_at or now,
        },
    )
    if upheld and complaint.entity_id is not None:
        await credit.add_record(
            entity_id=complaint.entity_id,
            kind=CreditRecordKind.COMPLAINT_UPHELD,
            category="complaint_upheld",
            points=UPHELD_COMPLAINT_POINTS,
            reason=f"{complaint.reference}: {text[:200]}",
            occurred_on=now.astimezone(LOCAL_TZ).date(),
            source=f"complaint:{complaint.id}",
            recorded_by_id=handler_id,
            now=now,
        )


async def close_complaint(*, complaint_id: int, now: datetime) -> Complaint:
    """Close an answered complaint."""
    complaint = await get_complaint(complaint_id=complaint_id)
    _require_status(complaint, ComplaintStatus.ANSWERED)
    await _step(
        complaint.id, ComplaintStatus.ANSWERED, {"status": ComplaintStatus.CLOSED, "closed_at": now}
    )
    return await get_complaint(complaint_id=complaint_id)


async def complaint_figures(start: date, end: date, *, now: datetime | None = None) -> dict:
    """Complaints filed from `start` to `end` (local days): by status, overdue now, by day."""
    now = now or local_now()
    filed = Complaint.filter(filed_on__gte=start, filed_on__lte=end)
    by_status = {status.value: 0 for status in ComplaintStatus}
    rows = await filed.annotate(count=Count("id")).group_by("status").values("status", "count")
    for row in rows:
        by_status[str(row["status"])] = row["count"]
    by_day_rows = (
        await filed.annotate(count=Count("id"))
        .group_by("filed_on")
        .order_by("filed_on")
        .values("filed_on", "count")
    )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "total": sum(by_status.values()),
        "by_status": by_status,
        "overdue": await filed.filter(_overdue_filter(now)).count(),
        "by_day": [
            {"date": _as_date(row["filed_on"]).isoformat(), "count": row["count"]}
            for row in by_day_rows
        ],
    }


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- market entities -----------------------------------------------------------------------

_SWITCHBOARD = re.compile(r"[0-9+()\- ]{5,20}")


def _contact_fields(kind: EntityKind, phone: str, cipher: FieldCipher) -> dict[str, Any]:
    """An individual's mobile encrypted and masked; an organisation's switchboard as given."""
    phone = phone.strip()
    if not phone:
        return {"contact_phone": "", "contact_phone_encrypted": None, "contact_phone_masked": ""}
    if kind in INDIVIDUAL_KINDS:
        number = validate_phone(phone)
        return {
            "contact_phone": "",
            "contact_phone_encrypted": cipher.encrypt(number),
            "contact_phone_masked": mask_phone(number),
        }
    if not _SWITCHBOARD.fullmatch(phone):
        raise refusals.ContactPhoneInvalid(field="contact_phone")
    return {"contact_phone": phone, "contact_phone_encrypted": None, "contact_phone_masked": ""}


async def create_entity(
    *,
    kind: EntityKind,
    licence_number: str,
    name: str,
    cipher: FieldCipher,
    address: str = "",
    county: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    venue_id: int | None = None,
    a_level: int | None = None,
) -> MarketEntity:
    """Register a market entity under its unique licence number."""
    if venue_id is not None:
        await _check_references(venue_id, None)
    try:
        return await MarketEntity.create(
            kind=kind,
            licence_number=licence_number.strip().upper(),
            name=name.strip(),
            address=address.strip(),
            county=county.strip(),
            contact_name=contact_name.strip(),
            venue_id=venue_id,
            a_level=a_level,
            **_contact_fields(kind, contact_phone, cipher),
        )
    except IntegrityError:
        raise refusals.LicenceNumberTaken(field="licence_number") from None


async def change_contact_phone(*, entity: MarketEntity, phone: str, cipher: FieldCipher) -> None:
    """Replace an entity's contact phone (encrypted again for an individual)."""
    entity.update_from_dict(_contact_fields(entity.kind, phone, cipher))
    await entity.save(
        update_fields=["contact_phone", "contact_phone_encrypted", "contact_phone_masked"]
    )


async def get_entity(*, entity_id: int) -> MarketEntity:
    """One market entity by id."""
    entity = await MarketEntity.get_or_none(id=entity_id)
    if entity is None:
        raise refusals.EntityNotFound(entity_id=entity_id)
    return entity


async def list_entities(
    *,
    now: datetime,
    kind: EntityKind | None = None,
    county: str | None = None,
    grade: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[tuple[MarketEntity, credit.CreditStanding]]]:
    """Entities matching the filters, by id, each with its credit standing now."""
    query = MarketEntity.all()
    if kind is not None:
        query = query.filter(kind=kind)
    if county:
        query = query.filter(county=county)
    if q:
        query = query.filter(Q(name__icontains=q) | Q(licence_number__icontains=q))
    entities = await query.order_by("id")
    scores = await credit.standings([e.id for e in entities], now=now)
    rows = [(entity, scores[entity.id]) for entity in entities]
    if grade is not None:
        rows = [row for row in rows if row[1].grade == grade]
    return len(rows), rows[offset : offset + limit]
