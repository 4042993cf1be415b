"""Credit: records with points, a decaying score and grade, and the two lists of the 2022 rules.

The lists follow the Culture and Tourism Market Credit Management Rules (文化和旅游市场信用管理
规定, 文化和旅游部令第7号, in force 2022-01-01), as modelled here:
- serious dishonesty list (严重失信主体名单), three years: harming tourists' rights so that
  tourists are stranded or with serious social harm; a major safety incident for which the entity
  bears the main responsibility; a revoked licence; serious unlicensed operation; and (from the
  earlier blacklist measures) being put on the key supervision list twice within twelve months;
- key supervision list (重点关注名单), one year: a large fine or an order to suspend business;
  refusing to carry out a penalty decision; and, as this bureau's own trigger, three upheld
  complaints within twelve months.
An entry ends by itself when its term expires (recorded as "expired"), or earlier by credit
repair (信用修复) once its minimum period has passed; both are recorded with reason and date.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.transactions import in_transaction

from server.supervision import errors as refusals
from server.supervision.models import (
    CreditListEntry,
    CreditListKind,
    CreditRecord,
    CreditRecordKind,
    MarketEntity,
)

BASE_SCORE = 100.0
MIN_SCORE, MAX_SCORE = 0.0, 120.0
HALF_LIFE_DAYS = 365  # a record weighs half after a year, a quarter after two
RECORD_HORIZON_DAYS = 3 * 365  # older records no longer count at all
GRADE_FLOORS = (("A", 90.0), ("B", 75.0), ("C", 60.0))  # below the last: D
LOOKBACK = timedelta(days=365)
REPEATED_COMPLAINTS = 3

# Default points of each category, by kind; a record may give its own within POINTS_RANGE.
CATEGORY_POINTS: dict[CreditRecordKind, dict[str, int]] = {
    CreditRecordKind.COMPLAINT_UPHELD: {"complaint_upheld": -5},
    CreditRecordKind.ADMINISTRATIVE_PENALTY: {
        "warning": -5,
        "fine": -10,
        "large_fine": -20,
        "penalty_not_performed": -20,
        "suspension": -30,
        "unlicensed_operation": -40,
        "tourist_stranding": -40,
        "major_safety_incident": -60,
        "licence_revoked": -60,
    },
    CreditRecordKind.INSPECTION_RESULT: {"passed": 2, "rectify": -5, "failed": -15},
    CreditRecordKind.COMMENDATION: {"commendation": 5, "national_commendation": 10},
}
POINTS_RANGE = (-100, 50)
SERIOUS_CATEGORIES = frozenset(
    {"tourist_stranding", "major_safety_incident", "licence_revoked", "unlicensed_operation"}
)
KEY_CATEGORIES = frozenset({"large_fine", "suspension", "penalty_not_performed"})
LIST_TERMS = {
    CreditListKind.KEY_SUPERVISION: timedelta(days=365),
    CreditListKind.SERIOUS_DISHONESTY: timedelta(days=3 * 365),
}
# Credit repair may take an entity off a list early, but not before this much time on it.
REPAIR_MINIMUM = {
    CreditListKind.KEY_SUPERVISION: timedelta(days=90),
    CreditListKind.SERIOUS_DISHONESTY: timedelta(days=365),
}


@dataclass(frozen=True)
class CreditStanding:
    """An entity's score, grade and the lists it is on, at one moment."""

    score: float
    grade: str
    lists: tuple[str, ...]


def decay_weight(occurred_on: date, today: date) -> float:
    """How much a record of `occurred_on` still counts on `today` (1 new, halving yearly)."""
    age = max((today - occurred_on).days, 0)
    if age > RECORD_HORIZON_DAYS:
        return 0.0
    return 0.5 ** (age / HALF_LIFE_DAYS)


