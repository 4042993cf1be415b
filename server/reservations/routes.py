"""The admin side of reservations: slot capacity, weekly templates, booking rules."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.accounts.models import Role
from server.auth import requires
from server.clock import local_now
from server.http import body, parse_body
from server.reservations import service
from server.reservations.schemas import (
    BookingRulesIn,
    SlotCapacityIn,
    SlotOut,
    SlotTemplateIn,
    booking_rules_out,
    slot_out,
    template_out,
)

bp = Blueprint("admin_slots", url_prefix="/api/v1/admin/slots")

venues_bp = Blueprint("admin_venue_booking", url_prefix="/api/v1/admin/venues")


def _manager_venue(request: Request) -> int | None:
    principal = request.ctx.principal
    return principal.venue_id if principal.role == Role.VENUE_MANAGER else None


@bp.patch("/<slot_id:int>")
@openapi.summary("Change a slot's capacity (never below what is booked: 409)")
@openapi.response(200, {"application/json": SlotOut.model_json_schema()})
@body(SlotCapacityIn)
@requires(Role.ADMIN, Role.VENUE_MANAGER)
async def change_slot_capacity(request: Request, slot_id: int) -> HTTPResponse:
    change = parse_body(request, SlotCapacityIn)
    slot = await service.set_slot_capacity(
        slot_id=slot_id,
        capacity=change.capacity,
        manager_venue_id=_manager_venue(request),
    )
    return json(slot_out(slot).model_dump(mode="json"))


@venues_bp.get("/<venue_id:int>/slot-template")
@openapi.summary("A venue's weekly slot template")
@requires(Role.ADMIN, Role.VENUE_MANAGER)
async def get_slot_template(request: Request, venue_id: int) -> HTTPResponse:
    venue = await service.managed_venue(venue_id=venue_id, manager_venue_id=_manager_venue(request))
    return json(template_out(await service.slot_template(venue_id=venue.id)))


@venues_bp.put("/<venue_id:int>/slot-template")
@openapi.summary("Replace a venue's weekly slot template; unbooked future slots follow it")
@body(SlotTemplateIn)
@requires(Role.ADMIN, Role.VENUE_MANAGER)
async def put_slot_template(request: Request, venue_id: int) -> HTTPResponse:
    template = parse_body(request, SlotTemplateIn)
    rows = await service.set_slot_template(
        venue_id=venue_id,
        manager_venue_id=_manager_venue(request),
        windows=[window.as_window() for window in template.windows],
        today=local_now().date(),
        days=request.app.ctx.settings.slot_days_ahead,
    )
    return json(template_out(rows))


@venues_bp.get("/<venue_id:int>/booking-rules")
@openapi.summary("A venue's caps, release schedule, cancel deadline and gate tolerance")
@requires(Role.ADMIN, Role.VENUE_MANAGER)
async def get_booking_rules(request: Request, venue_id: int) -> HTTPResponse:
    venue = await service.managed_venue(venue_id=venue_id, manager_venue_id=_manager_venue(request))
    return json(booking_rules_out(venue))


@venues_bp.patch("/<venue_id:int>/booking-rules")
@openapi.summary("Change some of a venue's booking rules")
@body(BookingRulesIn)
@requires(Role.ADMIN, Role.VENUE_MANAGER)
async def patch_booking_rules(request: Request, venue_id: int) -> HTTPResponse:
    rules = parse_body(request, BookingRulesIn)
    venue = await service.set_booking_rules(
        venue_id=venue_id, manager_venue_id=_manager_venue(request), changes=rules.changes()
    )
    return json(booking_rules_out(venue))
