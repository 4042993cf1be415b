"""Slots and reservations: generating slots, booking places for named people, cancelling."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NoReturn

from asyncpg.exceptions import RaiseError
from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Subquery
from tortoise.transactions import in_transaction

from server import personal_data
from server.card import service as card
from server.clock import LOCAL_TZ
from server.db import is_sqlite, replace_rows, retry_conflicts
from server.errors import AppError, InvalidInput
from server.release import holds, limits, runtime
from server.release.errors import HoldNotUsable
from server.release.mirror import EXACT_BELOW, Shortage, SlotPlaces
from server.reservations import sql
from server.reservations.errors import (
    AlreadyBooked,
    AlreadyEntered,
    BookingNotOpen,
    CancelTooLate,
    CapacityBelowBooked,
    DayFull,
    DuplicateVisitor,
    IdempotencyKeyReused,
    InvalidVisitorIdNumber,
    NotReservable,
    ReservationNotFound,
    SlotFull,
    SlotNotFound,
    SlotPast,
    VenueClosed,
)
from server.reservations.models import (
    PersonDayClaim,
    Reservation,
    ReservationStatus,
    SlotTemplate,
    TimeSlot,
    VenueDay,
)
from server.reservations.together import WRITE_ALONE, GroupedWrites
from server.tickets import service as tickets
from server.tickets.models import Ticket, TicketStatus
from server.venues import service as venues
from server.venues.errors import VenueNotFound
from server.venues.models import Venue

# From 80% booked a slot is "crowded" (see venues.crowd_level): alternatives are offered for it,
# and a slot list never offers it as one (错峰). A full slot's refusal does, after every roomy
# slot, while it has room for the party: "sold out" with places left nearby is not the truth.
CROWDED_RATIO = 0.8


async def generate_slots(*, venue_id: int, first_day: date, days: int) -> int:
    """Create the dated slots of `days` days from the venue's template; return how many are new.

    Days the venue is closed (no hours that weekday, or a closing day) get no slots; slots that
    already exist are left as they are, so running it again changes nothing.
    """
    venue = await venues.get_venue(venue_id=venue_id, include_hidden=True)
    templates = await SlotTemplate.filter(venue_id=venue_id)
    last_day = first_day + timedelta(days=days - 1)
    existing = set(
        await TimeSlot.filter(
            venue_id=venue_id, date__gte=first_day, date__lte=last_day
        ).values_list("date", "starts_at")
    )
    new_slots = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if not venues.hours_on(venue, day).is_open_day:
            continue
        for template in templates:
            if template.weekday == day.weekday() and (day, template.starts_at) not in existing:
                new_slots.append(
                    TimeSlot(
                        venue_id=venue_id,
                        date=day,
                        starts_at=template.starts_at,
                        ends_at=template.ends_at,
                        capacity=template.capacity,
                    )
                )
    # Two generators racing (two workers at start) may both try a slot; the unique key keeps one.
    await TimeSlot.bulk_create(new_slots, ignore_conflicts=True)
    return len(new_slots)


async def list_slots_with_alternatives(
    *, venue_id: int, day: date, now: datetime
) -> list[tuple[TimeSlot, list[dict]]]:
    """A day's slots, each crowded or full one with the nearest roomier slots (错峰)."""
    await venues.get_venue(venue_id=venue_id)
    nearby = await TimeSlot.filter(
        venue_id=venue_id, date__gte=day, date__lte=day + timedelta(days=1)
    ).order_by("date", "starts_at")
    return [
        (
            slot,
            [] if not _is_crowded(slot) else roomier_slots(slot, nearby, 1, now),
        )
        for slot in nearby
        if slot.date == day
    ]


async def replace_slot_templates(*, venue_id: int, windows: list[dict]) -> bool:
    """Make the venue's weekly template exactly `windows`; return True if anything changed.

    Each window is {"weekdays": [0..6], "starts_at": time, "ends_at": time, "capacity": int}.
    Slots already generated keep their capacity: a template change applies to new days.
    """
    wanted = {
        (weekday, window["starts_at"], window["ends_at"], window["capacity"])
        for window in windows
        for weekday in window["weekdays"]
    }
    return await replace_rows(
        SlotTemplate,
        owner={"venue_id": venue_id},
        fields=("weekday", "starts_at", "ends_at", "capacity"),
        wanted=wanted,
    )


# --- reserving ---------------------------------------------------------------------------------

MAX_PARTY = 5


@dataclass(frozen=True)
class Person:
    """A named visitor as given by the booker."""

    name: str
    id_number: str


def booking_opens_at(venue: Venue, day: date) -> datetime:
    """When booking for `day` opens: `booking_days_ahead` days before, at the set local hour."""
    opening_day = day - timedelta(days=venue.booking_days_ahead)
    return datetime.combine(opening_day, venue.booking_opens_at, LOCAL_TZ)


def slot_starts(slot: TimeSlot) -> datetime:
    """The local moment a slot begins."""
    return datetime.combine(slot.date, slot.starts_at, LOCAL_TZ)


def cancel_deadline(venue: Venue, slot: TimeSlot) -> datetime:
    """The last moment a reservation of `slot` may be cancelled."""
    return slot_starts(slot) - timedelta(minutes=venue.cancel_deadline_minutes)


def fare_for(venue: Venue, id_number: str, day: date) -> dict:
    """The fare of one person: the venue's base price with the best age rule their ID proves.

    Rules that an ID card cannot prove (students, the military, height) are left to the gate.
    """
    base = venue.prices[0]["price_cents"] if venue.prices else 0
    age = personal_data.age_on(id_number, day)
    best: dict | None = None
    for rule in venue.free_rules:
        applies = (rule["rule"] == "age_at_least" and age >= rule["value"]) or (
            rule["rule"] == "age_under" and age < rule["value"]
        )
        if applies and (
            best is None or _DISCOUNT_ORDER[rule["discount"]] > _DISCOUNT_ORDER[best["discount"]]
        ):
            best = rule
    if best is None:
        return {"discount": None, "rule": None, "note": {}, "price_cents": base}
    price = 0 if best["discount"] == "free" else base // 2
    return {
        "discount": best["discount"],
        "rule": f"{best['rule']}:{best['value']}",
        "note": best.get("note") or {},
        "price_cents": price,
    }


_DISCOUNT_ORDER = {"half": 1, "free": 2}


