"""Opening hours, closing days and slot generation."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from server.clock import LOCAL_TZ
from server.reservations import service as reservations
from server.reservations.models import TimeSlot
from server.venues import service as venues
from server.venues.demo import load_demo_catalogue
from server.venues.models import ClosingDay, Venue

MAINTENANCE_DAY = date(2026, 12, 15)  # the demo museum's closing day, a Tuesday


async def test_closing_day_closes_a_regular_opening_day(database):
    await load_demo_catalogue(today=MAINTENANCE_DAY - timedelta(days=3), days=1)
    museum = await venues.get_venue(venue_id=(await Venue.get(code="wenzhou-museum")).id)
    assert venues.hours_on(museum, MAINTENANCE_DAY - timedelta(days=7)).is_open_day
    closed = venues.hours_on(museum, MAINTENANCE_DAY)
    assert not closed.is_open_day
    assert closed.closing_reason and closed.closing_reason["en"]


async def test_open_now_follows_the_hours_of_the_day(database):
    await load_demo_catalogue(today=date(2026, 12, 1), days=1)
    museum = await venues.get_venue(venue_id=(await Venue.get(code="wenzhou-museum")).id)
    tuesday = date(2026, 12, 1)
    assert venues.is_open_now(museum, datetime.combine(tuesday, time(10, 0), LOCAL_TZ))
    assert not venues.is_open_now(museum, datetime.combine(tuesday, time(8, 59), LOCAL_TZ))
    assert not venues.is_open_now(museum, datetime.combine(tuesday, time(17, 0), LOCAL_TZ))
    monday = date(2026, 11, 30)
    assert not venues.is_open_now(museum, datetime.combine(monday, time(10, 0), LOCAL_TZ))


async def test_slot_generation_skips_closed_days_and_is_idempotent(database):
    first_day = MAINTENANCE_DAY - timedelta(days=7)
    await load_demo_catalogue(today=first_day, days=1)
    museum = await Venue.get(code="wenzhou-museum")
    created = await reservations.generate_slots(venue_id=museum.id, first_day=first_day, days=14)
    again = await reservations.generate_slots(venue_id=museum.id, first_day=first_day, days=14)
    assert again == 0
    days_with_slots = set(
        await TimeSlot.filter(venue=museum).distinct().values_list("date", flat=True)
    )
    assert MAINTENANCE_DAY not in days_with_slots
    assert not any(day.weekday() == 0 for day in days_with_slots)  # closed on Mondays
    # 14 days hold two Mondays and the maintenance day: 11 open days of five windows each
    assert created + 5 == 11 * 5 and len(days_with_slots) == 11


async def test_a_new_closing_day_stops_slots_for_that_day(database):
    day = date(2026, 12, 2)
    await load_demo_catalogue(today=date(2026, 11, 30), days=1)
    museum = await Venue.get(code="wenzhou-museum")
    await ClosingDay.create(venue=museum, date=day, reason={"zh-CN": "台风", "en": "Typhoon"})
    await reservations.generate_slots(venue_id=museum.id, first_day=day, days=1)
    assert not await TimeSlot.filter(venue=museum, date=day).exists()


async def test_seeding_twice_changes_nothing(database):
    today = date(2026, 12, 1)
    first = await load_demo_catalogue(today=today, days=14)
    before = await Venue.all().values_list("id", "updated_at")
    second = await load_demo_catalogue(today=today, days=14)
    assert first["venues_changed"] > 0 and first["slots_created"] > 0
    assert second == {"venues_changed": 0, "slots_created": 0}
    assert await Venue.all().values_list("id", "updated_at") == before
