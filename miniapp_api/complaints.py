"""The visitor's complaints: file one from the mini-program, follow their own."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.auth import VISITOR, requires
from server.clock import local_now
from server.http import body, parse_body
from server.supervision import service as supervision
from server.supervision.models import ComplaintChannel
from server.supervision.schemas import (
    ComplaintFiledOut,
    ComplaintIn,
    VisitorComplaintOut,
    visitor_complaint_out,
)

bp = Blueprint("complaints", url_prefix="/complaints")


@bp.post("/")
@openapi.summary("File a complaint about a venue or a market entity")
@openapi.response(201, {"application/json": ComplaintFiledOut.model_json_schema()})
@body(ComplaintIn)
@requires(VISITOR)
async def file_complaint(request: Request) -> HTTPResponse:
    complaint_in = parse_body(request, ComplaintIn)
    complaint = await supervision.file_complaint(
        text=complaint_in.text,
        channel=ComplaintChannel.MINIAPP,
        visitor_id=request.ctx.principal.user_id,
        venue_id=complaint_in.venue_id,
        entity_id=complaint_in.entity_id,
        occurred_at=complaint_in.occurred_at,
        category=complaint_in.category,
        now=local_now(),
    )
    filed = ComplaintFiledOut(
        id=complaint.id, reference=complaint.reference, status=complaint.status
    )
    return json(filed.model_dump(mode="json"), status=201)


@bp.get("/")
@openapi.summary("The caller's own complaints, newest first")
@openapi.response(
    200, {"application/json": {"type": "array", "items": VisitorComplaintOut.model_json_schema()}}
)
@requires(VISITOR)
async def list_own_complaints(request: Request) -> HTTPResponse:
    own = await supervision.list_own_complaints(visitor_id=request.ctx.principal.user_id)
    return json([visitor_complaint_out(c).model_dump(mode="json") for c in own])
