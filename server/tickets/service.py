"""Tickets: rotating signed QR texts, the gate (admit once, exit), live occupancy and warnings."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from redis.asyncio import Redis
from tortoise import timezone
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Sum
from tortoise.models import Model
from tortoise.transactions import in_transaction

from server import db
from server.clock import LOCAL_TZ
from server.errors import TokenInvalid
from server.reservations import sql
from server.reservations.models import TimeSlot
from server.signing import TokenSigner
from server.tickets.errors import TicketNotFound, TicketRevoked, TicketUsed
from server.tickets.models import (
    GateScan,
    OccupancyWarning,
    ScanDirection,
    Ticket,
    TicketStatus,
    VenueOccupancy,
)
from server.venues import service as venues
from server.venues.models import Venue

log = logging.getLogger("etour.gate")

QR_PURPOSE = "ticket"
QR_PREFIX = "ETK1."  # tells a gate scanner this is our ticket, not a card or another app's code
QR_TTL_SECONDS = 60  # a screenshot goes stale after about a minute
# The mini-program fetches a new code this long after the last one, well before it expires.
QR_REFRESH_AFTER_SECONDS = 40

OFFLINE_MAX_AGE = timedelta(hours=48)
# A gate device's clock may run a little ahead of ours; beyond this its scan time is not believed.
OFFLINE_CLOCK_SKEW = timedelta(minutes=2)
# Revocations committing while a gate polls carry a `revoked_at` from just before: overlap a bit.
REVOCATION_OVERLAP = timedelta(seconds=30)

WARNINGS_CHANNEL = "etour:warnings"
OCCUPANCY_CHANNEL = "etour:occupancy"


class ScanReason(StrEnum):
    """Why a gate let someone through or not; each has a message `gate.<reason>` in zh and en."""

    ADMITTED = "admitted"
    EXITED = "exited"
    UNKNOWN_CODE = "unknown_code"
    FORGED = "forged"
    EXPIRED = "expired"
    WRONG_VENUE = "wrong_venue"
    UNKNOWN_TICKET = "unknown_ticket"
    REVOKED = "revoked"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"
    ALREADY_USED = "already_used"
    VENUE_FULL = "venue_full"
    NOT_ENTERED = "not_entered"
    ALREADY_EXITED = "already_exited"
    SCANNED_IN_FUTURE = "scanned_in_future"
    SCAN_TOO_OLD = "scan_too_old"
    NONCE_REUSED = "nonce_reused"


class CrowdLevel(StrEnum):
    """How full a venue is, as the mini-program shows it."""

    COMFORTABLE = "comfortable"  # below 50 %
    BUSY = "busy"  # below 80 %
    CROWDED = "crowded"  # below 100 %
    FULL = "full"


class CrowdBasis(StrEnum):
    """What a crowd level is measured against."""

    INSTANT_CAPACITY = "instant_capacity"  # people inside now against the in-venue cap
    BOOKINGS = "bookings"  # today's booked places against today's slot capacities


def crowd_level(count: int, capacity: int) -> CrowdLevel:
    """The level of `count` people against `capacity` (a zero capacity is always full)."""
    if count * 100 < 50 * capacity:
        return CrowdLevel.COMFORTABLE
    if count * 100 < 80 * capacity:
        return CrowdLevel.BUSY
    if count * 100 < 100 * capacity:
        return CrowdLevel.CROWDED
    return CrowdLevel.FULL


# --- the visitor's QR code ---------------------------------------------------------------------


def qr_text(signer: TokenSigner, ticket: Ticket, *, now: float) -> tuple[str, int]:
    """The ticket's current QR text and when it expires (epoch seconds)."""
    claims = {"t": ticket.id, "v": ticket.venue_id, "s": ticket.slot_id}
    token = signer.sign(purpose=QR_PURPOSE, claims=claims, ttl_seconds=QR_TTL_SECONDS, now=now)
    return QR_PREFIX + token, int(now) + QR_TTL_SECONDS


@dataclass(frozen=True)
class TicketQr:
    """A freshly signed QR text of a ticket and when it stops being accepted."""

    text: str
    expires_at: int  # epoch seconds
    ttl_seconds: int = QR_TTL_SECONDS
    refresh_after_seconds: int = QR_REFRESH_AFTER_SECONDS


async def current_qr(
    *, visitor_id: int, ticket_id: int, signer: TokenSigner, now: datetime
) -> TicketQr:
    """A new QR text for one of the visitor's own tickets; none for a revoked or used ticket."""
    ticket = await Ticket.filter(id=ticket_id, reservation__visitor_id=visitor_id).first()
    if ticket is None:
        raise TicketNotFound(ticket_id=ticket_id)
    if ticket.status == TicketStatus.REVOKED:
        raise TicketRevoked(ticket_id=ticket_id)
    if ticket.status == TicketStatus.USED:
        raise TicketUsed(ticket_id=ticket_id)
    text, expires_at = qr_text(signer, ticket, now=now.timestamp())
    return TicketQr(text=text, expires_at=expires_at)


