"""The slot and venue rows a process keeps between bookings (PostgreSQL): a booking planned from
them never follows rules changed since, by this process or any other.

The changes here are made with the ORM or SQL behind the service's back, as another process (or
an operator at psql) would make them: nothing tells this process's kept rows, only the catalogue
version that the booking statement compares (migration 0011). On SQLite nothing is kept and the
same tests hold.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from conftest import BACKEND
from factories import make_id_number, make_reservable_venue, make_slot
from tortoise import connections

from server.accounts.models import Visitor
from server.card.models import CardBenefit
from server.clock import local_now
from server.errors import AppError
from server.personal_data import FieldCipher
from server.reservations import service, sql
from server.reservations.models import TimeSlot
from server.venues.models import ClosingDay, OpeningHours, Venue

CIPHER = FieldCipher(b"test-secret")
KEEPS_ROWS = BACKEND == "services"
postgres_only = pytest.mark.skipif(not KEEPS_ROWS, reason="SQLite keeps no rows between bookings")


@pytest.fixture(autouse=True)
def fresh_process(default_runtime):
    # The default limits, no mirror, and no rows kept from an earlier test.
    service._kept_slot_rows = service._KeptSlotRows()


@pytest.fixture
def slot_reads(monkeypatch) -> list[int]:
    """The slot ids of each bookable-slot read sent to the database."""
    reads: list[int] = []
    fetch_rows = sql.fetch_rows

    async def counting(statement, values, connection=None):
        if statement.startswith("SELECT") and "AS catalogue_version" in statement:
            reads.append(values[0])
        return await fetch_rows(statement, values, connection)

    monkeypatch.setattr(sql, "fetch_rows", counting)
    return reads


_people = iter(range(1, 10_000))


async def book(slot: TimeSlot):
    """One new adult booked into `slot` by a new visitor; the reservation."""
    n = next(_people)
    visitor = await Visitor.create(openid=f"kept-{n}")
    person = service.Person(f"游客{n}", make_id_number(date(1990, 5, 17), n))
    return await service.reserve(
        visitor_id=visitor.id, slot_id=slot.id, people=[person], now=local_now(), cipher=CIPHER
    )


async def refusal_code(slot: TimeSlot) -> str:
    with pytest.raises(AppError) as refused:
        await book(slot)
    return refused.value.code


async def test_later_bookings_of_a_slot_are_planned_from_the_kept_rows(database, slot_reads):
    slot = await make_slot(await make_reservable_venue(), capacity=10)
    for _ in range(3):
        await book(slot)
    # PostgreSQL: read once, then kept; SQLite: read every time.
    assert slot_reads == [slot.id] if KEEPS_ROWS else [slot.id] * 3
    assert (await TimeSlot.get(id=slot.id)).booked == 3


async def test_a_price_changed_since_the_rows_were_kept_is_the_one_charged(database, slot_reads):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    assert (await book(slot)).tickets[0].price_cents == 5000
    await Venue.filter(id=venue.id).update(
        prices=[{"name": {"zh-CN": "成人票", "en": "Adult"}, "price_cents": 8000}]
    )
    booked = await book(slot)
    assert [t.price_cents for t in booked.tickets] == [8000]
    # The statement refused the kept rows as stale; the booking read the slot again.
    assert slot_reads == [slot.id, slot.id] if KEEPS_ROWS else [slot.id] * 2


async def _not_reservable(slot: TimeSlot) -> None:
    await Venue.filter(id=slot.venue_id).update(reservable=False)


async def _not_open_yet(slot: TimeSlot) -> None:
    await Venue.filter(id=slot.venue_id).update(booking_days_ahead=0)


async def _closing_day(slot: TimeSlot) -> None:
    await ClosingDay.create(venue_id=slot.venue_id, date=slot.date, reason={"en": "typhoon"})


async def _no_hours_that_day(slot: TimeSlot) -> None:
    await connections.get("default").execute_query("DELETE FROM opening_hours")


async def _capacity_cut(slot: TimeSlot) -> None:
    await TimeSlot.filter(id=slot.id).update(capacity=1)


async def _slot_removed(slot: TimeSlot) -> None:
    await TimeSlot.filter(id=slot.id).delete()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (_not_reservable, "not_reservable"),
        (_not_open_yet, "booking_not_open"),
        (_closing_day, "venue_closed"),
        (_no_hours_that_day, "venue_closed"),
        (_capacity_cut, "slot_full"),
        (_slot_removed, "slot_not_found"),
    ],
    ids=["not-reservable", "not-open", "closing-day", "no-hours", "capacity", "removed"],
)
async def test_a_change_since_the_rows_were_kept_refuses_the_next_booking(database, change, code):
    slot = await make_slot(await make_reservable_venue(), capacity=5)
    await book(slot)  # the rows are kept now (PostgreSQL)
    await change(slot)
    assert await refusal_code(slot) == code
    remaining = await TimeSlot.get_or_none(id=slot.id)
    assert remaining is None or remaining.booked == 1  # the refused booking took nothing


async def test_a_refusal_the_kept_rows_would_make_is_checked_in_the_database(database, slot_reads):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    await _not_reservable(slot)
    assert await refusal_code(slot) == "not_reservable"  # kept: rows that refuse
    await Venue.filter(id=venue.id).update(reservable=True)
    await book(slot)  # the kept rows refuse; the database's allow
    assert slot_reads == [slot.id, slot.id]


@postgres_only
async def test_canary_without_the_version_bump_a_kept_price_goes_stale(database):
    """The canary: with the venue's trigger off, the change above goes unnoticed (a booking
    charges the old price), so the tests above do catch a change that bumps no version."""
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    await book(slot)
    client = connections.get("default")
    await client.execute_script("ALTER TABLE venue DISABLE TRIGGER venue_bumps_catalogue_version")
    try:
        await Venue.filter(id=venue.id).update(
            prices=[{"name": {"zh-CN": "成人票", "en": "Adult"}, "price_cents": 8000}]
        )
        assert [t.price_cents for t in (await book(slot)).tickets] == [5000]
    finally:
        await client.execute_script(
            "ALTER TABLE venue ENABLE TRIGGER venue_bumps_catalogue_version"
        )


@postgres_only
async def test_every_catalogue_change_bumps_the_version_and_a_booking_does_not(database):
    client = connections.get("default")

    async def version() -> int:
        rows = await client.execute_query_dict("SELECT version FROM catalogue_version")
        return rows[0]["version"]

    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    seen = await version()
    await book(slot)
    await TimeSlot.filter(id=slot.id).update(booked=0)  # places only (a cancellation's kind)
    assert await version() == seen
    changes = [
        Venue.filter(id=venue.id).update(daily_capacity=100),
        ClosingDay.create(venue_id=venue.id, date=date(2030, 1, 1)),
        OpeningHours.filter(venue_id=venue.id).update(closes_at=time(21)),
        TimeSlot.filter(id=slot.id).update(capacity=30),
        CardBenefit.create(venue_id=venue.id, free_entry=True),
    ]
    for change in changes:
        await change
        assert await version() > seen
        seen = await version()
