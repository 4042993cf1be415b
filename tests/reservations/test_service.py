"""The booking's writes, below HTTP: what a booking stores is what it answers, and a refusal stores
nothing (on PostgreSQL the writes are one statement, on SQLite several: the same tests run on both).
"""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta

import asyncpg
import pytest
from conftest import BACKEND, TEST_DATABASE_URL
from factories import make_id_number, make_reservable_venue, make_slot, until_someone_waits_for

from server.accounts.models import Visitor
from server.clock import local_now
from server.errors import AppError
from server.personal_data import FieldCipher
from server.release import runtime
from server.release.models import BookingQuota, HoldStatus, QuotaKind, SlotHold
from server.reservations import service
from server.reservations.models import PersonDayClaim, Reservation, TimeSlot, VenueDay
from server.tickets.models import Ticket
from server.venues.models import Venue

CIPHER = FieldCipher(b"test-secret")
OLD = date(1950, 1, 1)  # 60+: half price at the factory's venue; 65+: free
ADULT = date(1990, 5, 17)


pytestmark = pytest.mark.usefixtures("default_runtime")


def person(sequence: int, birth: date = ADULT) -> service.Person:
    return service.Person(f"游客{sequence}", make_id_number(birth, sequence))


async def reserve(visitor: Visitor, slot: TimeSlot, party: list[service.Person], **extra):
    return await service.reserve(
        visitor_id=visitor.id, slot_id=slot.id, people=party, now=local_now(), cipher=CIPHER,
        **extra,
    )  # fmt: skip


async def stored(slot: TimeSlot) -> dict[str, object]:
    """Everything a booking of `slot` may write, as plain values."""
    fresh = await TimeSlot.get(id=slot.id)
    return {
        "booked": fresh.booked,
        "revision": fresh.revision,
        "reservations": await Reservation.filter(slot_id=slot.id).count(),
        "tickets": await Ticket.filter(slot_id=slot.id).count(),
        "claims": await PersonDayClaim.filter(venue_id=slot.venue_id).count(),
        "quotas": sorted(
            await BookingQuota.filter(date=slot.date).values_list("kind", "subject", "used")
        ),
        "day": await VenueDay.filter(venue_id=slot.venue_id).values_list("booked", flat=True),
        "holds": await SlotHold.filter(slot_id=slot.id).values_list("status", flat=True),
    }


async def test_a_party_booking_stores_exactly_what_it_answers(database):
    venue = await make_reservable_venue(daily_capacity=10)
    slot = await make_slot(venue, capacity=5)
    visitor = await Visitor.create(openid="party")
    party = [person(1), person(2, OLD), person(3)]
    answered = await reserve(visitor, slot, party)

    read = await service.get_own_reservation(visitor_id=visitor.id, reservation_id=answered.id)
    assert (read.status, read.party_size, read.date) == (answered.status, 3, slot.date)
    assert read.created_at == answered.created_at
    assert read.created_at.utcoffset() == answered.created_at.utcoffset()
    shown = sorted(answered.tickets, key=lambda t: t.id)
    kept = sorted(read.tickets, key=lambda t: t.id)
    # One ticket per person, numbered in the party's order, each row as answered.
    assert [t.holder_name_masked for t in shown] == ["游**"] * 3
    assert [t.id_number_hash for t in shown] == [CIPHER.lookup_hash(p.id_number) for p in party]
    for answer, row in zip(shown, kept, strict=True):
        for field in ("id", "id_number_hash", "id_number_masked", "holder_name_masked", "fare",
                      "price_cents", "status", "date", "slot_id", "venue_id", "reservation_id",
                      "created_at"):  # fmt: skip
            assert getattr(answer, field) == getattr(row, field), field
        assert CIPHER.decrypt(row.holder_name_encrypted).startswith("游客")
    assert [t.fare["discount"] for t in kept] == [None, "free", None]
    assert [t.price_cents for t in kept] == [5000, 0, 5000]

    assert await stored(slot) == {
        "booked": 3,
        "revision": 1,
        "reservations": 1,
        "tickets": 3,
        "claims": 3,
        "quotas": sorted(
            [(QuotaKind.ACCOUNT, str(visitor.id), 1)]
            + [(QuotaKind.PERSON, t.id_number_hash, 1) for t in kept]
        ),
        "day": [3],
        "holds": [],
    }