def grade_of(score: float, lists: tuple[str, ...] = ()) -> str:
    """A-D from the score; the serious list means D, the key list at most C."""
    if CreditListKind.SERIOUS_DISHONESTY in lists:
        return "D"
    grade = next((grade for grade, floor in GRADE_FLOORS if score >= floor), "D")
    if CreditListKind.KEY_SUPERVISION in lists and grade in ("A", "B"):
        return "C"
    return grade


def score_of(points_and_days: list[tuple[int, date]], today: date) -> float:
    """The decayed score of (points, occurred_on) records on `today`."""
    total = BASE_SCORE + sum(points * decay_weight(day, today) for points, day in points_and_days)
    return round(min(max(total, MIN_SCORE), MAX_SCORE), 1)


async def expire_list_entries(*, now: datetime) -> int:
    """Record the removal of every entry whose term ended (one UPDATE); how many ended."""
    return await CreditListEntry.filter(removed_at__isnull=True, expires_at__lte=now).update(
        removed_at=now, removal_reason="expired"
    )


def _active(now: datetime) -> dict:
    return {"removed_at__isnull": True, "expires_at__gt": now}


async def standings(entity_ids: list[int], *, now: datetime) -> dict[int, CreditStanding]:
    """The credit standing of each entity in `entity_ids` (two queries in all)."""
    today = now.date()
    horizon = today - timedelta(days=RECORD_HORIZON_DAYS)
    records: dict[int, list[tuple[int, date]]] = defaultdict(list)
    rows = await CreditRecord.filter(
        entity_id__in=entity_ids, occurred_on__gte=horizon
    ).values_list("entity_id", "points", "occurred_on")
    for entity_id, points, occurred_on in rows:
        records[entity_id].append((points, occurred_on))
    lists: dict[int, set[str]] = defaultdict(set)
    on_lists = await CreditListEntry.filter(entity_id__in=entity_ids, **_active(now)).values_list(
        "entity_id", "list_kind"
    )
    for entity_id, list_kind in on_lists:
        lists[entity_id].add(str(list_kind))
    result = {}
    for entity_id in entity_ids:
        names = tuple(sorted(lists[entity_id]))
        score = score_of(records[entity_id], today)
        result[entity_id] = CreditStanding(score=score, grade=grade_of(score, names), lists=names)
    return result


async def standing(entity_id: int, *, now: datetime) -> CreditStanding:
    """One entity's credit standing."""
    return (await standings([entity_id], now=now))[entity_id]


def default_points(kind: CreditRecordKind, category: str) -> int:
    """The points a category of record counts; CreditRecordInvalid if it is not of this kind."""
    try:
        return CATEGORY_POINTS[kind][category]
    except KeyError:
        choices = ", ".join(CATEGORY_POINTS[kind])
        raise refusals.CreditRecordInvalid(field="category", choices=choices) from None


async def add_record(
    *,
    entity_id: int,
    kind: CreditRecordKind,
    category: str,
    reason: str,
    occurred_on: date,
    now: datetime,
    points: int | None = None,
    source: str | None = None,
    recorded_by_id: int | None = None,
) -> CreditRecord:
    """Add a record to an entity's file and put the entity on the lists the rules call for.

    A second record from the same `source` (a retried request) returns the first one.
    """
    expected = default_points(kind, category)
    points = expected if points is None else points
    if not POINTS_RANGE[0] <= points <= POINTS_RANGE[1]:
        raise refusals.CreditRecordInvalid(field="points", choices=f"{POINTS_RANGE}")
    if not await MarketEntity.filter(id=entity_id).exists():
        raise refusals.EntityNotFound(entity_id=entity_id)
    if source is not None:
        existing = await CreditRecord.get_or_none(source=source)
        if existing is not None:
            return existing
    async with in_transaction():
        record = await CreditRecord.create(
            entity_id=entity_id,
            kind=kind,
            category=category,
            points=points,
            reason=reason.strip(),
            occurred_on=occurred_on,
            source=source,
            recorded_by_id=recorded_by_id,
        )
        await _apply_list_rules(record, now=now)
    return record


