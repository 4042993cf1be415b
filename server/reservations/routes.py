"""The admin side of reservations: slot capacity."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.accounts.models import Role
from server.auth import requires
from server.http import body, parse_body
from server.reservations import service
from server.reservations.schemas import SlotCapacityIn, SlotOut, slot_out

bp = Blueprint("admin_slots", url_prefix="/api/v1/admin/slots")


@bp.patch("/<slot_id:int>")
@openapi.summary("Change a slot's capacity (never below what is booked: 409)")
@openapi.response(200, {"application/json": SlotOut.model_json_schema()})
@body(SlotCapacityIn)
@requires(Role.ADMIN, Role.VENUE_MANAGER)
async def change_slot_capacity(request: Request, slot_id: int) -> HTTPResponse:
    change = parse_body(request, SlotCapacityIn)
    principal = request.ctx.principal
    slot = await service.set_slot_capacity(
        slot_id=slot_id,
        capacity=change.capacity,
        manager_venue_id=principal.venue_id if principal.role == Role.VENUE_MANAGER else None,
    )
    return json(slot_out(slot).model_dump(mode="json"))