def _validated_people(people: list[Person], day: date) -> list[tuple[Person, str]]:
    """Each person with their normalised ID number; the first bad one is named in the refusal."""
    seen: set[str] = set()
    result = []
    for position, person in enumerate(people, start=1):
        try:
            id_number = personal_data.validate_id_number(person.id_number, today=day)
        except personal_data.InvalidIdNumber as problem:
            raise InvalidVisitorIdNumber(
                visitor=position, reason=problem.params["reason"]
            ) from None
        if id_number in seen:
            raise DuplicateVisitor(visitor=position)
        seen.add(id_number)
        result.append((person, id_number))
    return result


async def suggest_slots(
    *, slot: TimeSlot, party_size: int, now: datetime, limit: int = 3
) -> list[dict]:
    """Nearby slots the same or next day with room for the party: the uncrowded ones first."""
    candidates = await TimeSlot.filter(
        venue_id=slot.venue_id, date__gte=slot.date, date__lte=slot.date + timedelta(days=1)
    )
    return roomier_slots(slot, candidates, party_size, now, limit, crowded_too=True)


def roomier_slots(
    slot: TimeSlot,
    candidates: list[TimeSlot],
    party_size: int,
    now: datetime,
    limit: int = 3,
    *,
    crowded_too: bool = False,
) -> list[dict]:
    """Of `candidates`, the open slots with room nearest to `slot` (same day first), not crowded;
    with `crowded_too`, crowded ones with room after all of those."""
    wanted = slot_starts(slot)
    roomy = [
        c
        for c in candidates
        if c.id != slot.id
        and c.capacity - c.booked >= party_size
        and (crowded_too or not _is_crowded(c))
        and datetime.combine(c.date, c.ends_at, LOCAL_TZ) > now
    ]
    roomy.sort(key=lambda c: (_is_crowded(c), c.date != slot.date, abs(slot_starts(c) - wanted)))
    return [
        {
            "slot_id": c.id,
            "date": c.date.isoformat(),
            "start": c.starts_at.strftime("%H:%M"),
            "end": c.ends_at.strftime("%H:%M"),
            "remaining": c.capacity - c.booked,
            "crowded": _is_crowded(c),
        }
        for c in roomy[:limit]
    ]


def _is_crowded(slot: TimeSlot) -> bool:
    return slot.booked >= CROWDED_RATIO * slot.capacity


# A slot with its venue and what decides whether its day is open, in one read: closing days on
# that date, regular hours on that weekday (0 = Monday, as OpeningHours stores it), and whether
# the venue offers card holders a benefit (most do not: no second query for them); on
# PostgreSQL also the catalogue version the rows were read under (migration 0011).
_WEEKDAY_OF_SLOT = {
    "sqlite": "(CAST(strftime('%w', s.date) AS INTEGER) + 6) % 7",
    "postgres": "(CAST(EXTRACT(ISODOW FROM s.date) AS INTEGER) - 1)",
}
_CATALOGUE_VERSION = {
    "sqlite": "NULL",
    "postgres": "(SELECT version FROM catalogue_version)",
}


@cache
def _bookable_slot_sql(dialect: str) -> str:
    # Only column names from the models and fixed text: the slot id is a parameter.
    columns = ", ".join(
        (sql.columns_as(TimeSlot, "s", "slot__"), sql.columns_as(Venue, "v", "venue__"))
    )
    weekday = _WEEKDAY_OF_SLOT[dialect]
    return " ".join(
        (
            "SELECT",
            columns,
            ", (SELECT COUNT(*) FROM closing_day c",
            "WHERE c.venue_id = s.venue_id AND c.date = s.date) AS closing_days,",
            "(SELECT COUNT(*) FROM opening_hours h",
            "WHERE h.venue_id = s.venue_id AND h.weekday =",
            weekday,
            ") AS opening_hours,",
            "(SELECT COUNT(*) FROM card_benefit b WHERE b.venue_id = s.venue_id) AS card_benefits,",
            _CATALOGUE_VERSION[dialect],
            "AS catalogue_version",
            "FROM time_slot s JOIN venue v ON v.id = s.venue_id WHERE s.id = $1",
        )
    )


@dataclass(frozen=True)
class BookableSlot:
    """A slot that may be booked now, with its venue."""

    slot: TimeSlot
    venue: Venue
    card_benefit: bool  # the venue offers card holders something: ask the card service
    # The catalogue version the rows were read under (None on SQLite: nothing to compare).
    catalogue_version: int | None = None


class _KeptSlotRows:
    """The bookable-slot rows this process read lately, by slot id (PostgreSQL only).

    Only a booking statement that compares their catalogue version may rely on them (it refuses
    as "stale" when the rows changed since): a refusal found in them is checked again in the
    database, and a booking refused as stale reads them again.
    """

    MOST = 4096  # slots kept; beyond that the rows are forgotten and read again as asked

    def __init__(self) -> None:
        self._rows: dict[int, dict[str, Any]] = {}

    def get(self, slot_id: int) -> dict[str, Any] | None:
        return self._rows.get(slot_id)

    def keep(self, slot_id: int, row: dict[str, Any]) -> None:
        if row["catalogue_version"] is None:
            return
        if len(self._rows) >= self.MOST:
            self._rows.clear()
        self._rows[slot_id] = row

    def forget(self, slot_id: int) -> None:
        self._rows.pop(slot_id, None)


_kept_slot_rows = _KeptSlotRows()


async def bookable_slot(slot_id: int, now: datetime, *, may_use_kept: bool = False) -> BookableSlot:
    """The slot and its venue if booking it now is allowed, in one query; else the refusal.

    `may_use_kept`: the caller's booking statement checks the catalogue version, so the rows
    this process read before will do (no query) if they allow the booking.
    """
    if may_use_kept and (kept := _kept_slot_rows.get(slot_id)) is not None:
        try:
            return _bookable_from_row(kept, now)
        except AppError:
            pass  # the rows may be out of date: only the database's may refuse
    rows = await sql.fetch_rows(
        _bookable_slot_sql("sqlite" if is_sqlite() else "postgres"), [slot_id]
    )
    if not rows:
        _kept_slot_rows.forget(slot_id)
        raise SlotNotFound(slot_id=slot_id)
    _kept_slot_rows.keep(slot_id, rows[0])
    return _bookable_from_row(rows[0], now)


