"""The visitor's reservations: book named people into a slot, list, show, cancel."""

from __future__ import annotations

import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server import idempotency
from server.auth import VISITOR, requires
from server.clock import local_now
from server.errors import InvalidInput
from server.http import body, language_of, parse_body
from server.reservations import service as reservations
from server.reservations.models import Reservation
from server.reservations.schemas import ReservationIn, ReservationOut, reservation_out
from server.tickets import service as tickets

bp = Blueprint("reservations", url_prefix="/reservations")
_ANSWER = {"application/json": ReservationOut.model_json_schema()}


def _answer(request: Request, reservation: Reservation) -> dict:
    signer, now = request.app.ctx.signer, time.time()
    shaped = reservation_out(
        reservation,
        language_of(request),
        qr_for=lambda ticket: tickets.qr_text(signer, ticket, now=now),
    )
    return shaped.model_dump(mode="json")


@bp.post("/")
@openapi.summary("Reserve places in a slot for one to five named visitors")
@openapi.parameter("Idempotency-Key", str, "header", description="retries return the first answer")
@openapi.response(201, _ANSWER)
@body(ReservationIn)
@requires(VISITOR)
async def create_reservation(request: Request) -> HTTPResponse:
    booking = parse_body(request, ReservationIn)
    visitor_id = request.ctx.principal.user_id

    async def book() -> tuple[int, dict]:
        reservation = await reservations.reserve(
            visitor_id=visitor_id,
            slot_id=booking.slot_id,
            people=[reservations.Person(v.name, v.id_number) for v in booking.visitors],
            now=local_now(),
            cipher=request.app.ctx.cipher,
        )
        return 201, _answer(request, reservation)

    key = request.headers.get("idempotency-key")
    if key is None:
        status, answer = await book()
    else:
        if not 1 <= len(key) <= idempotency.MAX_KEY_LENGTH:
            raise InvalidInput(field="Idempotency-Key", detail="1 to 128 characters")
        status, answer = await idempotency.answer_once(
            request.app.ctx.redis,
            scope=f"reserve:{visitor_id}",
            key=key,
            request_fingerprint=idempotency.fingerprint(booking.model_dump()),
            work=book,
        )
    return json(answer, status=status)


@bp.get("/")
@openapi.summary("The caller's own reservations, newest first")
@openapi.response(
    200, {"application/json": {"type": "array", "items": ReservationOut.model_json_schema()}}
)
@requires(VISITOR)
async def list_reservations(request: Request) -> HTTPResponse:
    own = await reservations.list_own_reservations(visitor_id=request.ctx.principal.user_id)
    return json([_answer(request, reservation) for reservation in own])


@bp.get("/<reservation_id:int>")
@openapi.summary("One of the caller's own reservations")
@openapi.response(200, _ANSWER)
@requires(VISITOR)
async def get_reservation(request: Request, reservation_id: int) -> HTTPResponse:
    reservation = await reservations.get_own_reservation(
        visitor_id=request.ctx.principal.user_id, reservation_id=reservation_id
    )
    return json(_answer(request, reservation))


@bp.post("/<reservation_id:int>/cancel")
@openapi.summary("Cancel one of the caller's reservations before the venue's deadline")
@openapi.response(200, _ANSWER)
@requires(VISITOR)
async def cancel_reservation(request: Request, reservation_id: int) -> HTTPResponse:
    reservation = await reservations.cancel(
        visitor_id=request.ctx.principal.user_id, reservation_id=reservation_id, now=local_now()
    )
    return json(_answer(request, reservation))
