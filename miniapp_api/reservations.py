"""The visitor's reservations: book named people into a slot, list, show, cancel."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from miniapp_api.release import booking_rates, refusals_recorded
from server import idempotency
from server.auth import VISITOR, requires
from server.clock import local_now
from server.errors import AppError, InvalidInput, ServiceUnavailable
from server.http import body, error_body, language_of, parse_body
from server.idempotency import Answer
from server.release import limits
from server.release.errors import SoldOutWhileWaiting
from server.release.mirror import Shortage
from server.release.waiting_room import LONGEST_WAIT_SECONDS, QueuePlace, Replay, WaitingRoom
from server.reservations import service as reservations
from server.reservations.errors import (
    BookingNotOpen,
    IdempotencyInProgress,
    NotReservable,
    SlotFull,
    SlotNotFound,
    SlotPast,
    VenueClosed,
)
from server.reservations.models import Reservation
from server.reservations.schemas import ReservationIn, ReservationOut, reservation_out
from server.tickets import service as tickets

log = logging.getLogger("etour.reservations")
Tried = TypeVar("Tried")
DoorEntry = QueuePlace | Replay | None  # what the door's checks let through
bp = Blueprint("reservations", url_prefix="/reservations")
_ANSWER = {"application/json": ReservationOut.model_json_schema()}


def _answer(app: Sanic, language: str, reservation: Reservation) -> dict:
    signer, now = app.ctx.signer, time.time()
    shaped = reservation_out(
        reservation, language, qr_for=lambda ticket: tickets.qr_text(signer, ticket, now=now)
    )
    return shaped.model_dump(mode="json")


async def _reserve(
    app: Sanic,
    *,
    visitor_id: int,
    booking: ReservationIn,
    idempotency: tuple[str, str] | None,
    sold_out_checked: bool = False,
) -> Reservation:
    return await reservations.reserve(
        visitor_id=visitor_id,
        slot_id=booking.slot_id,
        people=[reservations.Person(v.name, v.id_number) for v in booking.visitors],
        hold_id=booking.hold_id,
        sold_out_checked=sold_out_checked,
        now=local_now(),
        cipher=app.ctx.cipher,
        idempotency=idempotency,
    )


def _places_to_check(booking: ReservationIn) -> int:
    """The party a sold-out check asks room for: none for a hold's booking (its places are the
    visitor's already)."""
    return len(booking.visitors) if booking.hold_id is None else 0


async def _book_in_turn(
    app: Sanic, *, visitor_id: int, booking: ReservationIn, idempotency: tuple[str, str] | None
) -> Reservation:
    """Book at this process's next booking place; refused at once instead if the slot sells out
    while the booking waits for it (a refusal takes no booking place)."""
    party = _places_to_check(booking)
    while True:
        try:
            async with app.ctx.waiting_room.turn(slot_id=booking.slot_id, party=party) as waited:
                # Checked at the door a moment ago. One that waited here for its place is
                # checked again: the watcher reads the mirror only every tenth of a second, and
                # the mirror's refusal costs a round trip to Redis where the database's costs a
                # booking place.
                return await _reserve(
                    app,
                    visitor_id=visitor_id,
                    booking=booking,
                    idempotency=idempotency,
                    sold_out_checked=not waited,
                )
        except SoldOutWhileWaiting:
            # SlotFull with its alternatives; if places came back meanwhile, it waits again.
            await reservations.refuse_if_sold_out(
                slot_id=booking.slot_id,
                party=party,
                now=local_now(),
                others=booking.other_slot_ids,
            )


async def _other_slot(
    booking: ReservationIn, others_left: dict[int, int | None] | None
) -> ReservationIn | None:
    """The booking moved on to another slot its visitor would also take (服从调剂): one the
    mirror does not know is short for the party (`others_left` if told, else read); None if
    there is none. The slot moved to is no longer among the others: each is tried once."""
    others = booking.other_slot_ids
    if not others:
        return None
    lefts = others_left or await reservations.places_left(others)
    chosen = reservations.other_slot_with_room(lefts, len(booking.visitors))
    if chosen is None:
        return None
    return booking.model_copy(
        update={"slot_id": chosen, "other_slot_ids": [s for s in others if s != chosen]}
    )