def _bookable_from_row(row: dict[str, Any], now: datetime) -> BookableSlot:
    """The slot and venue of a bookable-slot row, or why booking it is refused.

    The models are made anew from the row each time (JSON columns decoded again): a request
    may change its own, never another's.
    """
    slot = sql.model_from_row(TimeSlot, row, "slot__")
    venue = sql.model_from_row(Venue, row, "venue__")
    slot.venue = venue
    if venue.hidden or not venue.reservable:
        raise NotReservable()
    if datetime.combine(slot.date, slot.ends_at, LOCAL_TZ) <= now:
        raise SlotPast()
    opens = booking_opens_at(venue, slot.date)
    if now < opens:
        raise BookingNotOpen(
            opens_at=opens.isoformat(timespec="minutes"),
            server_time=now.isoformat(timespec="seconds"),
            retry_after=max(int((opens - now).total_seconds()), 1),
        )
    # The same rule as venues.hours_on: a closing day, or a weekday without hours, is closed.
    if row["closing_days"] or not row["opening_hours"]:
        raise VenueClosed()
    return BookableSlot(slot, venue, bool(row["card_benefits"]), row["catalogue_version"])


# The places are claimed by this one conditional UPDATE, checked by the row it returns; the new
# revision and what is left go to the Redis mirror after the commit.
_CLAIM_PLACES = (
    "UPDATE time_slot SET booked = booked + :places, revision = revision + 1 "
    "WHERE id = :slot_id AND booked <= capacity - :needed "
    "RETURNING id, capacity - booked AS remaining, revision"
)
_CLAIM_PLACES_UNGUARDED = (
    "UPDATE time_slot SET booked = booked + :places, revision = revision + 1 WHERE id = :slot_id "
    "RETURNING id, capacity - booked AS remaining, revision"
)
# Places going back (a cancellation, a hold used for fewer people, an expired hold).
_RETURN_PLACES = (
    "UPDATE time_slot SET booked = booked - $1, revision = revision + 1 WHERE id = $2 "
    "RETURNING id, capacity - booked AS remaining, revision"
)
# The venue's daily cap: the day's row is made by its first booking (a racing first booking
# waits for it, then updates it), and grows only within the cap. {after} is "FROM slot_claim"
# where the slot's places are claimed in the same statement: the day only with the places,
# and always locked after the slot's row, as a booking in steps does.
_CLAIM_DAY = (
    "INSERT INTO venue_day (venue_id, date, booked) "
    "SELECT :venue_id, :day, :places {after} "
    "WHERE CAST(:places AS INTEGER) <= CAST(:daily_capacity AS INTEGER) "
    "ON CONFLICT (venue_id, date) DO UPDATE SET booked = venue_day.booked + EXCLUDED.booked "
    "WHERE venue_day.booked <= CAST(:daily_capacity AS INTEGER) - EXCLUDED.booked RETURNING id"
)
# How many suggestions the fast "sold out" answer keeps per slot, before filtering by party.
_SUGGESTIONS_KEPT = 10
SUGGESTED_SLOTS = 3  # how many a refusal offers

# --- the booking's writes -----------------------------------------------------------------------
# A reservation, its people's day claims, their tickets, the daily quotas, and the slot's places
# (the day's too, under a daily cap) or the visitor's hold. `:people` is a JSON list with one
# object per person (their ticket's columns), so each text serves every party size. SQLite has
# no data-modifying WITH: there the statements run one by one in the booking's transaction; on
# PostgreSQL they are one statement (_booking_statement), a single round trip. Either way the
# outcome is read the same way and a refusal rolls the whole transaction back.
# With its Idempotency-Key, unique per visitor: a retry of a finished booking fails here too.
_INSERT_RESERVATION = (
    "INSERT INTO reservation (visitor_id, venue_id, slot_id, date, party_size, status, "
    "created_at, idempotency_key, request_fingerprint) VALUES (:visitor_id, :venue_id, "
    ":slot_id, :day, :party, :status, :created_at, :idempotency_key, :request_fingerprint) "
    "RETURNING id"
)
# The unique key (venue, day, person) refuses a second booking of the same person.
_CLAIM_PEOPLE = {
    "postgres": (
        "INSERT INTO person_day_claim (venue_id, date, id_number_hash, reservation_id) "
        "SELECT :venue_id, :day, person.id_number_hash, reservation_row.id "
        "FROM reservation_row, "
        "jsonb_to_recordset(CAST(:people AS JSONB)) AS person(id_number_hash TEXT)"
    ),
    "sqlite": (
        "INSERT INTO person_day_claim (venue_id, date, id_number_hash, reservation_id) "
        "SELECT :venue_id, :day, json_extract(value, '$.id_number_hash'), :reservation_id "
        "FROM json_each(:people)"
    ),
}
_INSERT_TICKETS = {
    "postgres": (
        "INSERT INTO ticket (reservation_id, venue_id, slot_id, date, holder_name_encrypted, "
        "holder_name_masked, id_number_encrypted, id_number_hash, id_number_masked, fare, "
        "price_cents, status, created_at) "
        "SELECT reservation_row.id, :venue_id, :slot_id, :day, person.holder_name_encrypted, "
        "person.holder_name_masked, person.id_number_encrypted, person.id_number_hash, "
        "person.id_number_masked, person.fare, person.price_cents, "
        "CAST(:ticket_status AS VARCHAR), :created_at "
        "FROM reservation_row, jsonb_to_recordset(CAST(:people AS JSONB)) AS person("
        "id_number_hash TEXT, holder_name_encrypted TEXT, holder_name_masked TEXT, "
        "id_number_encrypted TEXT, id_number_masked TEXT, fare JSONB, price_cents INTEGER) "
        "RETURNING id, id_number_hash"
    ),
    "sqlite": (
        "INSERT INTO ticket (reservation_id, venue_id, slot_id, date, holder_name_encrypted, "
        "holder_name_masked, id_number_encrypted, id_number_hash, id_number_masked, fare, "
        "price_cents, status, created_at) "
        "SELECT :reservation_id, :venue_id, :slot_id, :day, "
        "json_extract(value, '$.holder_name_encrypted'), "
        "json_extract(value, '$.holder_name_masked'), "
        "json_extract(value, '$.id_number_encrypted'), json_extract(value, '$.id_number_hash'), "
        "json_extract(value, '$.id_number_masked'), json_extract(value, '$.fare'), "
        "json_extract(value, '$.price_cents'), :ticket_status, :created_at "
        "FROM json_each(:people) ORDER BY key RETURNING id, id_number_hash"
    ),
}


