"""The admin side of reservations: slot capacity, weekly templates, booking rules."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from tortoise.functions import Max

from server.accounts.models import Role
from server.admin.audit import record
from server.auth import requires
from server.clock import local_now
from server.http import body, parse_body
from server.reservations import service
from server.reservations.errors import CapacityBelowBooked
from server.reservations.models import TimeSlot, VenueDay
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
    previous = await TimeSlot.get_or_none(id=slot_id)  # shown only after the service allowed it
    slot = await service.set_slot_capacity(
        slot_id=slot_id,
        capacity=change.capacity,
        manager_venue_id=_manager_venue(request),
    )
    shown = slot_out(slot).model_dump(mode="json")
    before = {"capacity": previous.capacity, "booked": previous.booked} if previous else None
    await record(request.ctx.principal, "slot.capacity", f"slot:{slot.id}", before, shown)
    return json(shown)


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
    manager_venue_id = _manager_venue(request)
    await service.managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    before = template_out(await service.slot_template(venue_id=venue_id))
    rows = await service.set_slot_template(
        venue_id=venue_id,
        manager_venue_id=manager_venue_id,
        windows=[window.as_window() for window in template.windows],
        today=local_now().date(),
        days=request.app.ctx.settings.slot_days_ahead,
    )
    after = template_out(rows)
    await record(request.ctx.principal, "venue.slot_template", f"venue:{venue_id}", before, after)
    return json(after)


async def _refuse_daily_cap_below_booked(venue_id: int, daily_capacity: int) -> None:
    """A daily cap below the places already booked on a coming day is refused (409)."""
    most = await (
        VenueDay.filter(venue_id=venue_id, date__gte=local_now().date())
        .annotate(most=Max("booked"))
        .values_list("most", flat=True)
    )
    booked = int(most[0] or 0) if most else 0
    if booked > daily_capacity:
        raise CapacityBelowBooked(booked=booked)


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
    manager_venue_id = _manager_venue(request)
    before = booking_rules_out(
        await service.managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    )
    changes = rules.changes()
    if changes.get("daily_capacity") is not None:
        await _refuse_daily_cap_below_booked(venue_id, changes["daily_capacity"])
    venue = await service.set_booking_rules(
        venue_id=venue_id, manager_venue_id=manager_venue_id, changes=changes
    )
    after = booking_rules_out(venue)
    await record(request.ctx.principal, "venue.booking_rules", f"venue:{venue.id}", before, after)
    return json(after)