def _quota_at_limit(kind: QuotaKind):
    async def arrange(visitor: Visitor, slot: TimeSlot, party: list[service.Person]) -> dict:
        limits = runtime.current().limits
        if kind == QuotaKind.ACCOUNT:
            subject, used = str(visitor.id), limits.reservations_per_account_day
        else:
            subject, used = CIPHER.lookup_hash(party[-1].id_number), limits.venues_per_person_day
        await BookingQuota.create(kind=kind, subject=subject, date=slot.date, used=used)
        return {}

    return arrange


async def _slot_nearly_full(visitor, slot, party) -> dict:
    await TimeSlot.filter(id=slot.id).update(booked=slot.capacity - len(party) + 1)
    return {}


async def _day_nearly_full(visitor, slot, party) -> dict:
    await VenueDay.create(venue_id=slot.venue_id, date=slot.date, booked=8)
    return {}


async def _last_person_booked_already(visitor, slot, party) -> dict:
    other = await Visitor.create(openid="earlier")
    venue = await Venue.get(id=slot.venue_id)
    await reserve(other, await make_slot(venue, starts=time(13), ends=time(14)), party[-1:])
    return {}


async def _hold_expired(visitor, slot, party) -> dict:
    hold = await SlotHold.create(
        visitor=visitor, slot=slot, places=len(party), expires_at=local_now() - timedelta(seconds=1)
    )
    return {"hold_id": hold.id}


@pytest.mark.parametrize(
    ("arrange", "code", "params"),
    [
        (_quota_at_limit(QuotaKind.ACCOUNT), "booking_limit_reached", {"rule": "account_day"}),
        (
            _quota_at_limit(QuotaKind.PERSON),
            "booking_limit_reached",
            {"rule": "person_day", "visitor": 3},
        ),
        (_slot_nearly_full, "slot_full", {}),
        (_day_nearly_full, "day_full", {}),
        (_last_person_booked_already, "already_booked", {"visitor": 3}),
        (_hold_expired, "hold_not_usable", {}),
    ],
    ids=["account-quota", "person-quota", "slot-full", "day-full", "already-booked", "hold"],
)
async def test_a_refused_booking_leaves_nothing_behind(database, arrange, code, params):
    venue = await make_reservable_venue(daily_capacity=10)
    slot = await make_slot(venue, capacity=20)
    visitor = await Visitor.create(openid="refused")
    party = [person(11), person(12), person(13)]
    extra = await arrange(visitor, slot, party)
    before = await stored(slot)
    with pytest.raises(AppError) as refusal:
        await reserve(visitor, slot, party, **extra)
    assert refusal.value.code == code
    assert refusal.value.params | params == refusal.value.params
    assert await stored(slot) == before


async def test_a_hold_used_for_fewer_people_gives_the_rest_back(database):
    venue = await make_reservable_venue(daily_capacity=10)
    slot = await make_slot(venue, capacity=20)
    visitor = await Visitor.create(openid="holder")
    await TimeSlot.filter(id=slot.id).update(booked=3)
    await VenueDay.create(venue_id=venue.id, date=slot.date, booked=3)
    hold = await SlotHold.create(
        visitor=visitor, slot=slot, places=3, expires_at=local_now() + timedelta(minutes=5)
    )
    booked = await reserve(visitor, slot, [person(21), person(22)], hold_id=hold.id)
    assert len(booked.tickets) == 2
    after = await stored(slot)
    assert (after["booked"], after["day"], after["holds"]) == (2, [2], [HoldStatus.USED])
    assert (after["reservations"], after["tickets"], after["claims"]) == (1, 2, 2)


@pytest.mark.skipif(BACKEND != "services", reason="SQLite writes one transaction at a time")
async def test_a_slot_deleted_while_its_booking_waits_for_its_row_is_not_found(database):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=5)
    visitor = await Visitor.create(openid="too-late")
    deleting = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        async with deleting.transaction():
            await deleting.execute("DELETE FROM time_slot WHERE id = $1", slot.id)
            booking = asyncio.create_task(reserve(visitor, slot, [person(1)]))
            await until_someone_waits_for(deleting)  # the booking, for the deleted row
    finally:
        await deleting.close()
    with pytest.raises(AppError) as refusal:
        await booking
    assert refusal.value.code == "slot_not_found"
    assert await Reservation.filter(visitor_id=visitor.id).count() == 0