async def revoke_reservation_tickets(*, reservation_id: int, now: datetime) -> int:
    """Revoke the still-valid tickets of a reservation; return how many were revoked."""
    return await Ticket.filter(reservation_id=reservation_id, status=TicketStatus.VALID).update(
        status=TicketStatus.REVOKED, revoked_at=now
    )


# --- reading a QR text -------------------------------------------------------------------------


class ScanRefused(Exception):
    """A scan refused for `reason`: the gate shows it, so it is an answer, not an HTTP error."""

    def __init__(self, reason: ScanReason) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class QrClaims:
    """What a genuine ticket QR says: which ticket, venue and slot, and until when."""

    ticket_id: int
    venue_id: int
    slot_id: int
    expires: int  # epoch seconds


def read_qr(signer: TokenSigner, text: str) -> QrClaims:
    """The claims of a genuine ticket QR text (its window is judged by the caller).

    Not our format: unknown_code. Our prefix but a bad signature or altered payload: forged.
    """
    text = text.strip()
    if not text.startswith(QR_PREFIX):
        raise ScanRefused(ScanReason.UNKNOWN_CODE)
    try:
        # Only the signature here: the window is judged against the scan's own moment, which for
        # an offline scan is when the device read it, not now.
        claims = signer.verify(text.removeprefix(QR_PREFIX), purpose=QR_PURPOSE, now=-math.inf)
    except TokenInvalid:
        raise ScanRefused(ScanReason.FORGED) from None
    if not all(type(claims.get(key)) is int for key in ("t", "v", "s")):
        raise ScanRefused(ScanReason.FORGED)
    return QrClaims(
        ticket_id=claims["t"], venue_id=claims["v"], slot_id=claims["s"], expires=claims["exp"]
    )


# --- occupancy ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occupancy:
    """People inside a venue on one day, against its instantaneous cap (None: no cap)."""

    venue_id: int
    day: date
    inside: int
    capacity: int | None

    @property
    def percent(self) -> int | None:
        """Occupancy as a whole percentage of the cap, or None without a cap."""
        if not self.capacity:
            return None
        return self.inside * 100 // self.capacity

    @property
    def level(self) -> CrowdLevel | None:
        """The crowd level against the cap, or None without a cap."""
        return None if self.capacity is None else crowd_level(self.inside, self.capacity)


async def current_occupancy(*, venue: Venue | VenueAtGate, day: date) -> Occupancy:
    """How many people are inside `venue` on `day` now."""
    inside = await _inside(venue.id, day)
    return Occupancy(venue_id=venue.id, day=day, inside=inside, capacity=venue.instant_capacity)


async def _inside(venue_id: int, day: date) -> int:
    counts = await VenueOccupancy.filter(venue_id=venue_id, date=day).values_list(
        "inside", flat=True
    )
    return counts[0] if counts else 0


def thresholds_crossed(
    *, before: int, after: int, capacity: int | None, thresholds: Iterable[int]
) -> list[int]:
    """The thresholds (percent of `capacity`) that occupancy passed upwards from before to after.

    Judged on the two values of one UPDATE, so each crossing is seen by exactly one scan: staying
    above a threshold warns no more, dropping below and rising again warns anew.
    """
    if not capacity or after <= before:
        return []
    return [p for p in thresholds if before * 100 < p * capacity <= after * 100]


@dataclass(frozen=True)
class Crowd:
    """What the venue answer shows about crowding."""

    occupancy: int
    capacity: int | None
    level: CrowdLevel | None
    basis: CrowdBasis | None


async def crowd_by_venue(*, venues_shown: Sequence[Venue], day: date) -> dict[int, Crowd]:
    """The crowd of each venue on `day`, loaded for the whole list at once (not per venue).

    Venues with an instantaneous cap are measured by the people inside; the others by today's
    bookings against today's slot capacities (no level when they have no slots today).
    """
    ids = [venue.id for venue in venues_shown]
    if not ids:
        return {}
    inside = dict(
        await VenueOccupancy.filter(venue_id__in=ids, date=day).values_list("venue_id", "inside")
    )
    uncapped = [venue.id for venue in venues_shown if venue.instant_capacity is None]
    bookings: dict[int, tuple[int, int]] = {}
    if uncapped:
        rows = (
            await TimeSlot.filter(venue_id__in=uncapped, date=day)
            .annotate(booked_sum=Sum("booked"), capacity_sum=Sum("capacity"))
            .group_by("venue_id")
            .values("venue_id", "booked_sum", "capacity_sum")
        )
        bookings = {
            row["venue_id"]: (int(row["booked_sum"] or 0), int(row["capacity_sum"] or 0))
            for row in rows
        }
    crowds = {}
    for venue in venues_shown:
        people = inside.get(venue.id, 0)
        if venue.instant_capacity is not None:
            level = crowd_level(people, venue.instant_capacity)
            crowds[venue.id] = Crowd(
                people, venue.instant_capacity, level, CrowdBasis.INSTANT_CAPACITY
            )
        elif bookings.get(venue.id, (0, 0))[1] > 0:
            booked, capacity = bookings[venue.id]
            crowds[venue.id] = Crowd(
                people, None, crowd_level(booked, capacity), CrowdBasis.BOOKINGS
            )
        else:
            crowds[venue.id] = Crowd(people, None, None, None)
    return crowds