@dataclass(frozen=True)
class _BookingShape:
    """Which writes a booking makes: places from a hold or the slot (guarded or not, the
    canary's), and whether the venue has a daily cap; and whether they run as one PostgreSQL
    statement that refuses by itself (no transaction around it), or as steps in a transaction."""

    hold: bool
    guard: bool
    daily_cap: bool
    one_statement: bool


@dataclass(frozen=True)
class _Written:
    """What the booking's writes did; the caller decides from it whether to commit."""

    reservation_id: int
    ticket_ids: dict[str, int]  # by ID-number hash, unique within a reservation
    quotas_claimed: int
    places: SlotPlaces | None  # what the slot has left after our claim; None: not claimed
    held: int | None  # the places of the hold used; None: not usable (or no hold)
    day_claimed: bool


# refuse_booking() (migration 0009) raises when given a reason, so the statement undoes itself.
# "stale" first: the slot's and venue's rows the booking was planned from changed since they
# were read (migration 0011), and every other outcome may be theirs.
_REFUSE_BOOKING = (
    "refuse_booking(CASE WHEN (SELECT version FROM catalogue_version) "
    "IS DISTINCT FROM CAST(:catalogue_version AS BIGINT) THEN 'stale' "
    "WHEN (SELECT COUNT(*) FROM quotas) < :quotas_wanted THEN 'quota' "
    "WHEN slot_claim.id IS NULL THEN 'slot_full' WHEN NOT {day_claimed} THEN 'day_full' END)"
)


@cache
def _booking_statement(shape: _BookingShape) -> str:
    """The booking's writes as one PostgreSQL statement, a row per ticket.

    The places are claimed last and the day after them (`FROM slot_claim`), as in steps; the
    statement sees one snapshot, but its UPDATEs wait for a row another booking locked and
    then re-check their WHERE on the row as that booking left it, so the guards hold.
    """
    parts = [
        f"reservation_row AS ({_INSERT_RESERVATION})",
        f"claims AS ({_CLAIM_PEOPLE['postgres']})",
        f"tickets AS ({_INSERT_TICKETS['postgres']})",
        f"quotas AS ({limits.CLAIM_QUOTAS['postgres']})",
    ]
    if shape.hold:
        parts.append(f"used_hold AS ({holds.USE_HOLD})")
        outcome = "used_hold.places AS held, NULL AS slot_id, NULL AS remaining, NULL AS revision"
        joined = "LEFT JOIN used_hold ON TRUE"
    else:
        claim = _CLAIM_PLACES if shape.guard else _CLAIM_PLACES_UNGUARDED
        parts.append(f"slot_claim AS ({claim})")
        outcome = (
            "NULL AS held, slot_claim.id AS slot_id, slot_claim.remaining AS remaining, "
            "slot_claim.revision AS revision"
        )
        joined = "LEFT JOIN slot_claim ON TRUE"
    if shape.daily_cap and not shape.hold:
        parts.append(f"day_claim AS ({_CLAIM_DAY.format(after='FROM slot_claim')})")
        day_claimed = "EXISTS (SELECT 1 FROM day_claim)"
    else:
        day_claimed = "TRUE"
    outcome += f", {day_claimed} AS day_claimed"
    if shape.one_statement:
        # The refusals of _refusal_of, in its order: raised, they undo the statement's writes.
        outcome += ", " + _REFUSE_BOOKING.format(day_claimed=day_claimed) + " AS accepted"
    return " ".join(
        (
            "WITH",
            ", ".join(parts),
            "SELECT reservation_row.id AS reservation_id, tickets.id AS ticket_id,",
            "tickets.id_number_hash, (SELECT COUNT(*) FROM quotas) AS quotas_claimed,",
            outcome,
            "FROM reservation_row CROSS JOIN tickets",
            joined,
        )
    )


def _refusal_of(written: _Written, shape: _BookingShape, quotas_wanted: int) -> str | None:
    """Why the booking's writes must be undone, if they must: what the one-statement booking's
    refuse_booking() decides, for the writes made step by step."""
    if written.quotas_claimed < quotas_wanted:
        return "quota"
    if shape.hold:
        return None  # the hold's own checks are the caller's
    if written.places is None:
        return "slot_full"
    return None if written.day_claimed else "day_full"


async def _write_booking(
    connection: Any | None, shape: _BookingShape, values: dict[str, Any]
) -> _Written:
    """Make the booking's writes in the caller's transaction (or, for a one-statement shape, in
    the statement's own); what they did.

    A person already booked at the venue that day fails here (IntegrityError), and so does a
    one-statement booking that refuses (asyncpg's RaiseError, the reason in its hint); every
    other refusal is the caller's to make from the outcome.
    """
    if shape.one_statement or sql.dialect(connection) == "postgres":
        return _written_from(await sql.fetch_rows(_booking_statement(shape), values, connection))
    [reservation] = await sql.fetch_rows(_INSERT_RESERVATION, values, connection)
    values = {**values, "reservation_id": reservation["id"]}
    await sql.execute(_CLAIM_PEOPLE["sqlite"], values, connection)
    tickets_made = await sql.fetch_rows(_INSERT_TICKETS["sqlite"], values, connection)
    quotas = await sql.fetch_rows(limits.CLAIM_QUOTAS["sqlite"], values, connection)
    places, held, day_claimed = None, None, True
    if shape.hold:
        hold_rows = await sql.fetch_rows(holds.USE_HOLD, values, connection)
        held = hold_rows[0]["places"] if hold_rows else None
    else:
        claim = _CLAIM_PLACES if shape.guard else _CLAIM_PLACES_UNGUARDED
        claimed = await sql.fetch_rows(claim, values, connection)
        places = _slot_places(claimed[0]) if claimed else None
        if shape.daily_cap and places is not None:
            day_rows = await sql.fetch_rows(_CLAIM_DAY.format(after=""), values, connection)
            day_claimed = bool(day_rows)
    return _Written(
        reservation_id=reservation["id"],
        ticket_ids={row["id_number_hash"]: row["id"] for row in tickets_made},
        quotas_claimed=len(quotas),
        places=places,
        held=held,
        day_claimed=day_claimed,
    )


def _written_from(rows: list[dict[str, Any]]) -> _Written:
    """What the booking statement's rows (one per ticket) say it wrote."""
    first = rows[0]
    return _Written(
        reservation_id=first["reservation_id"],
        ticket_ids={row["id_number_hash"]: row["ticket_id"] for row in rows},
        quotas_claimed=first["quotas_claimed"],
        places=None
        if first["slot_id"] is None
        else SlotPlaces(first["slot_id"], first["remaining"], first["revision"]),
        held=first["held"],
        day_claimed=first["day_claimed"],
    )


