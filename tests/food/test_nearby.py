"""Nearby search: the bounding-box prefilter never loses a row the exact distance keeps."""

from __future__ import annotations

import math
import random
from datetime import datetime, time

import pytest

from food.factories import make_dish, make_restaurant
from server.clock import LOCAL_TZ
from server.food import service as food
from server.food.models import Restaurant
from server.tours.geo import bounding_box, haversine_m

WUMA = (28.0172, 120.6553)
TUESDAY_NOON = datetime(2026, 12, 1, 12, 0, tzinfo=LOCAL_TZ)


def _in_box(box, lat: float, lng: float) -> bool:
    if not box.min_lat <= lat <= box.max_lat:
        return False
    return not box.lng_ranges or any(west <= lng <= east for west, east in box.lng_ranges)


@pytest.mark.parametrize(
    "centre",
    [WUMA, (0.0, 0.0), (60.0, 179.99), (-45.0, -179.95), (89.9, 10.0), (-89.95, -100.0)],
)
def test_bounding_box_holds_every_point_within_the_radius(centre):
    rng = random.Random(hash(centre))
    for _ in range(2000):
        radius = rng.choice([50, 800, 5000, 50_000])
        # Points spread to about twice the radius, in every direction, the box edge included.
        bearing, reach = rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * radius) / 111_195
        lat = max(-90.0, min(90.0, centre[0] + reach * math.cos(bearing)))
        lng = centre[1] + reach * math.sin(bearing) / max(math.cos(math.radians(lat)), 1e-6)
        lng = (lng + 180) % 360 - 180
        if haversine_m(*centre, lat, lng) <= radius:
            assert _in_box(bounding_box(*centre, radius), lat, lng), (centre, radius, lat, lng)


def test_haversine_matches_known_distances():
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(*WUMA, *WUMA) == 0
    # Wuma Street to Jiangxin Islet is about 1.9 km as the crow flies.
    assert haversine_m(*WUMA, 28.0335, 120.6468) == pytest.approx(1990, rel=0.05)


async def _random_restaurants(rng: random.Random, count: int) -> list[Restaurant]:
    rows = [
        Restaurant(
            code=f"random-{n}",
            name={"zh-CN": f"随机{n}", "en": f"Random {n}"},
            county=rng.choice(["lucheng", "ouhai", "ruian"]),
            latitude=WUMA[0] + rng.uniform(-0.09, 0.09),
            longitude=WUMA[1] + rng.uniform(-0.1, 0.1),
            price_level=rng.randint(1, 4),
            certified=rng.random() < 0.3,
        )
        for n in range(count)
    ]
    await Restaurant.bulk_create(rows)
    return await Restaurant.all()


async def test_nearby_search_equals_a_brute_force_on_random_data(database):
    rng = random.Random(20261201)
    everything = await _random_restaurants(rng, 600)
    for _ in range(40):
        lat = WUMA[0] + rng.uniform(-0.05, 0.05)
        lng = WUMA[1] + rng.uniform(-0.05, 0.05)
        radius = rng.choice([300, 1000, 2500, 6000])
        prices = rng.choice([None, {1, 2}, {4}])
        certified = rng.choice([None, True, False])
        limit = rng.choice([1, 10, 50, 200])  # small limits stop at a narrower circle
        found = await food.nearby_restaurants(
            lat=lat, lng=lng, radius_m=radius, now=TUESDAY_NOON, price_levels=prices,
            certified=certified, limit=limit,
        )  # fmt: skip
        expected = sorted(
            (haversine_m(lat, lng, r.latitude, r.longitude), r.id)
            for r in everything
            if haversine_m(lat, lng, r.latitude, r.longitude) <= radius
            and (prices is None or r.price_level in prices)
            and (certified is None or r.certified == certified)
        )
        assert [n.restaurant.id for n in found] == [rid for _, rid in expected][:limit]
        assert [n.distance_m for n in found] == pytest.approx([d for d, _ in expected][:limit])


async def test_nearby_search_keeps_the_nearest_first_and_stops_at_the_limit(database):
    for offset in (0.004, 0.001, 0.003, 0.002):
        await make_restaurant(latitude=WUMA[0] + offset, longitude=WUMA[1])
    found = await food.nearby_restaurants(
        lat=WUMA[0], lng=WUMA[1], radius_m=1000, now=TUESDAY_NOON, limit=3
    )
    distances = [n.distance_m for n in found]
    assert len(found) == 3 and distances == sorted(distances)
    assert distances[0] == pytest.approx(111.2, abs=0.5)


async def test_open_now_follows_lunch_dinner_and_past_midnight_sessions(database):
    lunch_dinner = await make_restaurant(
        sessions=((time(11), time(14)), (time(17), time(21))), name={"zh-CN": "两餐"}
    )
    late_night = await make_restaurant(sessions=((time(17), time(2)),), name={"zh-CN": "夜宵"})

    async def open_at(hour: int, minute: int = 0) -> set[int]:
        moment = TUESDAY_NOON.replace(hour=hour, minute=minute)
        found = await food.nearby_restaurants(
            lat=WUMA[0], lng=WUMA[1], radius_m=500, now=moment, open_now=True
        )
        return {n.restaurant.id for n in found}

    assert await open_at(12) == {lunch_dinner.id}
    assert await open_at(15) == set()
    assert await open_at(20, 30) == {lunch_dinner.id, late_night.id}
    assert await open_at(1, 30) == {late_night.id}  # Monday night's session, after midnight
    assert await open_at(2) == set()
    night = await food.nearby_restaurants(
        lat=WUMA[0], lng=WUMA[1], radius_m=500, now=TUESDAY_NOON, night=True
    )
    assert [n.restaurant.id for n in night] == [late_night.id]


async def test_dish_and_county_filters(database):
    fish_balls = await make_dish(name={"zh-CN": "温州鱼丸", "en": "Wenzhou fish balls"})
    serving = await make_restaurant(dishes=(fish_balls,))
    await make_restaurant()
    in_ruian = await make_restaurant(dishes=(fish_balls,), county="ruian")

    async def ids(**filters) -> list[int]:
        found = await food.nearby_restaurants(
            lat=WUMA[0], lng=WUMA[1], radius_m=500, now=TUESDAY_NOON, **filters
        )
        return sorted(n.restaurant.id for n in found)

    assert await ids(dish_ids={fish_balls.id}) == sorted([serving.id, in_ruian.id])
    assert await ids(dish_ids={fish_balls.id}, county="ruian") == [in_ruian.id]
    assert await ids(dish_ids=set()) == []


async def test_hidden_restaurants_are_never_found(database):
    await make_restaurant(hidden=True)
    assert (
        await food.nearby_restaurants(lat=WUMA[0], lng=WUMA[1], radius_m=500, now=TUESDAY_NOON)
        == []
    )