# --- the gate ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanOutcome:
    """The gate's verdict on one scan, with the ticket (of this venue only) and the occupancy."""

    admitted: bool
    reason: ScanReason
    direction: ScanDirection
    scanned_at: datetime
    occupancy: Occupancy
    ticket: Ticket | TicketAtGate | None = None
    nonce: str | None = None
    duplicate: bool = False  # an offline scan uploaded before: the first verdict, counted once
    gate: str | None = None  # which gate or device scanned, as it said


@dataclass(frozen=True)
class OfflineScan:
    """A scan a gate device made without a connection, uploaded later."""

    qr: str
    nonce: str
    scanned_at: datetime
    direction: ScanDirection = ScanDirection.ENTRY
    gate: str | None = None


@dataclass
class _Gate:
    """One gate request: the staff member's venue and what a scan needs beyond its QR."""

    venue_id: int
    staff_id: int
    signer: TokenSigner
    thresholds: tuple[int, ...]
    gate: str | None = None
    venue: Venue | VenueAtGate | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def own_venue(self) -> Venue | VenueAtGate:
        if self.venue is None:
            self.venue = await venues.get_venue(venue_id=self.venue_id, include_hidden=True)
        return self.venue


# The row an admission may flip to used: the ticket, only while it is still valid. This
# condition is the whole guard against admitting a ticket twice: two gates scanning the same
# ticket at the same moment both run the UPDATE, and only one of them finds it valid.
TICKET_CONSUMPTION = (
    "UPDATE ticket SET status = $1, admitted_at = $2 WHERE id = $3 AND status = 'valid'"
)


async def consume_ticket(
    *, ticket_id: int, at: datetime, connection: BaseDBAsyncClient | None = None
) -> bool:
    """Flip a valid ticket to used, admitted at `at`; False if it was not valid (any more)."""
    stored_at = Ticket._meta.fields_map["admitted_at"].to_db_value(at, Ticket)
    values = [TicketStatus.USED.value, stored_at, ticket_id]
    return bool(await sql.execute(TICKET_CONSUMPTION, values, connection))


async def scan_ticket(
    *,
    venue_id: int,
    staff_id: int,
    qr: str,
    direction: ScanDirection,
    now: datetime,
    signer: TokenSigner,
    redis: Redis,
    thresholds: tuple[int, ...],
    gate: str | None = None,
) -> ScanOutcome:
    """Judge a QR scanned at a gate of the staff member's venue; admit a ticket at most once.

    Entry checks, in order: our format, signature, 60 s window, venue, revocation, slot time
    with the venue's tolerance, not used yet, room under the instantaneous cap. Every scan is
    recorded; changes of occupancy and crossed warning thresholds are published on Redis.
    """
    context = _Gate(
        venue_id=venue_id, staff_id=staff_id, signer=signer, thresholds=thresholds, gate=gate
    )
    outcome = await _judge(context, qr=qr, direction=direction, at=now, nonce=None, offline=False)
    _publish(redis, context.events)
    return outcome