class _CatalogueChanged(Exception):
    """The booking statement refused as "stale": the rows it was planned from changed."""


class _Refused(Exception):
    """The booking's writes were undone for `reason`: quota, slot_full or day_full."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refusal(reason: str) -> Exception:
    """The exception of a one-statement booking that refused for `reason` (its HINT)."""
    return _CatalogueChanged() if reason == "stale" else _Refused(reason)


async def _write_alone(shape: _BookingShape, values: dict[str, Any]) -> _Written:
    """A one-statement booking's writes, alone; a refusal leaves as _Refused or
    _CatalogueChanged."""
    try:
        return await _write_booking(None, shape, values)
    except RaiseError as refused:
        raise _refusal(refused.hint) from None


async def _write_together(group: Sequence[tuple[_BookingShape, dict[str, Any]]]) -> list[object]:
    """One-statement bookings of one shape, in one call: each one's _Written, or the exception
    its statement alone would have raised (WRITE_ALONE for a deadlock: it runs again alone)."""
    shape = group[0][0]
    runs = await sql.run_each(_booking_statement(shape), [values for _, values in group])
    outcomes: list[object] = []
    for run in runs:
        if "rows" in run:
            outcomes.append(_written_from(run["rows"]))
        elif "raised" in run:
            outcomes.append(_refusal(run["raised"]))
        elif run["failed"] == "unique":
            # As asyncpg's unique violation reaches a booking written alone.
            outcomes.append(IntegrityError("a person or the Idempotency-Key is booked already"))
        else:
            outcomes.append(WRITE_ALONE)
    return outcomes


# The bookings of a slot made while another of its bookings is being written here go together
# when it is back (see together.py). At most 32 in a call: each is a sub-transaction, and
# PostgreSQL keeps 64 of a transaction's in shared memory before every snapshot gets slower.
_slot_writes: GroupedWrites[tuple[_BookingShape, dict[str, Any]], _Written] = GroupedWrites(
    lambda booking: _write_alone(*booking), _write_together, most=32
)


async def _book_once(
    shape: _BookingShape,
    values: dict[str, Any],
    *,
    hold_id: int | None,
    party: int,
    venue: Venue,
    slot: TimeSlot,
) -> tuple[_Written, SlotPlaces | None]:
    """Write the booking (retried when PostgreSQL aborted it for a conflict); what it wrote and
    the slot's places to publish. Refusals leave as _Refused or _CatalogueChanged, undone."""

    async def once() -> tuple[_Written, SlotPlaces | None]:
        if shape.one_statement:
            # The canary's unguarded writes go alone: it races them on purpose.
            written = (
                await _slot_writes.write((values["slot_id"], shape), (shape, values))
                if shape.guard
                else await _write_alone(shape, values)
            )
            return written, written.places
        async with in_transaction() as connection:
            written = await _write_booking(connection, shape, values)
            # Each refusal leaves the block by its exception: the transaction rolls back.
            reason = _refusal_of(written, shape, values["quotas_wanted"])
            if reason is not None:
                raise _Refused(reason)
            if hold_id is not None:
                # The hold claimed the slot's places and the day's when it was made.
                if written.held is None:
                    raise HoldNotUsable(hold_id=hold_id)
                places = (
                    await return_places(venue, slot, written.held - party, connection)
                    if written.held > party
                    else None
                )
                return written, places
        return written, written.places

    # A booking's row locks can meet a closure's (admin) in the other order: PostgreSQL then
    # aborts one of them, and the booking simply runs again.
    return await retry_conflicts(once)


async def _refuse_slot_full(slot: TimeSlot, party: int, now: datetime) -> NoReturn:
    """SlotFull with the places the slot has left and its alternatives; the mirror told.
    SlotNotFound if the slot is gone: deleted (its day closed, say) while the booking waited
    for its row, which the booking statement then finds no more."""
    fresh = await TimeSlot.get_or_none(id=slot.id)
    if fresh is None:
        _kept_slot_rows.forget(slot.id)
        raise SlotNotFound(slot_id=slot.id)
    await runtime.current().publish(
        SlotPlaces(fresh.id, fresh.capacity - fresh.booked, fresh.revision)
    )
    raise SlotFull(
        remaining=max(fresh.capacity - fresh.booked, 0),
        suggestions=_for_party(await _remembered_alternatives(fresh.id, now, fresh), party),
    )


