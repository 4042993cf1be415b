"""The food map (百县千碗): nearby restaurants, dishes, and visitors' reviews."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.admin.cockpit import FOOD_SEARCH, count_usage_soon
from server.auth import VISITOR, requires
from server.clock import local_now
from server.food import service as food
from server.food.schemas import (
    DishDetailOut,
    DishesQuery,
    DishOut,
    LanguageQuery,
    PublicReviewOut,
    RestaurantOut,
    RestaurantsQuery,
    ReviewIn,
    ReviewOut,
    ReviewsQuery,
    dish_detail_out,
    dish_out,
    public_review_out,
    restaurant_out,
    restaurants_geojson,
    review_out,
)
from server.http import body, language_of, parse_body, parse_query, query

bp = Blueprint("food", url_prefix="/food")
GEOJSON = "application/geo+json"


@bp.get("/restaurants")
@openapi.summary("Restaurants near a point, nearest first, as a list or GeoJSON")
@openapi.response(
    200, {"application/json": {"type": "array", "items": RestaurantOut.model_json_schema()}}
)
@query(RestaurantsQuery)
async def nearby_restaurants(request: Request) -> HTTPResponse:
    wanted = parse_query(request, RestaurantsQuery)
    language, now = language_of(request), local_now()
    # Counted for the cockpit beside the answer, never slowing or failing the search.
    count_usage_soon(FOOD_SEARCH, at=now)
    dish_ids = await food.dish_ids_for(wanted.dish) if wanted.dish else None
    found = await food.nearby_restaurants(
        lat=wanted.lat,
        lng=wanted.lng,
        radius_m=wanted.radius_m,
        now=now,
        dish_ids=dish_ids,
        text=wanted.q,
        county=wanted.county,
        open_now=wanted.open_now,
        night=wanted.night,
        price_levels=wanted.price_levels,
        certified=wanted.certified,
        limit=wanted.limit,
    )
    shaped = [restaurant_out(n.restaurant, language, now, n.distance_m) for n in found]
    if wanted.format == "geojson":
        return json(restaurants_geojson(shaped), content_type=GEOJSON)
    return json([restaurant.model_dump(mode="json") for restaurant in shaped])


@bp.get("/restaurants/<restaurant_id:int>")
@openapi.summary("One restaurant with its hours, dishes and rating")
@openapi.response(200, {"application/json": RestaurantOut.model_json_schema()})
@query(LanguageQuery)
async def get_restaurant(request: Request, restaurant_id: int) -> HTTPResponse:
    restaurant = await food.get_restaurant(restaurant_id=restaurant_id)
    shaped = restaurant_out(restaurant, language_of(request), local_now())
    return json(shaped.model_dump(mode="json"))


@bp.get("/dishes")
@openapi.summary("Wenzhou dishes, searchable in Chinese and English")
@openapi.response(
    200, {"application/json": {"type": "array", "items": DishOut.model_json_schema()}}
)
@query(DishesQuery)
async def list_dishes(request: Request) -> HTTPResponse:
    wanted = parse_query(request, DishesQuery)
    language = language_of(request)
    dishes = await food.list_dishes(text=wanted.q, county=wanted.county)
    return json([dish_out(dish, language).model_dump(mode="json") for dish in dishes])


@bp.get("/dishes/<dish_id:int>")
@openapi.summary("One dish, its story, and the best restaurants to eat it")
@openapi.response(200, {"application/json": DishDetailOut.model_json_schema()})
@query(LanguageQuery)
async def get_dish(request: Request, dish_id: int) -> HTTPResponse:
    dish = await food.get_dish(dish_id=dish_id)
    restaurants = await food.best_restaurants_for(dish_id=dish.id)
    shaped = dish_detail_out(dish, restaurants, language_of(request), local_now())
    return json(shaped.model_dump(mode="json"))


@bp.get("/restaurants/<restaurant_id:int>/reviews")
@openapi.summary("A restaurant's published reviews, latest first")
@openapi.response(
    200, {"application/json": {"type": "array", "items": PublicReviewOut.model_json_schema()}}
)
@query(ReviewsQuery)
async def list_reviews(request: Request, restaurant_id: int) -> HTTPResponse:
    page = parse_query(request, ReviewsQuery)
    reviews = await food.published_reviews(
        restaurant_id=restaurant_id, limit=page.limit, offset=page.offset
    )
    return json([public_review_out(review).model_dump(mode="json") for review in reviews])


@bp.post("/restaurants/<restaurant_id:int>/reviews")
@openapi.summary("Review a restaurant (one review each; a flagged text waits for a moderator)")
@openapi.response(201, {"application/json": ReviewOut.model_json_schema()})
@body(ReviewIn)
@requires(VISITOR)
async def submit_review(request: Request, restaurant_id: int) -> HTTPResponse:
    review_in = parse_body(request, ReviewIn)
    review = await food.submit_review(
        visitor_id=request.ctx.principal.user_id,
        restaurant_id=restaurant_id,
        rating=review_in.rating,
        text=review_in.text,
    )
    return json(review_out(review, language_of(request)).model_dump(mode="json"), status=201)


@bp.get("/restaurants/<restaurant_id:int>/reviews/mine")
@openapi.summary("The caller's own review of the restaurant, whatever its status")
@openapi.response(200, {"application/json": ReviewOut.model_json_schema()})
@requires(VISITOR)
async def get_own_review(request: Request, restaurant_id: int) -> HTTPResponse:
    review = await food.own_review(
        visitor_id=request.ctx.principal.user_id, restaurant_id=restaurant_id
    )
    return json(review_out(review, language_of(request)).model_dump(mode="json"))


@bp.put("/restaurants/<restaurant_id:int>/reviews/mine")
@openapi.summary("Edit the caller's review; the new text is checked again before publication")
@openapi.response(200, {"application/json": ReviewOut.model_json_schema()})
@body(ReviewIn)
@requires(VISITOR)
async def edit_own_review(request: Request, restaurant_id: int) -> HTTPResponse:
    review_in = parse_body(request, ReviewIn)
    review = await food.edit_review(
        visitor_id=request.ctx.principal.user_id,
        restaurant_id=restaurant_id,
        rating=review_in.rating,
        text=review_in.text,
    )
    return json(review_out(review, language_of(request)).model_dump(mode="json"))