async def upload_offline_scans(
    *,
    venue_id: int,
    staff_id: int,
    scans: Sequence[OfflineScan],
    now: datetime,
    signer: TokenSigner,
    redis: Redis,
    thresholds: tuple[int, ...],
) -> list[ScanOutcome]:
    """Record scans a gate made offline, each judged at its own scan time; results in order.

    A nonce already uploaded returns its first verdict and counts nothing again. Scans are
    replayed oldest first, so an exit uploaded with its entry finds the person inside. Offline
    entries are counted without the instantaneous cap: the device has let the person in already.
    """
    context = _Gate(venue_id=venue_id, staff_id=staff_id, signer=signer, thresholds=thresholds)
    known = {
        row.nonce: row
        for row in await GateScan.filter(nonce__in=[scan.nonce for scan in scans]).select_related(
            "ticket__slot"
        )
    }
    results: dict[str, ScanOutcome] = {}
    for scan in sorted(scans, key=lambda s: s.scanned_at):
        if scan.nonce in results:
            continue
        if scan.nonce in known:
            results[scan.nonce] = await _earlier_verdict(context, known[scan.nonce])
            continue
        context.gate = scan.gate
        if scan.scanned_at > now + OFFLINE_CLOCK_SKEW or scan.scanned_at < now - OFFLINE_MAX_AGE:
            reason = (
                ScanReason.SCANNED_IN_FUTURE if scan.scanned_at > now else ScanReason.SCAN_TOO_OLD
            )
            results[scan.nonce] = await _refuse(
                context, ScanRefused(reason), scan.direction, scan.scanned_at, None, scan.nonce
            )
            continue
        results[scan.nonce] = await _judge(
            context,
            qr=scan.qr,
            direction=scan.direction,
            at=scan.scanned_at,
            nonce=scan.nonce,
            offline=True,
        )
    _publish(redis, context.events)
    seen: set[str] = set()
    ordered = []
    for scan in scans:
        outcome = results[scan.nonce]
        ordered.append(replace(outcome, duplicate=True) if scan.nonce in seen else outcome)
        seen.add(scan.nonce)
    return ordered


async def _judge(
    context: _Gate,
    *,
    qr: str,
    direction: ScanDirection,
    at: datetime,
    nonce: str | None,
    offline: bool,
) -> ScanOutcome:
    ticket = None
    try:
        claims = read_qr(context.signer, qr)
        if claims.venue_id == context.venue_id:
            ticket = await ticket_at_gate(ticket_id=claims.ticket_id, venue_id=context.venue_id)
        if claims.expires <= at.timestamp():
            raise ScanRefused(ScanReason.EXPIRED)
        if claims.venue_id != context.venue_id:
            raise ScanRefused(ScanReason.WRONG_VENUE)
        if ticket is None:
            # Tickets are never deleted: a genuine code without a row comes from another database.
            raise ScanRefused(ScanReason.UNKNOWN_TICKET)
        context.venue = ticket.venue
        if ticket.status == TicketStatus.REVOKED:
            raise ScanRefused(ScanReason.REVOKED)
        if direction == ScanDirection.EXIT:
            return await _exit(context, ticket, at, nonce)
        _check_slot_time(ticket, at)
        return await _admit(context, ticket, at, nonce, guard_cap=not offline)
    except ScanRefused as refusal:
        return await _refuse(context, refusal, direction, at, ticket, nonce)
    except IntegrityError:
        if nonce is None:
            raise
        return await _verdict_of_nonce(context, nonce)


def _check_slot_time(ticket: TicketAtGate, at: datetime) -> None:
    """Entry is allowed from `entry_early_minutes` before the slot to `entry_late_minutes` after."""
    venue, slot = ticket.venue, ticket.slot
    opens = datetime.combine(slot.date, slot.starts_at, LOCAL_TZ)
    closes = datetime.combine(slot.date, slot.ends_at, LOCAL_TZ)
    if at < opens - timedelta(minutes=venue.entry_early_minutes):
        raise ScanRefused(ScanReason.TOO_EARLY)
    if at > closes + timedelta(minutes=venue.entry_late_minutes):
        raise ScanRefused(ScanReason.TOO_LATE)


async def _admit(
    context: _Gate,
    ticket: TicketAtGate | None,
    at: datetime,
    nonce: str | None,
    *,
    guard_cap: bool,
    claim: Callable[[], Awaitable[None]] | None = None,
) -> ScanOutcome:
    """Count one person in; with a ticket, consume it; without (a card walk-in), run `claim`.

    `claim` runs inside the same transaction before the count, so its own conditional writes
    (a daily cap, once-a-day) roll back with a full venue, and a refusal it raises rolls ours.
    """
    venue = ticket.venue if ticket is not None else await context.own_venue()
    day = at.astimezone(LOCAL_TZ).date()
    cap = venue.instant_capacity if guard_cap else None
    if ticket is not None and claim is None and not db.is_sqlite():
        inside = await _admit_in_one_statement(context, ticket, venue, day, cap, at, nonce)
    else:
        inside = await _admit_in_transaction(context, ticket, venue, day, cap, at, nonce, claim)
    crossed = thresholds_crossed(
        before=inside - 1,
        after=inside,
        capacity=venue.instant_capacity,
        thresholds=context.thresholds,
    )
    if ticket is not None:
        ticket.status, ticket.admitted_at = TicketStatus.USED, at
    occupancy = Occupancy(venue.id, day, inside, venue.instant_capacity)
    _announce(context, occupancy, ScanDirection.ENTRY, at)
    for percent in crossed:
        context.events.append(
            (
                WARNINGS_CHANNEL,
                {
                    "venue_id": venue.id,
                    "threshold": percent,
                    "occupancy": inside,
                    "capacity": venue.instant_capacity,
                    "date": day.isoformat(),
                    "time": at.isoformat(),
                },
            )
        )
    return ScanOutcome(
        True,
        ScanReason.ADMITTED,
        ScanDirection.ENTRY,
        at,
        occupancy,
        ticket,
        nonce,
        gate=context.gate,
    )


