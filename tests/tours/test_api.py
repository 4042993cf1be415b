"""Guided tours and the day planner over HTTP, on the demo data."""

from __future__ import annotations

from datetime import date

import pytest
from factories import make_visitor_token

from server.clock import local_now
from server.food.demo import load_demo_food
from server.food.models import Restaurant
from server.tours.demo import load_demo_tours
from server.tours.models import Tour
from server.venues.demo import load_demo_catalogue
from server.venues.models import Venue

MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def demo(server):
    """The running server with the demo venues (no slots), food map and tours loaded."""
    await load_demo_catalogue(today=local_now().date(), days=0)
    await load_demo_food()
    await load_demo_tours()
    return server


async def _tour_id(code: str) -> int:
    return (await Tour.get(code=code)).id


async def _venue_id(code: str) -> int:
    return (await Venue.get(code=code)).id


async def test_tours_list_with_stops_and_walking_times_in_english(demo):
    answer = await demo.client.get("/api/v1/tours", params={"lang": "en"})
    assert answer.status_code == 200
    listed = {tour["code"]: tour for tour in answer.json()}
    assert {"jiangxin-islet-walk", "yandang-day-route", "old-city-walk"} <= set(listed)
    islet = listed["jiangxin-islet-walk"]
    assert {"id", "name", "stops", "distance_m", "walk_minutes", "night"} <= set(islet)
    assert islet["name"].isascii() and islet["stop_count"] == len(islet["stops"]) >= 5
    first, second = islet["stops"][:2]
    assert first["walk_m"] == 0 and second["walk_m"] > 0 and second["walk_minutes"] > 0
    assert first["narration"] and first["audio_url"].endswith("-en.mp3")
    assert islet["distance_m"] == pytest.approx(sum(s["walk_m"] for s in islet["stops"]), 0.1)
    assert islet["total_minutes"] == islet["walk_minutes"] + islet["stop_minutes"]
    old_city = {s["name"] for s in listed["old-city-walk"]["stops"]}
    assert {"Wuma Street", "Nantang Street"} <= old_city


async def test_tours_filter_by_venue_and_night(demo):
    islet = await _venue_id("jiangxin-islet")
    for_islet = await demo.client.get("/api/v1/tours", params={"venue_id": islet})
    assert [t["code"] for t in for_islet.json()] == ["jiangxin-islet-walk"]
    nantang = await _venue_id("nantang-street")
    passing = await demo.client.get("/api/v1/tours", params={"venue_id": nantang})
    assert {t["code"] for t in passing.json()} == {"old-city-walk", "oujiang-night-walk"}
    night = (await demo.client.get("/api/v1/tours", params={"night": "true"})).json()
    assert night and all(t["night"] for t in night)
    assert {"oujiang-night-walk", "yandang-lingfeng-night"} <= {t["code"] for t in night}
    day = (await demo.client.get("/api/v1/tours", params={"night": "false"})).json()
    assert not {t["id"] for t in day} & {t["id"] for t in night}


async def test_route_geojson_is_a_linestring_and_a_point_per_stop_in_lng_lat_order(demo):
    tour_id = await _tour_id("old-city-walk")
    tour = (await demo.client.get(f"/api/v1/tours/{tour_id}")).json()
    answer = await demo.client.get(f"/api/v1/tours/{tour_id}/route.geojson")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    collection = answer.json()
    assert collection["type"] == "FeatureCollection"
    line, *points = collection["features"]
    assert line["type"] == "Feature" and line["geometry"]["type"] == "LineString"
    expected = [[s["longitude"], s["latitude"]] for s in tour["stops"]]
    assert line["geometry"]["coordinates"] == expected
    assert all(120 < lng < 122 and 27 < lat < 29 for lng, lat in expected)
    assert [p["geometry"] for p in points] == [
        {"type": "Point", "coordinates": coordinates} for coordinates in expected
    ]
    assert [p["properties"]["position"] for p in points] == list(range(1, len(expected) + 1))
    assert line["properties"]["distance_m"] == tour["distance_m"]


async def test_where_am_i_gives_the_nearest_stop_and_its_narration(demo):
    tour_id = await _tour_id("jiangxin-islet-walk")
    near_east_pagoda = {"lat": "28.03405", "lng": "120.65275", "radius_m": "60", "lang": "en"}
    answer = await demo.client.get(f"/api/v1/tours/{tour_id}/nearest", params=near_east_pagoda)
    assert answer.status_code == 200
    found = answer.json()
    assert found["stop"]["name"] == "East Pagoda" and "banyan" in found["stop"]["narration"]
    assert found["distance_m"] < 60 and found["nearest_stop_id"] == found["stop"]["id"]
    on_the_mainland = {"lat": "28.0172", "lng": "120.6553", "radius_m": "200"}
    far = await demo.client.get(f"/api/v1/tours/{tour_id}/nearest", params=on_the_mainland)
    assert far.json()["stop"] is None and far.json()["distance_m"] > 1000


async def test_progress_is_resumable_and_needs_a_visitor_token(demo):
    tour_id = await _tour_id("jiangxin-islet-walk")
    path = f"/api/v1/tours/{tour_id}/progress"
    assert (await demo.client.get(path)).status_code == 401
    _, token = await make_visitor_token(demo.app)
    stops = (await demo.client.get(f"/api/v1/tours/{tour_id}")).json()["stops"]
    start = (await demo.client.get(path, headers=bearer(token))).json()
    assert start["visited_count"] == 0 and start["next_stop"]["id"] == stops[0]["id"]
    for stop in stops[:2]:
        marked = await demo.client.post(path, json={"stop_id": stop["id"]}, headers=bearer(token))
        assert marked.status_code == 200
    resumed = (await demo.client.get(path, headers=bearer(token), params={"lang": "en"})).json()
    assert resumed["visited_count"] == 2 and not resumed["completed"]
    assert resumed["next_stop"]["id"] == stops[2]["id"] and resumed["next_stop"]["narration"]
    restarted = await demo.client.delete(path, headers=bearer(token))
    assert restarted.json()["visited_count"] == 0