async def reserve(
    *,
    visitor_id: int,
    slot_id: int,
    people: list[Person],
    now: datetime,
    cipher: personal_data.FieldCipher,
    hold_id: int | None = None,
    sold_out_checked: bool = False,
    guard_capacity: bool = True,
    idempotency: tuple[str, str] | None = None,
) -> Reservation:
    """Book places in a slot for one to five named people, never beyond any cap.

    With `idempotency` (the request's Idempotency-Key and body fingerprint), the key is kept
    with the reservation: a retry of a booking made already gets that first reservation
    (IdempotencyKeyReused if its body differs), also when Redis lost the key's record.

    The slot's places (and the venue's daily cap) are claimed by conditional UPDATEs in the same
    transaction as the reservation, its tickets, the per-person daily claims and the daily
    quotas, so concurrent bookings on any number of processes can never oversell. A person
    already booked at the venue that day is refused by the claims' unique key, also under
    concurrency. With `hold_id` the places come from the visitor's live hold instead.
    Before any of it, a slot the Redis mirror knows to be full is refused without a database
    transaction (unless the caller did that a moment ago: `sold_out_checked`).
    `guard_capacity=False` exists only for the test canary that proves the concurrency test
    catches an oversell.
    """
    release = runtime.current()
    if hold_id is None and not sold_out_checked:
        await refuse_if_sold_out(slot_id=slot_id, party=len(people), now=now)
    one_statement = hold_id is None and not is_sqlite()
    # The one-statement booking checks the catalogue version: rows read before will do.
    bookable = await bookable_slot(slot_id, now, may_use_kept=one_statement)
    checked = _validated_people(people, now.date())
    hashes = [cipher.lookup_hash(id_number) for _, id_number in checked]
    party = len(checked)
    quotas_wanted = limits.quotas_wanted(hashes)
    while True:
        slot, venue = bookable.slot, bookable.venue
        # Social-security card holders' benefits: a better fare, and the slot's priority share.
        perks = (
            await card.perks_for_party(venue=venue, id_hashes=hashes, day=slot.date)
            if bookable.card_benefit
            else card.NO_PERKS
        )
        held_back = perks.held_back(capacity=slot.capacity, party_hashes=hashes)
        # Everything the rows need is computed before the transaction: it holds the slot's row
        # lock only briefly, and this process's event loop serves others meanwhile.
        tickets_wanted = [
            _new_ticket(venue, slot, person, id_number, id_hash, cipher)
            for (person, id_number), id_hash in zip(checked, hashes, strict=True)
        ]
        for ticket in tickets_wanted:
            ticket.fare = perks.fare(ticket.fare, ticket.id_number_hash)
            ticket.price_cents = ticket.fare["price_cents"]
        created_at = timezone.localtime()  # what the ORM's auto_now_add would store
        shape = _BookingShape(
            hold=hold_id is not None,
            guard=guard_capacity,
            daily_cap=venue.daily_capacity is not None,
            # A hold's booking (rare) may hand places back: steps in a transaction.
            one_statement=one_statement,
        )
        values: dict[str, Any] = {
            "visitor_id": visitor_id,
            "venue_id": venue.id,
            "slot_id": slot.id,
            "day": slot.date,
            "party": party,
            "status": ReservationStatus.CONFIRMED.value,
            "created_at": created_at,
            "ticket_status": TicketStatus.VALID.value,
            "people": _people_json(tickets_wanted),
            "places": party,
            "needed": party + held_back,
            "quotas_wanted": quotas_wanted,
            "idempotency_key": idempotency[0] if idempotency else None,
            "request_fingerprint": idempotency[1] if idempotency else None,
            "daily_capacity": venue.daily_capacity,
            **limits.quota_values(limits=release.limits, visitor_id=visitor_id, day=slot.date),
        }
        if one_statement:
            values["catalogue_version"] = bookable.catalogue_version
        if hold_id is not None:
            values |= holds.use_hold_values(hold_id=hold_id, now=now)
        try:
            written, places = await _book_once(
                shape, values, hold_id=hold_id, party=party, venue=venue, slot=slot
            )
            break
        except _CatalogueChanged:
            # The slot's or the venue's rows changed since they were read: plan again from
            # the database's (which may now refuse).
            bookable = await bookable_slot(slot_id, now)
        except _Refused as refused:
            if refused.reason == "quota":
                await limits.refuse_quotas(
                    None,
                    limits=release.limits,
                    visitor_id=visitor_id,
                    id_hashes=hashes,
                    day=slot.date,
                )
            if refused.reason == "day_full":
                raise DayFull() from None
            return await _refuse_slot_full(slot, party, now)
        except IntegrityError:
            first = (
                await booking_for_key(visitor_id=visitor_id, idempotency=idempotency)
                if idempotency
                else None
            )
            if first is not None:  # a retry of a booking made already: its answer is that one
                return first
            # One of these people is booked at the venue that day already (maybe a moment ago).
            raise AlreadyBooked(visitor=await _first_booked(venue, slot.date, hashes)) from None
    if hold_id is None:
        await release.publish_taken(places)
    else:
        await release.publish(places)  # what the hold gave back (None: nothing)
    if places is not None and hold_id is None:
        slot.booked = slot.capacity - places.remaining  # as our UPDATE left the slot's row
    else:
        slot.booked += party  # what our booking took (the slot's row was read just now)
    # The answer is built from the rows just written: no second read of what we know.
    reservation = Reservation(
        id=written.reservation_id,
        visitor_id=visitor_id,
        venue=venue,
        slot=slot,
        date=slot.date,
        party_size=party,
        status=ReservationStatus.CONFIRMED,
        created_at=created_at,
    )
    reservation._saved_in_db = True
    for ticket in tickets_wanted:
        ticket.id = written.ticket_ids[ticket.id_number_hash]
        ticket.reservation = reservation
        ticket.created_at = created_at
        ticket._saved_in_db = True
    reservation.tickets._set_result_for_query(tickets_wanted)
    return reservation


def _people_json(tickets_wanted: list[Ticket]) -> str:
    """The party as the booking's statements read it: each person's ticket columns."""
    return json.dumps(
        [
            {
                "id_number_hash": ticket.id_number_hash,
                "holder_name_encrypted": ticket.holder_name_encrypted,
                "holder_name_masked": ticket.holder_name_masked,
                "id_number_encrypted": ticket.id_number_encrypted,
                "id_number_masked": ticket.id_number_masked,
                "fare": ticket.fare,
                "price_cents": ticket.price_cents,
            }
            for ticket in tickets_wanted
        ],
        ensure_ascii=False,
    )


async def claim_places(
    slot_id: int, places: int, needed: int, connection: Any, *, guard: bool = True
) -> SlotPlaces | None:
    """Take `places` of a slot if `needed` are free (the guard); None when they are not."""
    claim = _CLAIM_PLACES if guard else _CLAIM_PLACES_UNGUARDED
    rows = await sql.fetch_rows(
        claim, {"places": places, "slot_id": slot_id, "needed": needed}, connection
    )
    return _slot_places(rows[0]) if rows else None


async def return_places(venue: Venue, slot: TimeSlot, places: int, connection: Any) -> SlotPlaces:
    """Give `places` back to the slot and the venue's day; what the slot has left afterwards."""
    rows = await sql.fetch_rows(_RETURN_PLACES, [places, slot.id], connection)
    await (
        VenueDay.filter(venue_id=venue.id, date=slot.date)
        .using_db(connection)
        .update(booked=F("booked") - places)
    )
    return _slot_places(rows[0])


def _slot_places(row: dict) -> SlotPlaces:
    return SlotPlaces(int(row["id"]), int(row["remaining"]), int(row["revision"]))


# A full slot's alternatives being read, by slot id: a crowd's refusals of one slot come
# together (its last places go to one booking, and the bookings in flight beside it are refused
# at once), and they share this one read instead of a query each.
_alternatives_reading: dict[int, asyncio.Task[list[dict]]] = {}