async def _enter(
    entity_id: int,
    list_kind: CreditListKind,
    *,
    basis: str,
    reason: str,
    now: datetime,
    record: CreditRecord | None,
) -> CreditListEntry | None:
    if await CreditListEntry.filter(
        entity_id=entity_id, list_kind=list_kind, **_active(now)
    ).exists():
        return None
    return await CreditListEntry.create(
        entity_id=entity_id,
        list_kind=list_kind,
        basis=basis,
        reason=reason,
        entered_at=now,
        expires_at=now + LIST_TERMS[list_kind],
        source_record=record,
        entered_by_id=record.recorded_by_id if record else None,
    )


async def _apply_list_rules(record: CreditRecord, *, now: datetime) -> None:
    entity_id = record.entity_id
    if record.category in SERIOUS_CATEGORIES:
        await _enter(
            entity_id,
            CreditListKind.SERIOUS_DISHONESTY,
            basis=record.category,
            reason=record.reason,
            now=now,
            record=record,
        )
        return
    entered_key = None
    if record.category in KEY_CATEGORIES:
        entered_key = await _enter(
            entity_id,
            CreditListKind.KEY_SUPERVISION,
            basis=record.category,
            reason=record.reason,
            now=now,
            record=record,
        )
    elif record.kind == CreditRecordKind.COMPLAINT_UPHELD:
        upheld = await CreditRecord.filter(
            entity_id=entity_id,
            kind=CreditRecordKind.COMPLAINT_UPHELD,
            occurred_on__gt=(now - LOOKBACK).date(),
        ).count()
        if upheld >= REPEATED_COMPLAINTS:
            entered_key = await _enter(
                entity_id,
                CreditListKind.KEY_SUPERVISION,
                basis="repeated_complaints",
                reason=f"{upheld} upheld complaints within 12 months",
                now=now,
                record=record,
            )
    if entered_key is not None:
        key_entries = await CreditListEntry.filter(
            entity_id=entity_id,
            list_kind=CreditListKind.KEY_SUPERVISION,
            entered_at__gt=now - LOOKBACK,
        ).count()
        if key_entries >= 2:
            await _enter(
                entity_id,
                CreditListKind.SERIOUS_DISHONESTY,
                basis="key_list_twice",
                reason="put on the key supervision list twice within 12 months",
                now=now,
                record=record,
            )


async def list_entries(
    *, list_kind: CreditListKind | None, active_only: bool, now: datetime
) -> list[CreditListEntry]:
    """Entries of one list (or both), newest first, with their entities loaded."""
    await expire_list_entries(now=now)
    query = CreditListEntry.all()
    if list_kind is not None:
        query = query.filter(list_kind=list_kind)
    if active_only:
        query = query.filter(**_active(now))
    return await query.order_by("-entered_at", "-id").prefetch_related("entity")


async def remove_entry(
    *, entry_id: int, reason: str, removed_by_id: int | None, now: datetime
) -> CreditListEntry:
    """Take an entity off a list early by credit repair, after the list's minimum period."""
    await expire_list_entries(now=now)
    entry = await CreditListEntry.get_or_none(id=entry_id)
    if entry is None:
        raise refusals.ListEntryNotFound(entry_id=entry_id)
    if entry.removed_at is not None:
        raise refusals.ListEntryNotFound(entry_id=entry_id)
    earliest = entry.entered_at + REPAIR_MINIMUM[entry.list_kind]
    if now < earliest:
        raise refusals.ListRemovalTooEarly(earliest=earliest.isoformat(timespec="minutes"))
    removed = await CreditListEntry.filter(id=entry_id, removed_at__isnull=True).update(
        removed_at=now, removal_reason=reason.strip(), removed_by_id=removed_by_id
    )
    if not removed:
        raise refusals.ListEntryNotFound(entry_id=entry_id)
    return await CreditListEntry.get(id=entry_id).prefetch_related("entity")


async def records_of(*, entity_id: int) -> list[CreditRecord]:
    """An entity's credit file, newest first."""
    return await CreditRecord.filter(entity_id=entity_id).order_by("-occurred_on", "-id")
