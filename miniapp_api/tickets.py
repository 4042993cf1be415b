"""The visitor's ticket QR codes: the text to draw, or a ready PNG or SVG image.

Every call signs a new code valid for a minute, so the mini-program redraws it while shown and a
screenshot goes stale. Nothing here may be cached on the way.
"""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw
from sanic_ext.extensions.openapi import openapi

from server.auth import VISITOR, requires
from server.clock import local_now
from server.tickets import service as tickets
from server.tickets.schemas import QrOut, qr_out, qr_png, qr_svg

bp = Blueprint("tickets", url_prefix="/tickets")
NO_STORE = {"Cache-Control": "no-store"}


async def _current_qr(request: Request, ticket_id: int) -> tickets.TicketQr:
    return await tickets.current_qr(
        visitor_id=request.ctx.principal.user_id,
        ticket_id=ticket_id,
        signer=request.app.ctx.signer,
        now=local_now(),
    )


@bp.get("/<ticket_id:int>/qr")
@openapi.summary("A fresh QR text of one of the caller's tickets, and when to redraw it")
@openapi.response(200, {"application/json": QrOut.model_json_schema()})
@requires(VISITOR)
async def ticket_qr(request: Request, ticket_id: int) -> HTTPResponse:
    code = await _current_qr(request, ticket_id)
    return json(qr_out(code).model_dump(mode="json"), headers=NO_STORE)


@bp.get("/<ticket_id:int>/qr.png")
@openapi.summary("A fresh QR code of one of the caller's tickets, as a PNG image")
@openapi.response(200, {"image/png": {"type": "string", "format": "binary"}})
@requires(VISITOR)
async def ticket_qr_png(request: Request, ticket_id: int) -> HTTPResponse:
    code = await _current_qr(request, ticket_id)
    # Drawing the image takes a few milliseconds of CPU: off the event loop.
    image = await asyncio.to_thread(qr_png, code.text)
    return raw(image, content_type="image/png", headers=NO_STORE)


@bp.get("/<ticket_id:int>/qr.svg")
@openapi.summary("A fresh QR code of one of the caller's tickets, as an SVG image")
@openapi.response(200, {"image/svg+xml": {"type": "string"}})
@requires(VISITOR)
async def ticket_qr_svg(request: Request, ticket_id: int) -> HTTPResponse:
    code = await _current_qr(request, ticket_id)
    image = await asyncio.to_thread(qr_svg, code.text)
    return raw(image, content_type="image/svg+xml", headers=NO_STORE)