# A slot's own refusals, whatever the party: one named among the others that meets one of these
# (gone, over, not open) is passed over like a full one.
_SLOT_UNAVAILABLE = (SlotNotFound, SlotPast, VenueClosed, NotReservable, BookingNotOpen)


async def _in_other_slots(
    booking: ReservationIn,
    attempt: Callable[[ReservationIn, bool], Awaitable[Tried]],
    *,
    asked: int,
) -> Tried:
    """`attempt` the booking; refused for want of places, again in another slot the visitor
    would also take, until one is not refused or each is. The answer stays about slot `asked`,
    the one the visitor asked for: its refusal, or the last SlotFull of the others.

    `attempt` is told whether the booking moved to a slot the mirror said a moment ago had
    room for it (where asking the mirror again would only repeat that).
    """
    refusal: SlotFull | None = None
    moved_on = False
    while True:
        told = None
        try:
            return await attempt(booking, moved_on)
        except SlotFull as full:
            # The places left in the others come with the mirror's refusal (the database's
            # has none: they are read then).
            refusal, told = full, full.params.get("others_left")
        except _SLOT_UNAVAILABLE:
            if booking.slot_id == asked:
                raise
        moved = await _other_slot(booking, told)
        moved_on = moved is not None
        if moved is not None:
            booking = moved
        elif refusal is not None:
            raise refusal
        else:
            # Moved on at the door, and none of the others could be booked: the slot asked
            # for once more (its places may have come back; else its refusal is the answer).
            booking = booking.model_copy(update={"slot_id": asked, "other_slot_ids": []})


async def _book_accepting_others(
    app: Sanic,
    *,
    visitor_id: int,
    booking: ReservationIn,
    idempotency: tuple[str, str] | None,
    asked: int,
    checked_at_door: bool,
) -> Reservation:
    """Book in turn, in another slot the visitor would also take if this one has no room;
    `asked`: the slot the visitor asked for; `checked_at_door`: the mirror was asked about
    the booking's slot a moment ago."""

    async def attempt(moved: ReservationIn, chosen_with_room: bool) -> Reservation:
        checked = chosen_with_room or (moved is booking and checked_at_door)
        if not checked and moved.hold_id is None:
            # Refused without taking a booking place if the mirror knows the slot is full.
            await reservations.refuse_if_sold_out(
                slot_id=moved.slot_id,
                party=len(moved.visitors),
                now=local_now(),
                others=moved.other_slot_ids,
            )
        return await _book_in_turn(
            app, visitor_id=visitor_id, booking=moved, idempotency=idempotency
        )

    return await _in_other_slots(booking, attempt, asked=asked)


async def _replay(
    app: Sanic, *, record: str, visitor_id: int, key: str, fingerprint: str, language: str
) -> Answer:
    """A retry's answer: the stored one, its place in the waiting room, or the booking that
    keeps its key in the database."""
    try:
        return idempotency.stored_answer(record, fingerprint)
    except IdempotencyInProgress:
        queue_id = idempotency.queue_id_of(record)
        if queue_id is not None:
            place = await app.ctx.waiting_room.status(queue_id=queue_id, visitor_id=visitor_id)
            if place["status"] == "done":  # stored a moment ago, after the record was read
                return place["http_status"], place["answer"]
            return 202, place
        # A booking stores no answer in Redis (its reservation keeps the key): the key's
        # record says "running" until it expires, and a finished booking is found here.
        first = await reservations.booking_for_key(
            visitor_id=visitor_id, idempotency=(key, fingerprint)
        )
        if first is None:
            raise
        return 201, _answer(app, language, first)


def preferred_wait(request: Request) -> float:
    """Seconds the client would have a queued booking wait for its outcome (RFC 7240
    `Prefer: wait=N`, at most the long poll's limit); 0 without it, or unreadable (advice)."""
    for preference in request.headers.get("prefer", "").split(","):
        name, _, value = preference.partition(";")[0].partition("=")
        if name.strip().lower() == "wait":
            try:
                seconds = float(value.strip().strip('"'))
            except ValueError:
                return 0.0
            return 0.0 if math.isnan(seconds) else min(max(seconds, 0.0), LONGEST_WAIT_SECONDS)
    return 0.0