async def _admit_in_transaction(
    context: _Gate,
    ticket: TicketAtGate | None,
    venue: Venue | VenueAtGate,
    day: date,
    cap: int | None,
    at: datetime,
    nonce: str | None,
    claim: Callable[[], Awaitable[None]] | None,
) -> int:
    """The admission's writes in one transaction (SQLite, card walk-ins); the count after."""
    async with in_transaction() as connection:
        # A write first (on SQLite it takes the database's write lock before anything is read),
        # and everything else before the venue's one occupancy row, which every entry updates:
        # its row lock is then held only from the count to the commit.
        await _record(
            context, ScanDirection.ENTRY, at, ticket, ScanReason.ADMITTED, nonce, connection
        )
        # A used ticket is refused here and nowhere earlier: this UPDATE alone decides it.
        if ticket is not None and not await consume_ticket(
            ticket_id=ticket.id, at=at, connection=connection
        ):
            raise ScanRefused(ScanReason.ALREADY_USED)
        if claim is not None:
            await claim()
        inside = await _count_entry(connection, venue.id, day, cap)
        if inside is None:
            # Leaving the transaction by this exception puts the ticket back to valid.
            raise ScanRefused(ScanReason.VENUE_FULL)
        crossed = thresholds_crossed(
            before=inside - 1,
            after=inside,
            capacity=venue.instant_capacity,
            thresholds=context.thresholds,
        )
        for percent in crossed:
            await OccupancyWarning.create(
                venue_id=venue.id,
                date=day,
                threshold_percent=percent,
                occupancy=inside,
                capacity=venue.instant_capacity,
            )
    return inside


# A ticket's admission on PostgreSQL, as one statement in its own transaction: lock the venue's
# occupancy row of the day if there is room under the cap, consume the ticket (the conditional
# UPDATE of TICKET_CONSUMPTION, its $1..$3), count the person in, record the scan and any warning
# crossed. Nothing is written unless all of it is. Every entry of a venue takes the one
# occupancy row's lock, so entries are serialised by it; as one statement, the lock is held for
# the statement alone, not across round trips to a busy server process and a COMMIT; and a
# second scan of the same ticket, waiting for the lock, then finds the ticket used.
# (SQLite has no data-modifying WITH: there, _admit_in_transaction does the same in steps.)
_ADMISSION = """
WITH room AS (
    SELECT inside FROM venue_occupancy
    WHERE venue_id = $4 AND date = $5 AND ($6::int IS NULL OR inside < $6::int)
    FOR UPDATE
), consumed AS (
    {consumption} AND EXISTS (SELECT 1 FROM room) RETURNING id
), counted AS (
    UPDATE venue_occupancy SET inside = inside + 1, entered = entered + 1
    WHERE venue_id = $4 AND date = $5 AND EXISTS (SELECT 1 FROM consumed)
    RETURNING inside
), recorded AS (
    INSERT INTO gate_scan (venue_id, ticket_id, staff_id, direction, admitted, reason, nonce,
                           gate, scanned_at, recorded_at)
    SELECT $4, $3, $7::int, 'entry', TRUE, 'admitted', $8::varchar, $9::varchar, $2,
           $10::timestamptz
    FROM counted
), warned AS (
    INSERT INTO occupancy_warning (venue_id, date, threshold_percent, occupancy, capacity,
                                   created_at)
    SELECT $4, $5, threshold, counted.inside, $11::int, $10::timestamptz
    FROM counted, unnest($12::int[]) AS threshold
    WHERE $11::int > 0
      AND (counted.inside - 1) * 100 < threshold * $11::int
      AND threshold * $11::int <= counted.inside * 100
)
SELECT (SELECT inside FROM counted) AS inside,
       EXISTS (SELECT 1 FROM room) AS had_room,
       EXISTS (SELECT 1 FROM venue_occupancy WHERE venue_id = $4 AND date = $5) AS day_begun,
       (SELECT status FROM ticket WHERE id = $3) AS ticket_status
"""


