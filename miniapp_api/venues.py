"""The venue catalogue and its time slots, as the mini-program shows them."""

from __future__ import annotations

from datetime import datetime

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.clock import local_now
from server.http import language_of, parse_query, query
from server.reservations import service as reservations
from server.reservations.schemas import SlotOut, SlotsQuery, slot_out
from server.supervision import risk
from server.tickets import service as tickets
from server.venues import service as venues
from server.venues.schemas import VenueOut, VenuesQuery, is_night_open, venue_out

bp = Blueprint("venues", url_prefix="/venues")


async def _risk_warnings(request: Request, venue_ids: list[int], now: datetime) -> dict:
    """The venues' current risk warnings in the caller's language (cached in Redis)."""
    return await risk.venue_warnings(
        venue_ids, redis=request.app.ctx.redis, now=now, language=language_of(request)
    )


@bp.get("/")
@openapi.summary("List the venues (scenic areas, museums, libraries, theatres, streets)")
@openapi.response(
    200, {"application/json": {"type": "array", "items": VenueOut.model_json_schema()}}
)
@query(VenuesQuery)
async def list_venues(request: Request) -> HTTPResponse:
    wanted = parse_query(request, VenuesQuery)
    language, now = language_of(request), local_now()
    catalogue = await venues.list_venues(kind=wanted.kind)
    if wanted.night is not None:
        catalogue = [v for v in catalogue if is_night_open(v) == wanted.night]
    crowds = await tickets.crowd_by_venue(venues_shown=catalogue, day=now.date())
    warnings = await _risk_warnings(request, [v.id for v in catalogue], now)
    return json(
        [
            venue_out(v, language, now, crowds.get(v.id), warnings[v.id]).model_dump(mode="json")
            for v in catalogue
        ]
    )


@bp.get("/<venue_id:int>")
@openapi.summary("One venue with its hours today")
@openapi.response(200, {"application/json": VenueOut.model_json_schema()})
@query(VenuesQuery)
async def get_venue(request: Request, venue_id: int) -> HTTPResponse:
    venue, now = await venues.get_venue(venue_id=venue_id), local_now()
    crowds = await tickets.crowd_by_venue(venues_shown=[venue], day=now.date())
    warnings = await _risk_warnings(request, [venue.id], now)
    shaped = venue_out(venue, language_of(request), now, crowds.get(venue.id), warnings[venue.id])
    return json(shaped.model_dump(mode="json"))


@bp.get("/<venue_id:int>/slots")
@openapi.summary("A venue's time slots on one day, with the places left")
@openapi.response(
    200, {"application/json": {"type": "array", "items": SlotOut.model_json_schema()}}
)
@query(SlotsQuery)
async def list_slots(request: Request, venue_id: int) -> HTTPResponse:
    wanted = parse_query(request, SlotsQuery)
    slots = await reservations.list_slots_with_alternatives(
        venue_id=venue_id, day=wanted.date, now=local_now()
    )
    return json(
        [slot_out(slot, alternatives).model_dump(mode="json") for slot, alternatives in slots]
    )
