"""The day planner: opening hours, what cannot fit and why, route quality, and its speed."""

from __future__ import annotations

import random
import time
from datetime import date
from datetime import time as clock

import pytest
from factories import make_venue
from food.factories import make_restaurant

from server.tours import service as tours
from server.tours.errors import PlaceNotFound
from server.tours.planner import Place, Reason, Session, plan_route
from server.venues.models import OpeningHours, VenueKind

START = (28.0, 120.65)
ALL_DAY = (Session(0, 1439),)
H = 60  # minutes in an hour, for readable times


def place(key: str, lat: float, lng: float, minutes: int = 30, sessions=ALL_DAY) -> Place:
    return Place(key, lat, lng, minutes, tuple(sessions))


def plan(places, *, start_minute=9 * H, end_minute=22 * H, speed_kmh=4.0, start=START):
    return plan_route(
        start=start,
        start_minute=start_minute,
        end_minute=end_minute,
        places=places,
        speed_kmh=speed_kmh,
    )


def test_places_on_a_line_are_visited_in_order_without_backtracking():
    shuffled = [place(f"venue:{n}", 28.0 + 0.005 * n, 120.65) for n in (3, 1, 4, 2, 5)]
    day = plan(shuffled)
    assert [v.place.key for v in day.visits] == [f"venue:{n}" for n in range(1, 6)]
    assert day.travel_m == pytest.approx(5 * 556, rel=0.01)
    assert day.unplaced == []


def test_two_opt_untangles_a_crossing_route():
    # Corners of a square: the nearest-neighbour order from the start crosses itself here
    # unless improved; the best tour walks round the edge.
    corners = [
        place("venue:1", 28.000, 120.651),
        place("venue:2", 28.010, 120.661),
        place("venue:3", 28.000, 120.661),
        place("venue:4", 28.010, 120.651),
    ]
    day = plan(corners, start=(28.0, 120.650))
    keys = [v.place.key for v in day.visits]
    assert keys in (
        ["venue:1", "venue:3", "venue:2", "venue:4"],
        ["venue:1", "venue:4", "venue:2", "venue:3"],
    )


def test_a_place_opening_later_is_waited_for_or_visited_after_the_others():
    late = place("restaurant:1", 28.001, 120.65, minutes=60, sessions=[Session(11 * H, 14 * H)])
    early = place("venue:2", 28.002, 120.65, minutes=60)
    day = plan([late, early])
    assert [v.place.key for v in day.visits] == ["venue:2", "restaurant:1"]
    lunch = day.visits[1]
    assert lunch.start == 11 * H and lunch.wait_minutes > 0 and lunch.leave == 12 * H
    alone = plan([late])
    assert alone.visits[0].arrive < 11 * H == alone.visits[0].start


def test_every_visit_lies_within_its_hours_and_the_day_and_none_overlap():
    rng = random.Random(7)
    for _ in range(30):
        places = [
            place(
                f"venue:{n}",
                28.0 + rng.uniform(-0.02, 0.02),
                120.65 + rng.uniform(-0.02, 0.02),
                minutes=rng.choice([30, 60, 90]),
                sessions=[Session(rng.choice([8, 9, 10, 13]) * H, rng.choice([12, 17, 21]) * H)],
            )
            for n in range(8)
        ]
        day = plan(places, start_minute=8 * H, end_minute=20 * H)
        previous_leave = 8 * H
        for visit in day.visits:
            session = visit.place.sessions[0]
            assert visit.arrive >= previous_leave + visit.travel_minutes
            assert session.opens <= visit.start and visit.leave <= session.closes
            assert visit.leave <= 20 * H and visit.start >= visit.arrive
            previous_leave = visit.leave
        assert len(day.visits) + len(day.unplaced) == len(places)