async def _admit_in_one_statement(
    context: _Gate,
    ticket: TicketAtGate,
    venue: Venue | VenueAtGate,
    day: date,
    cap: int | None,
    at: datetime,
    nonce: str | None,
) -> int:
    """Admit `ticket` with _ADMISSION (PostgreSQL); the count after, or a refusal."""
    # Composed at each call from TICKET_CONSUMPTION, the one guard against a double admission
    # (the race tests' canary takes it away there).
    statement = _ADMISSION.format(consumption=TICKET_CONSUMPTION)
    values = [
        TicketStatus.USED.value,
        at,
        ticket.id,
        venue.id,
        day,
        cap,
        context.staff_id,
        nonce,
        context.gate,
        timezone.localtime(),  # what the ORM's auto_now_add would store
        venue.instant_capacity,
        list(context.thresholds),
    ]
    for _ in range(2):
        [row] = await sql.fetch_rows(statement, values)
        if row["inside"] is not None:
            return row["inside"]
        if row["had_room"] or row["ticket_status"] != TicketStatus.VALID:
            # As in the transaction: a used ticket is refused as such, before a full venue.
            raise ScanRefused(ScanReason.ALREADY_USED)
        if row["day_begun"]:
            raise ScanRefused(ScanReason.VENUE_FULL)
        # The day's first entry makes the row (a racing first entry's row is kept), then again.
        await VenueOccupancy.bulk_create(
            [VenueOccupancy(venue_id=venue.id, date=day)], ignore_conflicts=True
        )
    raise RuntimeError(f"no occupancy row of venue {venue.id} on {day}")  # pragma: no cover


# One statement counts a person in and reads the count it made (the row is ours until commit).
_COUNT_ENTRY = (
    "UPDATE venue_occupancy SET inside = inside + 1, entered = entered + 1 "
    "WHERE venue_id = $1 AND date = $2 RETURNING inside"
)
_COUNT_ENTRY_CAPPED = (
    "UPDATE venue_occupancy SET inside = inside + 1, entered = entered + 1 "
    "WHERE venue_id = $1 AND date = $2 AND inside < $3 RETURNING inside"
)


async def _count_entry(
    connection: BaseDBAsyncClient, venue_id: int, day: date, cap: int | None
) -> int | None:
    """Count one person into the venue's day, under `cap`; the count after, or None if full."""
    if cap is None:
        statement, values = _COUNT_ENTRY, [venue_id, day]
    else:
        statement, values = _COUNT_ENTRY_CAPPED, [venue_id, day, cap]
    rows = await sql.fetch_rows(statement, values, connection)
    if not rows:
        # The day's first entry makes the row (ON CONFLICT DO NOTHING: a racing first entry
        # waits for ours, then finds it); or the venue is full.
        await VenueOccupancy.bulk_create(
            [VenueOccupancy(venue_id=venue_id, date=day)], ignore_conflicts=True
        )
        rows = await sql.fetch_rows(statement, values, connection)
    return rows[0]["inside"] if rows else None


@dataclass
class VenueAtGate:
    """What a gate needs of its venue: the cap and the entry tolerance around a slot."""

    id: int
    instant_capacity: int | None
    entry_early_minutes: int
    entry_late_minutes: int


@dataclass
class SlotAtGate:
    """A ticket's slot, as a gate checks and shows it."""

    date: date
    starts_at: time
    ends_at: time


@dataclass
class TicketAtGate:
    """What a gate reads of a ticket: holder (masked), fare, status and times, slot, venue.

    Read by hand, not as ORM models: whole rows, the venue's many JSON texts decoded and three
    models made, were a good part of a scan's CPU time.
    """

    id: int
    venue_id: int
    slot_id: int
    date: date
    holder_name_masked: str
    id_number_masked: str
    fare: dict[str, Any]
    price_cents: int
    status: TicketStatus
    admitted_at: datetime | None
    exited_at: datetime | None
    slot: SlotAtGate
    venue: VenueAtGate


# Each part of the gate's read: its table's model (whose fields convert the columns), its
# dataclass, and the SQL name of its table in the query.
_AT_GATE: tuple[tuple[type[Model], type, str], ...] = (
    (Ticket, TicketAtGate, "ticket"),
    (TimeSlot, SlotAtGate, "slot"),
    (Venue, VenueAtGate, "venue"),
)


@cache
def _columns(shape: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(shape) if f.name not in ("slot", "venue"))


@cache
def _ticket_at_gate_sql() -> str:
    columns = ", ".join(
        f'{table}.{column} AS "{table}__{column}"'
        for _, shape, table in _AT_GATE
        for column in _columns(shape)
    )
    return " ".join(
        (
            "SELECT",
            columns,
            "FROM ticket JOIN time_slot slot ON slot.id = ticket.slot_id",
            "JOIN venue ON venue.id = ticket.venue_id",
            "WHERE ticket.id = $1 AND ticket.venue_id = $2",
        )
    )


def _read_part(row: dict[str, Any], model: type[Model], shape: type, table: str) -> dict[str, Any]:
    # Converted by the model's own fields, as the ORM would (JSON, enums, dates and times).
    fields_map = model._meta.fields_map
    return {
        column: fields_map[column].to_python_value(row[f"{table}__{column}"])
        for column in _columns(shape)
    }