async def _queued_answer(
    room: WaitingRoom, place: QueuePlace, *, visitor_id: int, wait: float
) -> Answer:
    """A queued request's answer: its outcome if it comes within `wait` seconds, else 202."""
    if wait <= 0:
        return 202, place.as_answer()
    # The same wait as the long poll's, without the visitor's second request.
    now = await room.status(queue_id=place.queue_id, visitor_id=visitor_id, wait_seconds=wait)
    if now["status"] == "done":
        return now["http_status"], now["answer"]
    return 202, now


@bp.post("/")
@openapi.summary("Reserve places in a slot for one to five named visitors")
@openapi.description(
    "201 with the reservation; in a flash crowd 202 with a place in the waiting room "
    "(poll `GET /api/v1/queue/{queue_id}` for the outcome; with `Prefer: wait=N` the answer "
    "waits up to N seconds for that outcome first, and is the outcome if it came); 409 "
    "`slot_full` with nearby slots (with `other_slot_ids`, only once none of those named has "
    "room: the booking is made in one that has, and its `slot` says which); 409 "
    "`booking_not_open` with `opens_at` and `server_time`; 429 beyond the per-account or "
    "per-device rate (`X-Device-Id` names the device)."
)
@openapi.parameter("Idempotency-Key", str, "header", description="retries return the first answer")
@openapi.parameter("X-Device-Id", str, "header", description="the device, for its rate limit")
@openapi.parameter(
    "Prefer",
    str,
    "header",
    description="`wait=N`: a queued booking answers its outcome if it "
    "comes within N seconds (at most 25), else 202 with its place",
)
@openapi.response(201, _ANSWER)
@body(ReservationIn)
@requires(VISITOR)
async def create_reservation(request: Request) -> HTTPResponse:
    booking = parse_body(request, ReservationIn)
    visitor_id = request.ctx.principal.user_id
    app, language = request.app, language_of(request)
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= idempotency.MAX_KEY_LENGTH:
        raise InvalidInput(field="Idempotency-Key", detail="1 to 128 characters")
    # Only a request with a key is ever compared with another (most of a crowd sends none).
    fingerprint = (
        ""
        if key is None
        else idempotency.fingerprint(booking.model_dump(exclude_none=True, exclude_defaults=True))
    )

    room, scope = app.ctx.waiting_room, f"reserve:{visitor_id}"
    asked = booking.slot_id
    applied: dict[str, str] = {}  # the `Prefer` header's preferences this answer followed

    async def book() -> Answer:
        reservation = await _book_accepting_others(
            app,
            visitor_id=visitor_id,
            booking=booking,
            idempotency=None if key is None else (key, fingerprint),
            asked=asked,
            checked_at_door=True,
        )
        # Shaped (its QR codes signed) once the booking place is free for the next booking.
        return 201, _answer(app, language, reservation)

    async with refusals_recorded(request, slot_id=booking.slot_id):
        async with room.at_the_door():
            rates = booking_rates(request)

            async def check_in(trying: ReservationIn, _: bool) -> tuple[ReservationIn, DoorEntry]:
                # One round trip to Redis, the crowd waiting its turn for it only once: a retry's
                # answer (its Idempotency-Key's record, uncounted), the rates (over a rate said
                # before sold out), the sold-out check (the crowd's most common answer), the
                # queue, and the key's claim for a request let through or queued.
                nonlocal rates
                entry = await room.check_in(
                    visitor_id=visitor_id,
                    request=lambda: {
                        "visitor_id": visitor_id,
                        # The names and ID numbers wait in Redis encrypted, and go once used.
                        "booking": app.ctx.cipher.encrypt(trying.model_dump_json()),
                        "language": language,
                        "key": key or "",
                        "fingerprint": fingerprint,
                        # The slot asked for, that the answer is about (the booking's may be
                        # another it moved on to).
                        "asked_slot_id": asked,
                        # Where the outcome goes for a retry with the key (stored with it).
                        "answer_record": "" if key is None else idempotency.record_key(scope, key),
                    },
                    rates=rates,
                    rate_window=limits.BOOKING_RATE_WINDOW_SECONDS,
                    slot_id=trying.slot_id,
                    party=_places_to_check(trying),
                    others=trying.other_slot_ids,
                    claim=None
                    if key is None
                    else (
                        idempotency.record_key(scope, key),
                        idempotency.running_record(fingerprint),
                    ),
                )
                rates = []  # counted once, whichever slots it tries
                if isinstance(entry, Shortage):  # SlotFull, with the slot's alternatives
                    await reservations.refuse_shortage(
                        entry, slot_id=trying.slot_id, party=len(trying.visitors), now=local_now()
                    )
                return trying, entry

            booking, entry = await _in_other_slots(booking, check_in, asked=asked)
        if isinstance(entry, Replay):
            status, answer = await _replay(
                app,
                record=entry.record,
                visitor_id=visitor_id,
                key=key,
                fingerprint=fingerprint,
                language=language,
            )
        elif isinstance(entry, QueuePlace):  # queued now, or a retry told its place
            wait = preferred_wait(request)
            status, answer = await _queued_answer(room, entry, visitor_id=visitor_id, wait=wait)
            if wait:
                applied = {"Preference-Applied": f"wait={wait:g}"}
        elif key is None:
            status, answer = await book()
        else:
            status, answer = await idempotency.run_claimed(
                app.ctx.redis,
                scope=scope,
                key=key,
                request_fingerprint=fingerprint,
                work=book,
                answer_kept_elsewhere=True,
            )
    return json(answer, status=status, headers=applied)