def test_what_cannot_fit_is_said_with_its_reason():
    closed = place("venue:1", 28.001, 120.65, sessions=[])
    too_late = place("venue:2", 28.001, 120.65, minutes=60, sessions=[Session(6 * H, 9 * H + 30)])
    after_day = place("venue:3", 28.001, 120.65, minutes=60, sessions=[Session(21 * H, 23 * H)])
    last_entry = place(
        "venue:4", 28.001, 120.65, minutes=30, sessions=[Session(8 * H, 17 * H, 8 * H + 45)]
    )
    long_stays = [place(f"venue:{n}", 28.002, 120.65, minutes=5 * H) for n in (5, 6, 7)]
    day = plan([closed, too_late, after_day, last_entry, *long_stays], end_minute=21 * H + 30)
    reasons = {left.place.key: left.reason for left in day.unplaced}
    assert {key: reasons.pop(key) for key in ("venue:1", "venue:2", "venue:3", "venue:4")} == {
        "venue:1": Reason.CLOSED_THAT_DAY,
        "venue:2": Reason.NOT_OPEN_IN_TIME,  # closes at 09:30, an hour's visit cannot fit
        "venue:3": Reason.BEYOND_DAY_END,  # opens at 21:00, the day ends at 21:30
        "venue:4": Reason.NOT_OPEN_IN_TIME,  # last entry 08:45, before the day starts
    }
    # Three five-hour stays from 09:00 cannot all end by 21:30: one of the three is left out.
    assert list(reasons.values()) == [Reason.NO_TIME_LEFT]
    assert len(day.visits) == 2


def test_fifteen_places_are_planned_well_within_100_ms():
    rng = random.Random(15)
    places = [
        place(
            f"venue:{n}",
            28.0 + rng.uniform(-0.03, 0.03),
            120.65 + rng.uniform(-0.03, 0.03),
            minutes=rng.choice([20, 30, 45]),
            sessions=[Session(rng.choice([0, 8, 9, 10]) * H, rng.choice([17, 20, 23]) * H)],
        )
        for n in range(15)
    ]
    plan(places)  # warm-up
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        day = plan(places, start_minute=8 * H)
        timings.append(time.perf_counter() - started)
    # The requirement is 100 ms; the bound here is generous because the test machine is shared
    # (bench/RESULTS.md records the measured figure). The search has a 50 ms budget of its own.
    assert min(timings) < 0.25
    assert len(day.visits) + len(day.unplaced) == 15


async def _venue_open(opens: clock, closes: clock, weekdays=range(7), **fields):
    venue = await make_venue(**fields)
    await OpeningHours.bulk_create(
        [OpeningHours(venue=venue, weekday=d, opens_at=opens, closes_at=closes) for d in weekdays]
    )
    return venue


async def test_plan_day_reads_venue_and_restaurant_hours_of_that_day(database):
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    museum = await _venue_open(clock(9), clock(17), weekdays=range(1, 7), kind=VenueKind.MUSEUM)
    street = await _venue_open(clock(0), clock(23, 59), kind=VenueKind.STREET, latitude=28.01)
    restaurant = await make_restaurant(
        sessions=((clock(11), clock(14)),), latitude=28.005, longitude=120.6
    )
    wishes = [
        tours.PlaceWish(f"venue:{museum.id}"),
        tours.PlaceWish(f"venue:{street.id}", minutes=45),
        tours.PlaceWish(f"restaurant:{restaurant.id}"),
    ]
    day, places = await tours.plan_day(
        wishes=wishes, start=(28.0, 120.6), day=monday, starts_at=clock(9), ends_at=clock(18),
        speed_kmh=4.0,
    )  # fmt: skip
    assert [(left.place.key, left.reason) for left in day.unplaced] == [
        (f"venue:{museum.id}", Reason.CLOSED_THAT_DAY)
    ]
    lunch = next(v for v in day.visits if v.place.key.startswith("restaurant"))
    assert lunch.start >= 11 * H and lunch.leave <= 14 * H and lunch.place.minutes == 60
    assert set(places) == {w.key for w in wishes}

    day, _ = await tours.plan_day(
        wishes=wishes, start=tours.PlaceWish(f"venue:{street.id}"), day=tuesday,
        starts_at=clock(9), ends_at=clock(18), speed_kmh=4.0,
    )  # fmt: skip
    assert day.unplaced == []
    museum_visit = next(v for v in day.visits if v.place.key == f"venue:{museum.id}")
    assert museum_visit.place.minutes == tours.STAY_MINUTES[VenueKind.MUSEUM]


async def test_an_unknown_place_is_refused_naming_the_field(database):
    with pytest.raises(PlaceNotFound) as refusal:
        await tours.plan_day(
            wishes=[tours.PlaceWish("restaurant:999999", field="places[0].id")],
            start=(28.0, 120.6), day=date(2026, 12, 1), starts_at=clock(9), ends_at=clock(18),
            speed_kmh=4.0,
        )  # fmt: skip
    assert refusal.value.extra() == {"field": "places[0].id", "place": "restaurant:999999"}
