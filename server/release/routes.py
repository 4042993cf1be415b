"""The bureau's view of ticket release: the anti-scalping refusal trail."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.accounts.models import Role
from server.auth import requires
from server.http import RowId, parse_query, query
from server.release import limits

bp = Blueprint("admin_release", url_prefix="/api/v1/admin/booking-refusals")


class RefusalsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rule: str | None = Field(
        None, max_length=32, description="account_day, person_day, book-account, ..."
    )
    visitor_id: RowId | None = None
    since: dt.datetime | None = Field(None, description="ISO 8601, with its offset")
    limit: int = Field(100, ge=1, le=1000)


class RefusalOut(BaseModel):
    id: int
    at: dt.datetime
    rule: str
    visitor_id: int | None
    slot_id: int | None
    device: str
    detail: str


@bp.get("/")
@openapi.summary("Booking requests refused by the anti-scalping rules, newest first")
@openapi.response(
    200, {"application/json": {"type": "array", "items": RefusalOut.model_json_schema()}}
)
@query(RefusalsQuery)
@requires(Role.ADMIN, Role.SUPERVISOR)
async def list_refusals(request: Request) -> HTTPResponse:
    wanted = parse_query(request, RefusalsQuery)
    rows = await limits.list_refusals(**wanted.model_dump())
    return json(
        [
            RefusalOut.model_validate(row, from_attributes=True).model_dump(mode="json")
            for row in rows
        ]
    )