async def ticket_at_gate(*, ticket_id: int, venue_id: int) -> TicketAtGate | None:
    """A ticket of the venue with its slot and venue, as a gate reads it (one query), or None."""
    rows = await sql.fetch_rows(_ticket_at_gate_sql(), [ticket_id, venue_id])
    if not rows:
        return None
    ticket, slot, venue = (_read_part(rows[0], *part) for part in _AT_GATE)
    return TicketAtGate(**ticket, slot=SlotAtGate(**slot), venue=VenueAtGate(**venue))


async def admit_without_qr(
    *,
    venue_id: int,
    staff_id: int,
    ticket_id: int | None,
    now: datetime,
    signer: TokenSigner,
    redis: Redis,
    thresholds: tuple[int, ...],
    claim: Callable[[], Awaitable[None]] | None = None,
    gate: str | None = None,
) -> ScanOutcome:
    """Admit someone identified otherwise than by a ticket QR (a social-security card).

    With `ticket_id`, that ticket of the venue is judged as a scanned QR would be after its
    signature (revocation, slot time, once only, the instantaneous cap). Without, one person
    walks in under the cap, after `claim` (run in the same transaction) allowed it. Recorded,
    counted and published exactly as a QR entry.
    """
    context = _Gate(
        venue_id=venue_id, staff_id=staff_id, signer=signer, thresholds=thresholds, gate=gate
    )
    ticket = None
    try:
        if ticket_id is not None:
            ticket = await ticket_at_gate(ticket_id=ticket_id, venue_id=venue_id)
            if ticket is None:
                raise ScanRefused(ScanReason.UNKNOWN_TICKET)
            context.venue = ticket.venue
            if ticket.status == TicketStatus.REVOKED:
                raise ScanRefused(ScanReason.REVOKED)
            _check_slot_time(ticket, now)
        outcome = await _admit(context, ticket, now, None, guard_cap=True, claim=claim)
    except ScanRefused as refusal:
        outcome = await _refuse(context, refusal, ScanDirection.ENTRY, now, ticket, None)
    _publish(redis, context.events)
    return outcome


async def _exit(
    context: _Gate, ticket: TicketAtGate, at: datetime, nonce: str | None
) -> ScanOutcome:
    if ticket.status != TicketStatus.USED or ticket.admitted_at is None:
        raise ScanRefused(ScanReason.NOT_ENTERED)
    venue = ticket.venue
    # The exit lowers the count of the day the person came in, even just after midnight.
    day = ticket.admitted_at.astimezone(LOCAL_TZ).date()
    async with in_transaction():
        leaving = Ticket.filter(id=ticket.id, status=TicketStatus.USED, exited_at__isnull=True)
        if not await leaving.update(exited_at=at):
            raise ScanRefused(ScanReason.ALREADY_EXITED)
        row = VenueOccupancy.filter(venue_id=venue.id, date=day)
        if not await row.filter(inside__gt=0).update(
            inside=F("inside") - 1, exited=F("exited") + 1
        ):
            await row.update(exited=F("exited") + 1)
        inside = await _inside(venue.id, day)
        await _record(context, ScanDirection.EXIT, at, ticket, ScanReason.EXITED, nonce)
    ticket.exited_at = at
    occupancy = Occupancy(venue.id, day, inside, venue.instant_capacity)
    _announce(context, occupancy, ScanDirection.EXIT, at)
    return ScanOutcome(
        True, ScanReason.EXITED, ScanDirection.EXIT, at, occupancy, ticket, nonce, gate=context.gate
    )


async def _refuse(
    context: _Gate,
    refusal: ScanRefused,
    direction: ScanDirection,
    at: datetime,
    ticket: Ticket | TicketAtGate | None,
    nonce: str | None,
) -> ScanOutcome:
    try:
        await _record(context, direction, at, ticket, refusal.reason, nonce)
    except IntegrityError:
        if nonce is None:
            raise
        # The same offline scan, uploaded twice at once: the other upload's verdict stands.
        return await _verdict_of_nonce(context, nonce)
    venue = await context.own_venue()
    occupancy = await current_occupancy(venue=venue, day=at.astimezone(LOCAL_TZ).date())
    return ScanOutcome(
        False, refusal.reason, direction, at, occupancy, ticket, nonce, gate=context.gate
    )