async def test_the_planner_orders_places_and_says_what_cannot_fit(demo):
    museum, wuma = await _venue_id("wenzhou-museum"), await _venue_id("wuma-street")
    cruise = await _venue_id("tanghe-night-cruise")
    fish_balls = (await Restaurant.get(code="wuma-fish-ball-house")).id
    body = {
        "places": [f"venue:{museum}", f"venue:{cruise}", {"id": f"venue:{wuma}", "minutes": 45},
                   f"restaurant:{fish_balls}"],
        "start": {"lat": 28.0172, "lng": 120.6553},
        "date": MONDAY.isoformat(),
        "start_time": "09:00",
        "end_time": "22:00",
    }  # fmt: skip
    answer = await demo.client.post("/api/v1/planner", json=body, params={"lang": "en"})
    assert answer.status_code == 200, answer.text
    planned = answer.json()
    assert [left["item"]["id"] for left in planned["unplaced"]] == [f"venue:{museum}"]
    assert planned["unplaced"][0]["reason"] == "closed_that_day"
    assert planned["unplaced"][0]["message"] == "Closed on that day."
    visits = {v["item"]["id"]: v for v in planned["visits"]}
    assert visits[f"venue:{cruise}"]["start_at"] >= "18:30"  # the night cruise's first boat
    assert visits[f"venue:{wuma}"]["minutes"] == 45
    assert planned["visits"][-1]["item"]["id"] == f"venue:{cruise}"
    assert planned["visits"][0]["item"]["name"]

    body["date"] = TUESDAY.isoformat()
    tuesday = (await demo.client.post("/api/v1/planner", json=body)).json()
    assert tuesday["unplaced"] == [] and len(tuesday["visits"]) == 4


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"places": [], "start": {"lat": 28, "lng": 120.6}}, 422, "validation_error", "places"),
        ({"places": ["museum"], "start": {"lat": 28, "lng": 120.6}}, 422, "validation_error",
         "places[0].id"),
        ({"places": ["venue:1", "venue:1"], "start": {"lat": 28, "lng": 120.6}}, 422,
         "validation_error", "places"),
        ({"places": ["venue:1"], "start": {"lat": 95, "lng": 120.6}}, 422, "validation_error",
         "start.lat"),
        ({"places": ["venue:1"], "start": {}}, 422, "validation_error", "start"),
        ({"places": ["venue:1"], "start": {"lat": 28, "lng": 120.6}, "start_time": "18:00",
          "end_time": "09:00"}, 422, "validation_error", "body"),
        ({"places": ["restaurant:999999"], "start": {"lat": 28, "lng": 120.6}}, 422,
         "place_not_found", "places[0].id"),
        ({"places": ["venue:1"], "start": {"place": "venue:999999"}}, 422, "place_not_found",
         "start.place"),
    ],
)  # fmt: skip
async def test_bad_planner_requests_get_a_clear_4xx(server, body, status, code, field):
    await load_demo_catalogue(today=local_now().date(), days=0)
    answer = await server.client.post("/api/v1/planner", json=body, params={"lang": "en"})
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message"] and error.get("field") == field


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "field"),
    [
        ("/api/v1/tours/999999", {}, 404, "tour_not_found", None),
        ("/api/v1/tours/999999/route.geojson", {}, 404, "tour_not_found", None),
        ("/api/v1/tours", {"venue_id": "999999"}, 404, "venue_not_found", None),
        ("/api/v1/tours", {"venue_id": "islet"}, 422, "validation_error", "venue_id"),
        ("/api/v1/tours/{islet}/nearest", {"lat": "28.03"}, 422, "validation_error", "lng"),
        ("/api/v1/tours/{islet}/nearest", {"lat": "128", "lng": "120.6"}, 422,
         "validation_error", "lat"),
        ("/api/v1/tours/{islet}/nearest", {"lat": "28", "lng": "120.6", "radius_m": "0"}, 422,
         "validation_error", "radius_m"),
    ],
)  # fmt: skip
async def test_bad_tour_requests_get_a_clear_4xx(demo, path, params, status, code, field):
    url = path.format(islet=await _tour_id("jiangxin-islet-walk"))
    answer = await demo.client.get(url, params={**params, "lang": "en"})
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message"] and error.get("field") == field


async def test_marking_a_stop_of_another_tour_is_refused(demo):
    _, token = await make_visitor_token(demo.app)
    islet = await _tour_id("jiangxin-islet-walk")
    other = (await demo.client.get(f"/api/v1/tours/{await _tour_id('old-city-walk')}")).json()
    answer = await demo.client.post(
        f"/api/v1/tours/{islet}/progress",
        json={"stop_id": other["stops"][0]["id"]},
        headers=bearer(token),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "stop_not_on_tour"
    assert answer.json()["error"]["field"] == "stop_id"


async def test_tour_and_planner_endpoints_are_in_the_openapi_document(server):
    paths = (await server.client.get("/openapi.json")).json()["paths"]
    assert {
        "/api/v1/tours",
        "/api/v1/tours/{tour_id}",
        "/api/v1/tours/{tour_id}/route.geojson",
        "/api/v1/tours/{tour_id}/nearest",
        "/api/v1/tours/{tour_id}/progress",
        "/api/v1/planner",
    } <= set(paths)
