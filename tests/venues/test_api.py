"""The venue catalogue and its slots over HTTP, on the demo data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.clock import local_now
from server.venues.demo import load_demo_catalogue
from server.venues.demo_data import DEMO_VENUES
from server.venues.models import Venue

REQUIRED_PLACES = {
    "温州博物馆", "江心屿", "雁荡山", "楠溪江", "五马街", "南塘街", "温州市图书馆",
    "刘伯温故里", "百丈漈", "洞头", "温州大剧院",
}  # fmt: skip


@pytest.fixture
async def demo(server):
    """The running server with the demo catalogue and two weeks of slots loaded."""
    await load_demo_catalogue(today=local_now().date(), days=14)
    return server


def _next(weekday: int) -> date:
    today = local_now().date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


async def _venue_id(code: str) -> int:
    return (await Venue.get(code=code)).id


async def test_venues_list_every_demo_place_in_english(demo):
    answer = await demo.client.get("/api/v1/venues", params={"lang": "en"})
    assert answer.status_code == 200
    venues = answer.json()
    assert len(venues) == len(DEMO_VENUES)
    museum = next(v for v in venues if v["code"] == "wenzhou-museum")
    assert museum["name"] == "Wenzhou Museum"
    assert museum["kind"] == "museum" and museum["reservable"] is True
    assert all(v["name"].isascii() and v["description"] for v in venues)
    assert {"id", "code", "name", "latitude", "longitude", "opening_hours", "today"} <= set(museum)


async def test_venues_answer_in_chinese_by_default_and_by_accept_language(demo):
    default = (await demo.client.get("/api/v1/venues")).json()
    assert {v["name"] for v in default} >= REQUIRED_PLACES
    english = await demo.client.get("/api/v1/venues", headers={"Accept-Language": "en-US,en"})
    assert "Wenzhou Museum" in {v["name"] for v in english.json()}


async def test_museum_is_closed_on_mondays_and_has_no_monday_slots(demo):
    museum_id = await _venue_id("wenzhou-museum")
    monday, tuesday = _next(0), _next(1)
    closed = await demo.client.get(f"/api/v1/venues/{museum_id}/slots", params={"date": monday})
    assert closed.status_code == 200 and closed.json() == []
    open_day = await demo.client.get(f"/api/v1/venues/{museum_id}/slots", params={"date": tuesday})
    slots = open_day.json()
    assert [s["start"] for s in slots] == ["09:00", "10:30", "12:00", "13:30", "15:00"]
    assert all(s["remaining"] == s["capacity"] == 300 for s in slots)
    assert {"id", "start", "end", "capacity", "remaining"} <= set(slots[0])


async def test_night_filter_lists_only_places_open_after_eight(demo):
    night = (await demo.client.get("/api/v1/venues", params={"night": "true"})).json()
    codes = {v["code"] for v in night}
    assert {"nantang-street", "wuma-street"} <= codes
    assert "wenzhou-museum" not in codes
    assert all(v["night_open"] for v in night)


async def test_one_venue_shows_todays_hours(demo):
    islet_id = await _venue_id("jiangxin-islet")
    answer = await demo.client.get(f"/api/v1/venues/{islet_id}", params={"lang": "en"})
    assert answer.status_code == 200
    today = answer.json()["today"]
    assert today["date"] == local_now().date().isoformat()
    assert today["open"] is True and today["opens_at"] == "06:30"


async def test_hidden_venue_is_neither_listed_nor_found(demo):
    museum_id = await _venue_id("wenzhou-museum")
    await Venue.filter(id=museum_id).update(hidden=True)
    listed = {v["id"] for v in (await demo.client.get("/api/v1/venues")).json()}
    assert museum_id not in listed
    assert (await demo.client.get(f"/api/v1/venues/{museum_id}")).status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "field"),
    [
        ("/api/v1/venues/999999", {}, 404, "venue_not_found", None),
        ("/api/v1/venues/999999/slots", {"date": "2026-12-01"}, 404, "venue_not_found", None),
        ("/api/v1/venues/{museum}/slots", {"date": "2026-13-01"}, 422, "validation_error", "date"),
        ("/api/v1/venues/{museum}/slots", {"date": "tomorrow"}, 422, "validation_error", "date"),
        ("/api/v1/venues/{museum}/slots", {}, 422, "validation_error", "date"),
        ("/api/v1/venues/abc", {}, 404, "not_found", None),
        ("/api/v1/venues", {"kind": "casino"}, 422, "validation_error", "kind"),
    ],
)
async def test_bad_venue_requests_get_a_clear_4xx(demo, path, params, status, code, field):
    museum_id = await _venue_id("wenzhou-museum")
    answer = await demo.client.get(path.format(museum=museum_id), params={**params, "lang": "en"})
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]
    assert error.get("field") == field