async def _remembered_alternatives(
    slot_id: int, now: datetime, slot: TimeSlot | None = None
) -> list[dict]:
    """A full slot's alternatives (for one person), kept briefly for the fast "sold out" answer;
    `slot` if the caller has just read it, else it is read (none if it is gone)."""
    reading = _alternatives_reading.get(slot_id)
    if reading is None:
        reading = asyncio.create_task(_read_alternatives(slot_id, now, slot))
        _alternatives_reading[slot_id] = reading
        reading.add_done_callback(_read_done)
    # Shielded: a caller that gives up does not cancel the read the others wait for.
    return await asyncio.shield(reading)


async def _read_alternatives(slot_id: int, now: datetime, slot: TimeSlot | None) -> list[dict]:
    try:
        slot = slot or await TimeSlot.get_or_none(id=slot_id)
        if slot is None:
            return []
        found = await suggest_slots(slot=slot, party_size=1, now=now, limit=_SUGGESTIONS_KEPT)
        mirror = runtime.current().mirror
        if mirror is not None:
            await mirror.remember_alternatives(slot_id, found)
        return found
    finally:
        # Gone before the waiters resume: a refusal after them reads again.
        _alternatives_reading.pop(slot_id, None)


def _read_done(reading: asyncio.Task) -> None:
    if not reading.cancelled():
        reading.exception()  # its waiters raise it; read here, asyncio does not log it as lost


def _for_party(alternatives: list[dict], party: int) -> list[dict]:
    """The nearest three alternatives with room for the party, in a spread order (see below)."""
    fitting = [s for s in alternatives if s["remaining"] >= party][:SUGGESTED_SLOTS]
    # A crowd refused together mostly takes the first suggestion: the same for all, that one
    # slot filled at once and the rest of the crowd was refused again, while the others stayed
    # empty. So each refusal orders its few by a draw weighted by the places they have left
    # (Efraimidis-Spirakis): the crowd spreads as the room is. Uncrowded slots still come before
    # crowded ones, and the same day before the next.
    return sorted(
        fitting,
        key=lambda s: (
            s.get("crowded", False),
            s["date"],
            -(random.random() ** (1 / s["remaining"])),  # noqa: S311 (a spread, not a secret)
        ),
    )


async def refuse_if_sold_out(
    *, slot_id: int, party: int, now: datetime, others: Sequence[int] = ()
) -> None:
    """SlotFull at once if the Redis mirror knows the slot has fewer than `party` places left
    (with the places it knows are left in `others`, the other slots the booking would take).

    No database transaction (the alternatives are read once every few seconds per slot):
    the fast answer of a sold-out release. When the mirror does not know, nothing happens and
    the booking's own transaction decides.
    """
    mirror = runtime.current().mirror
    await refuse_shortage(
        await mirror.surely_short(slot_id, party, others) if mirror else None,
        slot_id=slot_id,
        party=party,
        now=now,
    )


async def refuse_shortage(
    shortage: Shortage | None, *, slot_id: int, party: int, now: datetime
) -> None:
    """SlotFull with the slot's alternatives for a shortage the mirror knows; nothing for None."""
    if shortage is None:
        return
    alternatives = shortage.alternatives
    if alternatives is None:
        alternatives = await _remembered_alternatives(slot_id, now)
    raise SlotFull(
        remaining=shortage.remaining,
        suggestions=_for_party(alternatives, party),
        others_left=shortage.others_left,
    )


async def places_left(slot_ids: Sequence[int]) -> dict[int, int | None]:
    """The places the Redis mirror knows are left in each slot (None: it does not know)."""
    mirror = runtime.current().mirror
    return await mirror.places_left(slot_ids) if mirror else dict.fromkeys(slot_ids)


def other_slot_with_room(others_left: dict[int, int | None], party: int) -> int | None:
    """Of the other slots a booking would also take (服从调剂), with the places known to be
    left in each, one not known to be short for the party; None if all are.

    Drawn in proportion to the places left (a slot the mirror does not know counts as roomy):
    a crowd moving on from one full slot together spreads over the others as their room is,
    where the first of them for all would fill at once and refuse the rest again.
    """
    roomy = {
        slot_id: EXACT_BELOW if left is None else left
        for slot_id, left in others_left.items()
        if left is None or left >= party
    }
    if not roomy:
        return None
    return random.choices(list(roomy), weights=list(roomy.values()))[0]  # noqa: S311 (a spread)


def _new_ticket(
    venue: Venue,
    slot: TimeSlot,
    person: Person,
    id_number: str,
    id_hash: str,
    cipher: personal_data.FieldCipher,
) -> Ticket:
    """One person's ticket, not yet saved: encrypted and masked personal data, the fare."""
    fare = fare_for(venue, id_number, slot.date)
    return Ticket(
        venue=venue,
        slot=slot,
        date=slot.date,
        holder_name_encrypted=cipher.encrypt(person.name),
        holder_name_masked=personal_data.mask_name(person.name),
        id_number_encrypted=cipher.encrypt(id_number),
        id_number_hash=id_hash,
        id_number_masked=personal_data.mask_id_number(id_number),
        fare=fare,
        price_cents=fare["price_cents"],
    )


async def _first_booked(venue: Venue, day: date, hashes: list[str]) -> int:
    """The position (from 1) of the first of `hashes` holding a claim at the venue that day."""
    held = set(
        await PersonDayClaim.filter(
            venue_id=venue.id, date=day, id_number_hash__in=hashes
        ).values_list("id_number_hash", flat=True)
    )
    # The claim may be gone again (cancelled meanwhile): the refusal still stands for this try.
    return next((i for i, h in enumerate(hashes, 1) if h in held), 1)


async def claim_day(venue: Venue, day: date, party: int, connection: Any = None) -> None:
    """Take `party` places of the venue's daily cap within the caller's transaction, or DayFull."""
    values = {
        "venue_id": venue.id,
        "day": day,
        "places": party,
        "daily_capacity": venue.daily_capacity,
    }
    if not await sql.fetch_rows(_CLAIM_DAY.format(after=""), values, connection):
        raise DayFull()