# Every scan's row in the gate's audit trail, written by hand like the other statements of an
# admission: the ORM's create cost more CPU than the rest of the scan's database work together.
_RECORD_SCAN = (
    "INSERT INTO gate_scan (venue_id, ticket_id, staff_id, direction, admitted, reason, nonce, "
    "gate, scanned_at, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)


async def _record(
    context: _Gate,
    direction: ScanDirection,
    at: datetime,
    ticket: Ticket | TicketAtGate | None,
    reason: ScanReason,
    nonce: str | None,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    row = {
        "venue_id": context.venue_id,
        "ticket_id": ticket.id if ticket is not None else None,
        "staff_id": context.staff_id,
        "direction": direction,
        "admitted": reason in (ScanReason.ADMITTED, ScanReason.EXITED),
        "reason": reason.value,
        "nonce": nonce,
        "gate": context.gate,
        "scanned_at": at,
        # What the ORM's auto_now_add would store: now, in the database's configured time zone.
        "recorded_at": timezone.localtime(),
    }
    fields_map = GateScan._meta.fields_map
    values = [fields_map[name].to_db_value(value, GateScan) for name, value in row.items()]
    await sql.execute(_RECORD_SCAN, values, connection)


async def _verdict_of_nonce(context: _Gate, nonce: str) -> ScanOutcome:
    first = await GateScan.filter(nonce=nonce).select_related("ticket__slot").first()
    if first is None:  # pragma: no cover - the unique key said it exists
        raise RuntimeError(f"gate scan with nonce {nonce!r} vanished")
    return await _earlier_verdict(context, first)


async def _earlier_verdict(context: _Gate, first: GateScan) -> ScanOutcome:
    venue = await context.own_venue()
    occupancy = await current_occupancy(
        venue=venue, day=first.scanned_at.astimezone(LOCAL_TZ).date()
    )
    if first.venue_id != context.venue_id:
        # Another venue's device used this nonce: its verdict is not ours to show.
        return ScanOutcome(
            False,
            ScanReason.NONCE_REUSED,
            first.direction,
            first.scanned_at,
            occupancy,
            nonce=first.nonce,
            duplicate=True,
            gate=first.gate,
        )
    return ScanOutcome(
        admitted=first.admitted,
        reason=ScanReason(first.reason),
        direction=first.direction,
        scanned_at=first.scanned_at,
        occupancy=occupancy,
        ticket=first.ticket,
        nonce=first.nonce,
        duplicate=True,
        gate=first.gate,
    )


def _announce(context: _Gate, occupancy: Occupancy, direction: ScanDirection, at: datetime) -> None:
    context.events.append(
        (
            OCCUPANCY_CHANNEL,
            {
                "venue_id": occupancy.venue_id,
                "date": occupancy.day.isoformat(),
                "occupancy": occupancy.inside,
                "capacity": occupancy.capacity,
                "level": occupancy.level,
                "direction": direction,
                "gate": context.gate,
                "time": at.isoformat(),
            },
        )
    )


def _publish(redis: Redis, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Tell the cockpit, without keeping the gate waiting for it (see _Announcer)."""
    if events:
        announcer = _announcers.get(redis)
        if announcer is None:
            announcer = _announcers[redis] = _Announcer(redis)
        announcer.send(events)


class _Announcer:
    """Sends the gate events of one Redis client, in order, batched while Redis is answering.

    A Redis round trip per scan cost a quarter of a scan's CPU time; under load the events of
    the scans that finish while one batch is on its way go together in the next. Redis is for
    what may be lost, so its failure never fails a scan: it is logged and the batch dropped.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.waiting: list[tuple[str, dict[str, Any]]] = []
        self.sending: asyncio.Task[None] | None = None

    def send(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        self.waiting.extend(events)
        if self.sending is None or self.sending.done():
            self.sending = asyncio.create_task(self._send_waiting(), name="gate-events")

    async def _send_waiting(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for channel, message in batch:
                        pipe.publish(channel, json.dumps(message, ensure_ascii=False))
                    await pipe.execute()
            except Exception:
                log.warning("publishing %d gate events failed", len(batch), exc_info=True)


# One announcer per Redis client (each app has its own), gone with the client.
_announcers: weakref.WeakKeyDictionary[Redis, _Announcer] = weakref.WeakKeyDictionary()


# --- offline gates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Revocations:
    """Tickets of a venue revoked since a moment, and the `since` to ask with next time."""

    ticket_ids: list[int]
    server_time: datetime
    next_since: datetime


async def revoked_since(*, venue_id: int, since: datetime | None, now: datetime) -> Revocations:
    """The venue's tickets revoked since `since` that a gate could still be shown.

    Without `since`, every revoked ticket still scannable (yesterday's late entries onwards).
    """
    query = Ticket.filter(
        venue_id=venue_id,
        status=TicketStatus.REVOKED,
        date__gte=(now - timedelta(days=1)).astimezone(LOCAL_TZ).date(),
    )
    if since is not None:
        query = query.filter(revoked_at__gte=since)
    ids = await query.order_by("id").values_list("id", flat=True)
    return Revocations(ticket_ids=list(ids), server_time=now, next_since=now - REVOCATION_OVERLAP)
