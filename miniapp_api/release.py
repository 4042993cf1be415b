"""Ticket release for visitors: the waiting room's answers, holds, and when booking opens."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server import ratelimit
from server.auth import VISITOR, requires
from server.clock import local_now
from server.errors import RateLimited
from server.http import RowId, body, parse_body, parse_query, query
from server.release import limits, runtime
from server.release import service as holds
from server.release.errors import AlreadyQueued, HoldAlreadyActive, QuotaReached
from server.release.models import SlotHold
from server.release.waiting_room import LONGEST_WAIT_SECONDS
from server.reservations import service as reservations
from server.venues import service as venues

bp = Blueprint("release", url_prefix="/")

# The refusals the anti-scalping trail keeps (a full slot is no abuse: it is not kept).
_KEPT_REFUSALS = (RateLimited, QuotaReached, AlreadyQueued, HoldAlreadyActive)


def device_of(request: Request) -> str:
    """The caller's X-Device-Id as a short keyed hash, "" when it sent none."""
    device_id = (request.headers.get("x-device-id") or "").strip()[:128]
    return request.app.ctx.cipher.lookup_hash(f"device:{device_id}")[:16] if device_id else ""


def booking_rates(request: Request) -> list[ratelimit.Limit]:
    """The rate limits a booking or hold request of the caller counts against."""
    return limits.booking_rates(
        limits=runtime.current().limits,
        visitor_id=request.ctx.principal.user_id,
        device=device_of(request),
    )


async def count_booking_request(request: Request) -> None:
    """Count a booking or hold request against the caller's account and device rates (429)."""
    await ratelimit.count_request(
        request.app.ctx.redis,
        limits=booking_rates(request),
        window=limits.BOOKING_RATE_WINDOW_SECONDS,
    )


def refusals_recorded(request: Request, *, slot_id: int | None) -> _RefusalTrail:
    """Keep the anti-scalping refusals raised inside (`async with`) in the bureau's trail, then
    let them go on."""
    return _RefusalTrail(request, slot_id=slot_id)


class _RefusalTrail:
    """refusals_recorded's context: a class, not a generator-based context manager, as every
    booking request of a crowd enters one."""

    def __init__(self, request: Request, *, slot_id: int | None) -> None:
        self._request, self._slot_id = request, slot_id

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, _type: object, refusal: BaseException | None, _trace: object) -> None:
        if isinstance(refusal, _KEPT_REFUSALS):
            request = self._request
            await limits.record_refusal(
                request.app.ctx.redis,
                refusal,
                visitor_id=request.ctx.principal.user_id,
                slot_id=self._slot_id,
                device=device_of(request),
            )


# --- the waiting room ------------------------------------------------------------------------


class QueuePoll(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wait: float = Field(
        0,
        ge=0,
        le=LONGEST_WAIT_SECONDS,
        description="seconds to wait for the outcome before answering `waiting`",
    )


@bp.get("/queue/<queue_id:str>")
@openapi.summary("Where the caller's queued booking stands: waiting, or done with its answer")
@openapi.description(
    "`waiting`: `position` (1 is next, 0 is being booked now) and `estimated_wait_seconds`; "
    "`done`: `http_status` and `answer` (the reservation, or the error) as the booking would "
    "have answered; `lost`: the server booking it stopped, retry the booking. With `wait`, "
    "the answer comes as soon as the outcome is known, or `waiting` after that many seconds."
)
@query(QueuePoll)
@requires(VISITOR)
async def queue_status(request: Request, queue_id: str) -> HTTPResponse:
    poll = parse_query(request, QueuePoll)
    return json(
        await request.app.ctx.waiting_room.status(
            queue_id=queue_id[:64],
            visitor_id=request.ctx.principal.user_id,
            wait_seconds=poll.wait,
        )
    )


# --- holds -------------------------------------------------------------------------------------


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: RowId
    places: int = Field(..., ge=1, le=reservations.MAX_PARTY)


class HoldOut(BaseModel):
    id: int
    slot_id: int
    places: int
    status: str
    expires_at: dt.datetime


def _hold_out(hold: SlotHold) -> dict:
    return HoldOut(
        id=hold.id,
        slot_id=hold.slot_id,
        places=hold.places,
        status=str(hold.status),
        expires_at=hold.expires_at,
    ).model_dump(mode="json")


_HOLD = {"application/json": HoldOut.model_json_schema()}


@bp.post("/holds")
@openapi.summary("Hold places in a slot for a few minutes, then book them with `hold_id`")
@openapi.description(
    "One live hold per visitor (409 `hold_already_active`); an unused hold returns its places "
    "when it expires. Rate-limited like bookings."
)
@openapi.response(201, _HOLD)
@body(HoldIn)
@requires(VISITOR)
async def create_hold(request: Request) -> HTTPResponse:
    wanted = parse_body(request, HoldIn)
    async with refusals_recorded(request, slot_id=wanted.slot_id):
        await count_booking_request(request)
        hold = await holds.create_hold(
            visitor_id=request.ctx.principal.user_id,
            slot_id=wanted.slot_id,
            places=wanted.places,
            now=local_now(),
        )
    return json(_hold_out(hold), status=201)


@bp.get("/holds/<hold_id:int>")
@openapi.summary("One of the caller's holds")
@openapi.response(200, _HOLD)
@requires(VISITOR)
async def get_hold(request: Request, hold_id: int) -> HTTPResponse:
    hold = await holds.get_own_hold(visitor_id=request.ctx.principal.user_id, hold_id=hold_id)
    return json(_hold_out(hold))


@bp.delete("/holds/<hold_id:int>")
@openapi.summary("Give a hold's places back now")
@openapi.response(200, _HOLD)
@requires(VISITOR)
async def release_hold(request: Request, hold_id: int) -> HTTPResponse:
    hold = await holds.release_hold(
        visitor_id=request.ctx.principal.user_id, hold_id=hold_id, now=local_now()
    )
    return json(_hold_out(hold))


# --- the release schedule ----------------------------------------------------------------------


class ReleaseQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    date: dt.date = Field(..., description="the visit day, YYYY-MM-DD")


@bp.get("/venues/<venue_id:int>/release")
@openapi.summary("When booking for a day opens, with the server's time")
@query(ReleaseQuery)
async def release_schedule(request: Request, venue_id: int) -> HTTPResponse:
    day = parse_query(request, ReleaseQuery).date
    venue = await venues.get_venue(venue_id=venue_id)
    now = local_now()
    opens = reservations.booking_opens_at(venue, day)
    return json(
        {
            "venue_id": venue.id,
            "date": day.isoformat(),
            "opens_at": opens.isoformat(timespec="minutes"),
            "server_time": now.isoformat(timespec="seconds"),
            "open": now >= opens,
            "seconds_until_open": max(int((opens - now).total_seconds()), 0),
        }
    )