async def cancel(*, visitor_id: int, reservation_id: int, now: datetime) -> Reservation:
    """Cancel a visitor's own reservation before the venue's deadline; places return at once."""
    reservation = await get_own_reservation(visitor_id=visitor_id, reservation_id=reservation_id)
    if reservation.status == ReservationStatus.CANCELLED:
        return reservation
    deadline = cancel_deadline(reservation.venue, reservation.slot)
    if now > deadline:
        raise CancelTooLate(deadline=deadline.isoformat(timespec="minutes"))
    places: SlotPlaces | None = None
    async with in_transaction() as connection:
        # Only the request that flips the status returns the places, however many race here.
        flipped = await Reservation.filter(
            id=reservation.id, status=ReservationStatus.CONFIRMED
        ).update(status=ReservationStatus.CANCELLED, cancelled_at=now)
        if flipped:
            party = reservation.party_size
            # Revoking is conditional (valid -> revoked): a ticket the gate admitted meanwhile
            # is not revoked, and then the whole cancellation rolls back.
            if (
                await tickets.revoke_reservation_tickets(reservation_id=reservation.id, now=now)
                != party
            ):
                raise AlreadyEntered()
            places = await return_places(reservation.venue, reservation.slot, party, connection)
            await limits.return_quotas(
                connection,
                visitor_id=visitor_id,
                id_hashes=[ticket.id_number_hash for ticket in reservation.tickets],
                day=reservation.date,
            )
            await PersonDayClaim.filter(reservation_id=reservation.id).delete()
    await runtime.current().publish(places)
    return await get_own_reservation(visitor_id=visitor_id, reservation_id=reservation.id)


async def get_own_reservation(*, visitor_id: int, reservation_id: int) -> Reservation:
    """One of the visitor's own reservations; someone else's is "not found", not "forbidden"."""
    reservation = (
        await Reservation.filter(id=reservation_id, visitor_id=visitor_id)
        .prefetch_related("slot", "venue", "tickets")
        .first()
    )
    if reservation is None:
        raise ReservationNotFound(reservation_id=reservation_id)
    return reservation


async def booking_for_key(*, visitor_id: int, idempotency: tuple[str, str]) -> Reservation | None:
    """The visitor's reservation booked with this (Idempotency-Key, body fingerprint), if any;
    IdempotencyKeyReused when the key was booked with another body."""
    key, request_fingerprint = idempotency
    first = (
        await Reservation.filter(visitor_id=visitor_id, idempotency_key=key)
        .prefetch_related("slot", "venue", "tickets")
        .first()
    )
    if first is not None and first.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused()
    return first


async def list_own_reservations(*, visitor_id: int, limit: int = 50) -> list[Reservation]:
    """The visitor's reservations, newest first."""
    return (
        await Reservation.filter(visitor_id=visitor_id)
        .order_by("-created_at", "-id")
        .limit(limit)
        .prefetch_related("slot", "venue", "tickets")
    )


async def set_slot_capacity(
    *, slot_id: int, capacity: int, manager_venue_id: int | None
) -> TimeSlot:
    """Change a slot's capacity, never below the places already booked.

    `manager_venue_id` is the venue a venue manager runs (None for the bureau's admins): another
    venue's slot is "not found" to them.
    """
    slot = await TimeSlot.get_or_none(id=slot_id)
    if slot is None or manager_venue_id not in (None, slot.venue_id):
        raise SlotNotFound(slot_id=slot_id)
    changed = await TimeSlot.filter(id=slot_id, booked__lte=capacity).update(
        capacity=capacity, revision=F("revision") + 1
    )
    await runtime.current().refresh(slot_id)
    slot = await TimeSlot.get(id=slot_id)
    if not changed:
        raise CapacityBelowBooked(booked=slot.booked)
    return slot


# --- the manager's side: weekly template, booking rules, keeping slots generated ------------------


async def managed_venue(*, venue_id: int, manager_venue_id: int | None) -> Venue:
    """A venue its manager may change; another venue is "not found" to a venue manager."""
    if manager_venue_id not in (None, venue_id):
        raise VenueNotFound(venue_id=venue_id)
    return await venues.get_venue(venue_id=venue_id, include_hidden=True)


async def slot_template(*, venue_id: int) -> list[SlotTemplate]:
    """A venue's weekly template, by weekday and start."""
    return await SlotTemplate.filter(venue_id=venue_id).order_by("weekday", "starts_at")


async def set_slot_template(
    *, venue_id: int, manager_venue_id: int | None, windows: list[dict], today: date, days: int
) -> list[SlotTemplate]:
    """Replace a venue's weekly template and apply it to the coming days.

    Windows must lie within the weekday's opening hours and not overlap. Future slots that no
    reservation ever touched are regenerated from the new template; slots with bookings stay
    as they are, so nobody's reservation moves.
    """
    venue = await managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    _check_windows(venue, windows)
    async with in_transaction():
        await replace_slot_templates(venue_id=venue.id, windows=windows)
        untouched = TimeSlot.filter(venue_id=venue.id, date__gt=today, booked=0).exclude(
            id__in=Subquery(Reservation.filter(venue_id=venue.id).values("slot_id"))
        )
        await TimeSlot.filter(id__in=Subquery(untouched.values("id"))).delete()
    await generate_slots(venue_id=venue.id, first_day=today, days=days)
    return await slot_template(venue_id=venue.id)


def _check_windows(venue: Venue, windows: list[dict]) -> None:
    hours = {h.weekday: h for h in venue.opening_hours}
    taken: dict[int, list[tuple]] = {}
    for position, window in enumerate(windows):
        field = f"windows[{position}]"
        if window["starts_at"] >= window["ends_at"]:
            raise InvalidInput(field=field, detail="start must be before end")
        for weekday in window["weekdays"]:
            day_hours = hours.get(weekday)
            if day_hours is None or not (
                day_hours.opens_at <= window["starts_at"]
                and window["ends_at"] <= day_hours.closes_at
            ):
                raise InvalidInput(
                    field=field, detail=f"outside opening hours on weekday {weekday}"
                )
            for start, end in taken.get(weekday, []):
                if window["starts_at"] < end and start < window["ends_at"]:
                    raise InvalidInput(field=field, detail=f"overlaps another window on {weekday}")
            taken.setdefault(weekday, []).append((window["starts_at"], window["ends_at"]))


async def set_booking_rules(*, venue_id: int, manager_venue_id: int | None, changes: dict) -> Venue:
    """Change a venue's caps, release schedule, cancel deadline and gate tolerance."""
    venue = await managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    if changes:
        venue.update_from_dict(changes)
        await venue.save(update_fields=[*changes, "updated_at"])
    return venue


async def generate_upcoming_slots(*, today: date, days: int) -> int:
    """Keep every reservable venue's slots generated `days` ahead; return how many are new."""
    created = 0
    for venue_id in await Venue.filter(reservable=True).values_list("id", flat=True):
        created += await generate_slots(venue_id=venue_id, first_day=today, days=days)
    return created
