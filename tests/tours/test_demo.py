"""The demo tours: the required routes, stops near their venues, and idempotent loading."""

from __future__ import annotations

from datetime import date

from server.tours.demo import load_demo_tours
from server.tours.demo_data import DEMO_TOURS
from server.tours.geo import haversine_m
from server.tours.models import Tour, TourStop
from server.venues.demo import load_demo_catalogue
from server.venues.models import Venue


def test_demo_tours_cover_the_islet_yandang_the_old_city_and_the_night():
    by_code = {tour["code"]: tour for tour in DEMO_TOURS}
    assert by_code["jiangxin-islet-walk"]["venue"] == "jiangxin-islet"
    assert by_code["yandang-day-route"]["venue"] == "yandang-mountain"
    old_city = {stop.get("venue") for stop in by_code["old-city-walk"]["stops"]}
    assert {"wuma-street", "nantang-street"} <= old_city
    assert any(tour["night"] for tour in DEMO_TOURS)
    for tour in DEMO_TOURS:
        assert tour["name"]["zh-CN"] and tour["name"]["en"]
        for stop in tour["stops"]:
            assert stop["narration"]["zh-CN"] and stop["narration"]["en"]
            assert stop.get("at") or stop.get("venue")


async def test_loading_twice_changes_nothing_and_stops_sit_near_their_venues(database):
    await load_demo_catalogue(today=date(2026, 12, 1), days=0)
    assert await load_demo_tours() == {"tours_changed": len(DEMO_TOURS)}
    stops = await TourStop.all().order_by("id").values_list("id", "latitude", "longitude")
    assert await load_demo_tours() == {"tours_changed": 0}
    assert await TourStop.all().order_by("id").values_list("id", "latitude", "longitude") == stops
    assert await Tour.all().count() == len(DEMO_TOURS)
    venues = {venue.id: venue for venue in await Venue.all()}
    for stop in await TourStop.filter(venue_id__not_isnull=True):
        venue = venues[stop.venue_id]
        # A stop inside a venue lies within a few km of the venue's own point (Yandang is big).
        assert haversine_m(stop.latitude, stop.longitude, venue.latitude, venue.longitude) < 6000
