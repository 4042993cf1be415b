"""Tour routes, the nearest stop and progress, at the service level."""

from __future__ import annotations

from datetime import datetime

import pytest
from factories import make_venue

from server.accounts.models import Visitor
from server.clock import LOCAL_TZ
from server.tours import service as tours
from server.tours.errors import StopNotOnTour, TourNotFound
from server.tours.geo import travel_minutes
from tours.factories import make_tour

MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=LOCAL_TZ)
# Three stops due north of each other, 0.01° of latitude (about 1112 m) apart.
LINE = [(28.00, 120.65), (28.01, 120.65), (28.02, 120.65)]


def test_travel_minutes_round_up_at_the_given_speed():
    assert travel_minutes(0, 4) == 0
    assert travel_minutes(1000, 4) == 15
    assert travel_minutes(1001, 4) == 16
    assert travel_minutes(1000, 5) == 12


async def test_route_walks_the_stops_in_order_at_the_walking_speed(database):
    tour = await make_tour(list(reversed(LINE)), minutes=20)
    route = tours.route_of(tour, walking_speed_kmh=4.0)
    assert [stop.position for stop in route.stops] == [1, 2, 3]
    assert [leg.distance_m for leg in route.legs] == pytest.approx([0, 1112, 1112], abs=1)
    assert [leg.minutes for leg in route.legs] == [0, 17, 17]
    assert route.distance_m == pytest.approx(2224, abs=2)
    assert (route.walk_minutes, route.stop_minutes) == (34, 60)
    faster = tours.route_of(tour, walking_speed_kmh=6.0)
    assert [leg.minutes for leg in faster.legs] == [0, 12, 12]


async def test_nearest_stop_within_the_radius_or_none(database):
    tour = await make_tour(LINE)
    near_second = tours.nearest_stop(tour, lat=28.0102, lng=120.6501, radius_m=100)
    assert near_second.stop.position == 2 and near_second.within_radius
    assert near_second.distance_m == pytest.approx(24.2, abs=1)
    far = tours.nearest_stop(tour, lat=28.05, lng=120.65, radius_m=100)
    assert far.stop.position == 3 and not far.within_radius
    assert far.distance_m == pytest.approx(3336, abs=2)
    empty = await make_tour([])
    assert tours.nearest_stop(empty, lat=28.0, lng=120.65, radius_m=100) is None


async def test_tours_of_a_venue_include_those_passing_by_it(database):
    islet = await make_venue(code="islet")
    own = await make_tour(LINE, venue=islet)
    passing = await make_tour(LINE)
    await passing.stops[1].update_from_dict({"venue_id": islet.id}).save()
    await make_tour(LINE)
    night = await make_tour(LINE, night=True)
    await make_tour(LINE, hidden=True, venue=islet)
    assert [t.id for t in await tours.list_tours(venue_id=islet.id)] == [own.id, passing.id]
    assert [t.id for t in await tours.list_tours(night=True)] == [night.id]
    assert night.id not in [t.id for t in await tours.list_tours(night=False)]


async def test_progress_is_kept_per_visitor_and_resumes_at_the_first_stop_not_visited(database):
    tour = await make_tour(LINE)
    first, second, third = sorted(tour.stops, key=lambda s: s.position)
    walker = await Visitor.create(openid="walker")
    other = await Visitor.create(openid="other")

    progress = await tours.progress_of(visitor_id=walker.id, tour_id=tour.id)
    assert progress.visited == [] and progress.next_stop.id == first.id
    await tours.mark_visited(visitor_id=walker.id, tour_id=tour.id, stop_id=first.id, now=MORNING)
    progress = await tours.mark_visited(
        visitor_id=walker.id, tour_id=tour.id, stop_id=third.id, now=MORNING
    )
    assert [stop.id for stop, _ in progress.visited] == [first.id, third.id]
    assert progress.next_stop.id == second.id and not progress.completed
    again = await tours.mark_visited(
        visitor_id=walker.id, tour_id=tour.id, stop_id=first.id, now=MORNING.replace(hour=11)
    )
    assert again.visited[0][1] == MORNING  # the first visit time is kept
    done = await tours.mark_visited(
        visitor_id=walker.id, tour_id=tour.id, stop_id=second.id, now=MORNING
    )
    assert done.completed and done.next_stop is None
    untouched = await tours.progress_of(visitor_id=other.id, tour_id=tour.id)
    assert untouched.visited == []
    restarted = await tours.restart(visitor_id=walker.id, tour_id=tour.id)
    assert restarted.visited == [] and restarted.next_stop.id == first.id


async def test_a_stop_of_another_tour_or_a_missing_tour_is_refused(database):
    tour, other = await make_tour(LINE), await make_tour(LINE)
    walker = await Visitor.create(openid="walker")
    with pytest.raises(StopNotOnTour):
        await tours.mark_visited(
            visitor_id=walker.id, tour_id=tour.id, stop_id=other.stops[0].id, now=MORNING
        )
    with pytest.raises(TourNotFound):
        await tours.progress_of(visitor_id=walker.id, tour_id=999_999)
