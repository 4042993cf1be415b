"""Recommendations (千人千面), similar items, visitors' events and onboarding interests."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from recommend import service as recommendations
from recommend.models import EventKind
from recommend.schemas import (
    EventIn,
    EventOut,
    InterestsIn,
    InterestsOut,
    RecommendationOut,
    RecommendationsQuery,
    SimilarQuery,
    interests_out,
    recommendation_out,
)
from server.auth import VISITOR, requires
from server.clock import local_now
from server.http import body, language_of, parse_body, parse_query, query

bp = Blueprint("recommendations")
_RECOMMENDATIONS = {
    "application/json": {"type": "array", "items": RecommendationOut.model_json_schema()}
}


@bp.get("/recommendations")
@openapi.summary("Items for the caller: by taste, position, time, crowd and variety")
@openapi.response(200, _RECOMMENDATIONS)
@query(RecommendationsQuery)
@requires(VISITOR)
async def list_recommendations(request: Request) -> HTTPResponse:
    wanted = parse_query(request, RecommendationsQuery)
    recommender = request.app.ctx.recommender
    found = await recommendations.recommend(
        catalogue=await recommender.catalogue(),
        visitor_id=request.ctx.principal.user_id,
        now=local_now(),
        at=wanted.at,
        position=wanted.position,
        types={wanted.type} if wanted.type else None,
        limit=wanted.limit,
        tastes=recommender.tastes,
        crowds=recommender.crowds(),
        recent=recommender.recent_states,
    )
    language = language_of(request)
    return json([recommendation_out(r, language).model_dump(mode="json") for r in found])


@bp.get("/items/<item_id:str>/similar")
@openapi.summary("The items most like one item (venue:12, restaurant:7, tour:3, dish:5)")
@openapi.response(200, _RECOMMENDATIONS)
@query(SimilarQuery)
async def list_similar(request: Request, item_id: str) -> HTTPResponse:
    wanted = parse_query(request, SimilarQuery)
    recommender = request.app.ctx.recommender
    found = await recommendations.similar_items(
        catalogue=await recommender.catalogue(),
        item_id=item_id,
        now=local_now(),
        limit=wanted.limit,
        crowds=recommender.crowds(),
        recent=recommender.recent_states,
    )
    language = language_of(request)
    return json([recommendation_out(r, language).model_dump(mode="json") for r in found])


@bp.post("/events")
@openapi.summary("Record that the caller viewed, favourited or unfavourited an item")
@openapi.response(202, {"application/json": EventOut.model_json_schema()})
@body(EventIn)
@requires(VISITOR)
async def record_event(request: Request) -> HTTPResponse:
    event = parse_body(request, EventIn)
    recorded = await recommendations.record_event(
        visitor_id=request.ctx.principal.user_id,
        item_id=event.item_id,
        kind=EventKind(event.kind),
        now=local_now(),
        tastes=request.app.ctx.recommender.tastes,
    )
    shaped = EventOut(item_id=event.item_id, kind=event.kind, recorded=recorded)
    return json(shaped.model_dump(mode="json"), status=202)


@bp.get("/me/interests")
@openapi.summary("The caller's onboarding interests, and every interest offered")
@openapi.response(200, {"application/json": InterestsOut.model_json_schema()})
@requires(VISITOR)
async def get_interests(request: Request) -> HTTPResponse:
    chosen = await recommendations.own_interests(visitor_id=request.ctx.principal.user_id)
    return json(interests_out(chosen, language_of(request)).model_dump(mode="json"))


@bp.put("/me/interests")
@openapi.summary("Choose the caller's interests (onboarding): they shape the first picks")
@openapi.response(200, {"application/json": InterestsOut.model_json_schema()})
@body(InterestsIn)
@requires(VISITOR)
async def set_interests(request: Request) -> HTTPResponse:
    wanted = parse_body(request, InterestsIn)
    chosen = await recommendations.set_interests(
        visitor_id=request.ctx.principal.user_id,
        interests=wanted.interests,
        tastes=request.app.ctx.recommender.tastes,
    )
    return json(interests_out(chosen, language_of(request)).model_dump(mode="json"))
