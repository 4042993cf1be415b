"""Staff endpoints of the card: entry by card at the gate, the library desk's loans and returns.

Like the ticket gate, these take a venue_staff account or the venue's manager, bound to one
venue, and act for that venue only.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.auth import requires
from server.card import service
from server.card.schemas import (
    CardGateIn,
    CardGateOut,
    DeskBorrowIn,
    DeskReturnIn,
    LoanOut,
    card_gate_out,
    loan_out,
)
from server.clock import local_now
from server.http import body, language_of, parse_body
from server.tickets.errors import NotAtAGate
from server.tickets.routes import GATE_ROLES

gate_bp = Blueprint("card_gate", url_prefix="/api/v1/gate")
desk_bp = Blueprint("library_desk", url_prefix="/api/v1/library")
_LOAN = {"application/json": LoanOut.model_json_schema()}
_LOANS = {"application/json": {"type": "array", "items": LoanOut.model_json_schema()}}


def _gate_venue(request: Request) -> int:
    """The venue of the staff member at the gate or desk; an account without one may not act."""
    venue_id = request.ctx.principal.venue_id
    if venue_id is None:
        raise NotAtAGate()
    return venue_id


@gate_bp.post("/card")
@openapi.summary("Enter by social-security card: the number a reader gives, or the e-card QR")
@openapi.description(
    "Admits the holder's reservation for this venue and the current slot, exactly as its ticket "
    "QR would be; at venues whose card benefit allows walk-ins, admits without a reservation "
    "once a day while open and while the daily and instantaneous caps allow. A refusal is a "
    "200 answer with admitted false and a reason: card_not_bound, card_unknown, card_lost, "
    "card_expired, no_reservation, day_full, venue_closed, walked_in_today, or a ticket gate "
    "reason (too_early, too_late, already_used, venue_full, revoked; for e-card QR codes "
    "unknown_code, forged, expired). A malformed card number is a 422 (invalid_card_number)."
)
@openapi.response(200, {"application/json": CardGateOut.model_json_schema()})
@body(CardGateIn)
@requires(*GATE_ROLES)
async def card_entry(request: Request) -> HTTPResponse:
    read = parse_body(request, CardGateIn)
    ctx = request.app.ctx
    outcome = await service.enter_by_card(
        venue_id=_gate_venue(request),
        staff_id=request.ctx.principal.user_id,
        card_number=read.card_number,
        qr=read.qr,
        gate=read.gate,
        now=local_now(),
        issuer=ctx.card_issuer,
        cipher=ctx.cipher,
        signer=ctx.signer,
        redis=ctx.redis,
        thresholds=ctx.settings.warning_thresholds,
    )
    return json(card_gate_out(outcome, language_of(request)).model_dump(mode="json"))


def _loan_answer(request: Request, loan: object, status: int = 200) -> HTTPResponse:
    shaped = loan_out(loan, language_of(request), local_now().date())
    return json(shaped.model_dump(mode="json"), status=status)


@desk_bp.post("/loans")
@openapi.summary("Lend a copy on a card at the library desk (card number or e-card QR)")
@openapi.response(201, _LOAN)
@body(DeskBorrowIn)
@requires(*GATE_ROLES)
async def desk_borrow(request: Request) -> HTTPResponse:
    wanted = parse_body(request, DeskBorrowIn)
    ctx, venue_id, now = request.app.ctx, _gate_venue(request), local_now()
    card = await service.desk_card(
        venue_id=venue_id,
        staff_id=request.ctx.principal.user_id,
        staff_role=request.ctx.principal.role,
        card_number=wanted.card_number,
        qr=wanted.qr,
        issuer=ctx.card_issuer,
        cipher=ctx.cipher,
        now=now,
    )
    loan = await service.borrow(
        card=card,
        barcode=wanted.barcode,
        now=now,
        venue_id=venue_id,
        staff_id=request.ctx.principal.user_id,
    )
    return _loan_answer(request, loan, status=201)


@desk_bp.post("/returns")
@openapi.summary("Take back a copy at the library desk by its barcode")
@openapi.response(200, _LOAN)
@body(DeskReturnIn)
@requires(*GATE_ROLES)
async def desk_return(request: Request) -> HTTPResponse:
    wanted = parse_body(request, DeskReturnIn)
    loan = await service.desk_return(
        venue_id=_gate_venue(request), barcode=wanted.barcode, now=local_now()
    )
    return _loan_answer(request, loan)


@desk_bp.post("/loans/<loan_id:int>/renew")
@openapi.summary("Renew a loan of this library at the desk")
@openapi.response(200, _LOAN)
@requires(*GATE_ROLES)
async def desk_renew(request: Request, loan_id: int) -> HTTPResponse:
    loan = await service.renew(loan_id=loan_id, venue_id=_gate_venue(request), now=local_now())
    return _loan_answer(request, loan)


@desk_bp.get("/overdue")
@openapi.summary("This library's loans past their due date, the longest overdue first")
@openapi.response(
    200, {"application/json": {"type": "array", "items": LoanOut.model_json_schema()}}
)
@requires(*GATE_ROLES)
async def overdue(request: Request) -> HTTPResponse:
    today = local_now().date()
    loans = await service.overdue_loans(venue_id=_gate_venue(request), today=today)
    language = language_of(request)
    return json([loan_out(loan, language, today).model_dump(mode="json") for loan in loans])