async def book_queued(app: Sanic, queued: dict) -> Answer:
    """Book a request from the waiting room; its outcome (also a refusal) as status and JSON.

    The waiting room stores the outcome, also as the answer to a retry with the request's
    Idempotency-Key (its `answer_record`).
    """
    visitor_id, language = queued["visitor_id"], queued["language"]
    booking = ReservationIn.model_validate_json(app.ctx.cipher.decrypt(queued["booking"]))
    key = queued["key"] or None
    try:
        # Sold out while it waited: refused without taking a booking place. Once a release is
        # full, most of its queue is such requests, and the bookings behind them wait for no
        # place they hold.
        reservation = await _book_accepting_others(
            app,
            visitor_id=visitor_id,
            booking=booking,
            idempotency=None if key is None else (key, queued["fingerprint"]),
            asked=queued.get("asked_slot_id", booking.slot_id),
            checked_at_door=False,
        )
        outcome = 201, _answer(app, language, reservation)  # as a direct booking's, after its turn
    except AppError as refusal:
        outcome = refusal.status, error_body(refusal, language)
    except Exception as problem:
        log.exception("a queued booking failed")
        outcome = 503, error_body(ServiceUnavailable(detail=type(problem).__name__), language)
    return outcome


@bp.get("/")
@openapi.summary("The caller's own reservations, newest first")
@openapi.response(
    200, {"application/json": {"type": "array", "items": ReservationOut.model_json_schema()}}
)
@requires(VISITOR)
async def list_reservations(request: Request) -> HTTPResponse:
    own = await reservations.list_own_reservations(visitor_id=request.ctx.principal.user_id)
    return json([_answer(request.app, language_of(request), r) for r in own])


@bp.get("/<reservation_id:int>")
@openapi.summary("One of the caller's own reservations")
@openapi.response(200, _ANSWER)
@requires(VISITOR)
async def get_reservation(request: Request, reservation_id: int) -> HTTPResponse:
    reservation = await reservations.get_own_reservation(
        visitor_id=request.ctx.principal.user_id, reservation_id=reservation_id
    )
    return json(_answer(request.app, language_of(request), reservation))


@bp.post("/<reservation_id:int>/cancel")
@openapi.summary("Cancel one of the caller's reservations before the venue's deadline")
@openapi.response(200, _ANSWER)
@requires(VISITOR)
async def cancel_reservation(request: Request, reservation_id: int) -> HTTPResponse:
    reservation = await reservations.cancel(
        visitor_id=request.ctx.principal.user_id, reservation_id=reservation_id, now=local_now()
    )
    return json(_answer(request.app, language_of(request), reservation))
