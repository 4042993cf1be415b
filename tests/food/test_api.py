"""The food map over HTTP: nearby search as a list and as GeoJSON, dishes, reviews, bad input."""

from __future__ import annotations

import pytest
from factories import make_visitor_token

from food.factories import make_restaurant
from server.food.demo import load_demo_food
from server.food.models import Dish, Restaurant
from server.tours.geo import haversine_m

WUMA = {"lat": "28.0172", "lng": "120.6553"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def demo(server):
    """The running server with the demo food map loaded."""
    await load_demo_food()
    return server


async def _restaurant_id(code: str) -> int:
    return (await Restaurant.get(code=code)).id


async def test_nearby_restaurants_come_nearest_first_with_their_distance(demo):
    answer = await demo.client.get(
        "/api/v1/food/restaurants", params={**WUMA, "radius_m": "1500", "lang": "en"}
    )
    assert answer.status_code == 200
    found = answer.json()
    assert len(found) >= 10
    distances = [r["distance_m"] for r in found]
    assert distances == sorted(distances) and distances[-1] <= 1500
    first = found[0]
    assert {"id", "name", "distance_m", "county", "dishes", "open_now", "certified"} <= set(first)
    assert first["name"].isascii() and first["county"] == "Lucheng District"
    exact = haversine_m(28.0172, 120.6553, first["latitude"], first["longitude"])
    assert first["distance_m"] == pytest.approx(exact, abs=0.1)


async def test_nearby_restaurants_as_geojson(demo):
    answer = await demo.client.get(
        "/api/v1/food/restaurants",
        params={**WUMA, "radius_m": "3000", "format": "geojson", "certified": "true"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    collection = answer.json()
    assert collection["type"] == "FeatureCollection" and collection["features"]
    for feature in collection["features"]:
        lng, lat = feature["geometry"]["coordinates"]
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        assert 120 < lng < 121 and 27 < lat < 29  # [lng, lat] order
        assert feature["properties"]["certified"] is True
        assert "distance_m" in feature["properties"]


async def test_filters_by_dish_text_county_and_price(demo):
    async def codes(**params: str) -> set[str]:
        answer = await demo.client.get(
            "/api/v1/food/restaurants", params={**WUMA, "radius_m": "50000", **params}
        )
        assert answer.status_code == 200, answer.text
        return {r["code"] for r in answer.json()}

    fish_ball_places = await codes(dish="wenzhou-fish-balls")
    assert "wuma-fish-ball-house" in fish_ball_places
    assert await codes(dish="鱼丸") == fish_ball_places == await codes(q="fish balls")
    assert await codes(county="瑞安") == {"ruian-dengzhan-shop", "ruian-qiaoyu-house"}
    cheap = await codes(price="1")
    assert cheap and not cheap & {"oujiang-banquet", "gongyuan-ou-cuisine"}
    assert await codes(q="鸭舌", price="2", county="lucheng") >= {"xinhe-duck-tongues"}


async def test_dishes_list_and_one_dish_with_its_best_restaurants(demo):
    listed = (await demo.client.get("/api/v1/food/dishes", params={"lang": "en"})).json()
    assert len(listed) >= 10
    assert {"Wenzhou fish balls", "Dengzhan cake", "Xianqian tangyuan"} <= {
        d["name"] for d in listed
    }
    searched = await demo.client.get("/api/v1/food/dishes", params={"q": "fish ball"})
    assert [d["name"] for d in searched.json()] == ["温州鱼丸"]
    fish_balls = (await Dish.get(code="wenzhou-fish-balls")).id
    answer = await demo.client.get(f"/api/v1/food/dishes/{fish_balls}", params={"lang": "en"})
    assert answer.status_code == 200
    dish = answer.json()
    assert dish["county"] == "Lucheng District" and "vinegar" in dish["story"]
    assert "fish ball" in dish["aliases"]
    certified = [r["certified"] for r in dish["restaurants"]]
    assert certified == sorted(certified, reverse=True) and certified[0] is True


async def test_a_visitor_reviews_edits_and_reads_a_restaurant(demo):
    restaurant = await _restaurant_id("wuma-fish-ball-house")
    path = f"/api/v1/food/restaurants/{restaurant}/reviews"
    _, token = await make_visitor_token(demo.app)
    anonymous = await demo.client.post(path, json={"rating": 5, "text": "好吃"})
    assert anonymous.status_code == 401
    created = await demo.client.post(
        path, json={"rating": 5, "text": "鱼丸很鲜"}, headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "published" and created.json()["notice"] is None
    again = await demo.client.post(path, json={"rating": 1}, headers=bearer(token))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reviewed"
    edited = await demo.client.put(
        f"{path}/mine", json={"rating": 4, "text": "鱼丸很鲜，就是人多"}, headers=bearer(token)
    )
    assert edited.status_code == 200 and edited.json()["rating"] == 4
    shown = (await demo.client.get(f"/api/v1/food/restaurants/{restaurant}")).json()
    assert (shown["rating"], shown["review_count"]) == (4, 1)
    public = (await demo.client.get(path)).json()
    assert [r["text"] for r in public] == ["鱼丸很鲜，就是人多"]


async def test_a_flagged_review_is_held_with_a_clear_answer(demo):
    restaurant = await _restaurant_id("nantang-fish-balls")
    path = f"/api/v1/food/restaurants/{restaurant}/reviews"
    _, token = await make_visitor_token(demo.app)
    held = await demo.client.post(
        path,
        json={"rating": 1, "text": "好评返现，加微信 wz888"},
        headers={**bearer(token), "Accept-Language": "en"},
    )
    assert held.status_code == 201
    body = held.json()
    assert body["status"] == "pending"
    assert "moderator" in body["notice"]
    assert "flagged_terms" not in body  # the list is not handed to would-be spammers
    mine = await demo.client.get(f"{path}/mine", headers=bearer(token))
    assert mine.json()["status"] == "pending"
    assert (await demo.client.get(path)).json() == []
    shown = (await demo.client.get(f"/api/v1/food/restaurants/{restaurant}")).json()
    assert (shown["rating"], shown["review_count"]) == (None, 0)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "91", "lng": "120.6"}, "lat"),
        ({"lat": "-90.5", "lng": "120.6"}, "lat"),
        ({"lat": "north", "lng": "120.6"}, "lat"),
        ({"lat": "nan", "lng": "120.6"}, "lat"),
        ({"lng": "120.6"}, "lat"),
        ({"lat": "28", "lng": "181"}, "lng"),
        ({"lat": "28", "lng": "inf"}, "lng"),
        ({"lat": "28", "lng": ""}, "lng"),
        ({"lat": "28", "lng": "120.6", "radius_m": "0"}, "radius_m"),
        ({"lat": "28", "lng": "120.6", "radius_m": "-100"}, "radius_m"),
        ({"lat": "28", "lng": "120.6", "radius_m": "50001"}, "radius_m"),
        ({"lat": "28", "lng": "120.6", "radius_m": "far"}, "radius_m"),
        ({"lat": "28", "lng": "120.6", "county": "Hangzhou"}, "county"),
        ({"lat": "28", "lng": "120.6", "price": "5"}, "price"),
        ({"lat": "28", "lng": "120.6", "format": "kml"}, "format"),
    ],
)
async def test_bad_coordinates_or_radius_get_a_422_naming_the_field(server, params, field):
    answer = await server.client.get("/api/v1/food/restaurants", params={**params, "lang": "en"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "validation_error" and error["field"] == field
    assert field in error["message"]


RESTAURANTS = "/api/v1/food/restaurants"


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "code"),
    [
        ("get", f"{RESTAURANTS}?lat=28&lng=120.6&dish=999999", None, 404, "dish_not_found"),
        ("get", "/api/v1/food/dishes/999999", None, 404, "dish_not_found"),
        ("get", f"{RESTAURANTS}/999999", None, 404, "restaurant_not_found"),
        ("get", f"{RESTAURANTS}/999999/reviews", None, 404, "restaurant_not_found"),
        ("post", f"{RESTAURANTS}/999999/reviews", {"rating": 3}, 404, "restaurant_not_found"),
        ("post", f"{RESTAURANTS}/{{wuma}}/reviews", {"rating": 6}, 422, "validation_error"),
        ("post", f"{RESTAURANTS}/{{wuma}}/reviews", {"rating": 4.5}, 422, "validation_error"),
        ("post", f"{RESTAURANTS}/{{wuma}}/reviews", {"text": "x"}, 422, "validation_error"),
        ("put", f"{RESTAURANTS}/{{wuma}}/reviews/mine", {"rating": 3}, 404, "review_not_found"),
        ("get", f"{RESTAURANTS}/{{wuma}}/reviews/mine", None, 404, "review_not_found"),
    ],
)  # fmt: skip
async def test_bad_food_requests_get_a_clear_4xx(server, method, path, payload, status, code):
    _, token = await make_visitor_token(server.app)
    url = path.format(wuma=(await make_restaurant()).id)
    answer = await server.client.request(
        method, url, json=payload, headers={**bearer(token), "Accept-Language": "en"}
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code and answer.json()["error"]["message"]


async def test_food_endpoints_are_in_the_openapi_document(demo):
    paths = (await demo.client.get("/openapi.json")).json()["paths"]
    assert {
        "/api/v1/food/restaurants",
        "/api/v1/food/dishes",
        "/api/v1/food/dishes/{dish_id}",
        "/api/v1/food/restaurants/{restaurant_id}/reviews",
        "/api/v1/food/restaurants/{restaurant_id}/reviews/mine",
    } <= set(paths)
