"""Guided tours (导游导览) and the day planner, as the mini-program shows them."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.auth import VISITOR, requires
from server.clock import local_now
from server.http import body, language_of, parse_body, parse_query, query
from server.tours import service as tours
from server.tours.schemas import (
    LanguageQuery,
    NearestOut,
    NearestQuery,
    PlannerIn,
    PlanOut,
    ProgressOut,
    TourOut,
    ToursQuery,
    VisitIn,
    nearest_out,
    place_out,
    plan_out,
    progress_out,
    route_geojson,
    tour_out,
)

bp = Blueprint("tours")
GEOJSON = "application/geo+json"


def _walking_speed(request: Request) -> float:
    return request.app.ctx.settings.walking_speed_kmh


async def _route(request: Request, tour_id: int) -> tours.TourRoute:
    tour = await tours.get_tour(tour_id=tour_id)
    return tours.route_of(tour, walking_speed_kmh=_walking_speed(request))


@bp.get("/tours")
@openapi.summary("List guided tours: of one venue, night tours (全域夜游), or all")
@openapi.response(
    200, {"application/json": {"type": "array", "items": TourOut.model_json_schema()}}
)
@query(ToursQuery)
async def list_tours(request: Request) -> HTTPResponse:
    wanted = parse_query(request, ToursQuery)
    language, speed = language_of(request), _walking_speed(request)
    found = await tours.list_tours(venue_id=wanted.venue_id, night=wanted.night)
    return json(
        [
            tour_out(tours.route_of(tour, walking_speed_kmh=speed), language).model_dump(
                mode="json"
            )
            for tour in found
        ]
    )


@bp.get("/tours/<tour_id:int>")
@openapi.summary("One tour with its stops, narration and walking times")
@openapi.response(200, {"application/json": TourOut.model_json_schema()})
@query(LanguageQuery)
async def get_tour(request: Request, tour_id: int) -> HTTPResponse:
    route = await _route(request, tour_id)
    return json(tour_out(route, language_of(request)).model_dump(mode="json"))


@bp.get("/tours/<tour_id:int>/route.geojson")
@openapi.summary("The tour for the map: a GeoJSON LineString of the route and a Point per stop")
@openapi.response(200, {GEOJSON: {"type": "object"}})
@query(LanguageQuery)
async def tour_geojson(request: Request, tour_id: int) -> HTTPResponse:
    route = await _route(request, tour_id)
    return json(route_geojson(route, language_of(request)), content_type=GEOJSON)


@bp.get("/tours/<tour_id:int>/nearest")
@openapi.summary('"Where am I": the stop nearest the visitor within a radius, with narration')
@openapi.response(200, {"application/json": NearestOut.model_json_schema()})
@query(NearestQuery)
async def nearest_stop(request: Request, tour_id: int) -> HTTPResponse:
    where = parse_query(request, NearestQuery)
    tour = await tours.get_tour(tour_id=tour_id)
    found = tours.nearest_stop(tour, lat=where.lat, lng=where.lng, radius_m=where.radius_m)
    shaped = nearest_out(tour.id, found, where.radius_m, language_of(request))
    return json(shaped.model_dump(mode="json"))


async def _progress_answer(request: Request, progress: tours.Progress) -> HTTPResponse:
    route = tours.route_of(progress.tour, walking_speed_kmh=_walking_speed(request))
    return json(progress_out(progress, route, language_of(request)).model_dump(mode="json"))


@bp.get("/tours/<tour_id:int>/progress")
@openapi.summary("The caller's progress on a tour and the stop to resume at")
@openapi.response(200, {"application/json": ProgressOut.model_json_schema()})
@requires(VISITOR)
async def get_progress(request: Request, tour_id: int) -> HTTPResponse:
    progress = await tours.progress_of(visitor_id=request.ctx.principal.user_id, tour_id=tour_id)
    return await _progress_answer(request, progress)


@bp.post("/tours/<tour_id:int>/progress")
@openapi.summary("Mark a stop of the tour as visited (again changes nothing)")
@openapi.response(200, {"application/json": ProgressOut.model_json_schema()})
@body(VisitIn)
@requires(VISITOR)
async def mark_visited(request: Request, tour_id: int) -> HTTPResponse:
    visit = parse_body(request, VisitIn)
    progress = await tours.mark_visited(
        visitor_id=request.ctx.principal.user_id,
        tour_id=tour_id,
        stop_id=visit.stop_id,
        now=local_now(),
    )
    return await _progress_answer(request, progress)


@bp.delete("/tours/<tour_id:int>/progress")
@openapi.summary("Start the tour over: forget the stops visited")
@openapi.response(200, {"application/json": ProgressOut.model_json_schema()})
@requires(VISITOR)
async def restart_tour(request: Request, tour_id: int) -> HTTPResponse:
    progress = await tours.restart(visitor_id=request.ctx.principal.user_id, tour_id=tour_id)
    return await _progress_answer(request, progress)


@bp.post("/planner")
@openapi.summary("Plan a day: order the places into a route within their opening hours")
@openapi.response(200, {"application/json": PlanOut.model_json_schema()})
@body(PlannerIn)
async def plan_day(request: Request) -> HTTPResponse:
    wanted = parse_body(request, PlannerIn)
    language = language_of(request)
    day = wanted.date or local_now().date()
    start = (
        tours.PlaceWish(wanted.start.place, field="start.place")
        if wanted.start.place
        else (wanted.start.lat, wanted.start.lng)
    )
    speed = _walking_speed(request) if wanted.travel == "walk" else tours.DRIVING_SPEED_KMH
    plan, places = await tours.plan_day(
        wishes=[
            tours.PlaceWish(place.id, place.minutes, field=f"places[{number}].id")
            for number, place in enumerate(wanted.places)
        ],
        start=start,
        day=day,
        starts_at=wanted.start_time,
        ends_at=wanted.end_time,
        speed_kmh=speed,
    )
    items = {key: place_out(key, entity, language) for key, entity in places.items()}
    return json(plan_out(plan, day, wanted.travel, items, language).model_dump(mode="json"))
