"""The visitor's social-security card: bind and unbind, self-service loans, benefits, books."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json
from sanic_ext.extensions.openapi import openapi

from server.auth import VISITOR, requires
from server.card import service as card
from server.card.models import Loan
from server.card.schemas import (
    BenefitOut,
    BindCardIn,
    BookOut,
    BooksQuery,
    CardOut,
    LoanOut,
    VisitorBorrowIn,
    benefit_out,
    book_out,
    card_out,
    loan_out,
)
from server.clock import local_now
from server.http import body, language_of, parse_body, parse_query, query

bp = Blueprint("card", url_prefix="/card")
_CARD = {"application/json": CardOut.model_json_schema()}
_LOAN = {"application/json": LoanOut.model_json_schema()}


def _array(model: type) -> dict:
    return {"application/json": {"type": "array", "items": model.model_json_schema()}}


@bp.post("/cards")
@openapi.summary("Bind a Yangtze River Delta social-security card, verified with its issuer")
@openapi.description(
    "Refusals: invalid_card_number / invalid_id_number / validation_error (422, naming the "
    "field), card_unknown, card_holder_mismatch (422), card_lost, card_expired, "
    "card_already_bound, too_many_cards (409); card_issuer_unavailable (503) when the issuer "
    "does not answer."
)
@openapi.response(201, _CARD)
@body(BindCardIn)
@requires(VISITOR)
async def bind(request: Request) -> HTTPResponse:
    wanted = parse_body(request, BindCardIn)
    bound = await card.bind_card(
        visitor_id=request.ctx.principal.user_id,
        name=wanted.name,
        id_number=wanted.id_number,
        card_number=wanted.card_number,
        region=wanted.region,
        issuer=request.app.ctx.card_issuer,
        cipher=request.app.ctx.cipher,
        now=local_now(),
    )
    return json(card_out(bound).model_dump(mode="json"), status=201)


@bp.get("/cards")
@openapi.summary("The caller's bound cards, masked")
@openapi.response(200, _array(CardOut))
@requires(VISITOR)
async def list_cards(request: Request) -> HTTPResponse:
    cards = await card.own_cards(visitor_id=request.ctx.principal.user_id)
    return json([card_out(bound).model_dump(mode="json") for bound in cards])


@bp.delete("/cards/<card_id:int>")
@openapi.summary("Unbind one of the caller's cards (not while books are out on it)")
@openapi.response(204, None)
@requires(VISITOR)
async def unbind(request: Request, card_id: int) -> HTTPResponse:
    await card.unbind_card(
        visitor_id=request.ctx.principal.user_id, card_id=card_id, now=local_now()
    )
    return empty()


@bp.get("/benefits")
@openapi.summary("What venues offer social-security card holders")
@openapi.response(200, _array(BenefitOut))
async def benefits(request: Request) -> HTTPResponse:
    language = language_of(request)
    return json(
        [benefit_out(b, language).model_dump(mode="json") for b in await card.venue_benefits()]
    )


@bp.get("/libraries/<venue_id:int>/books")
@openapi.summary("A library's books with the copies on the shelf")
@openapi.response(200, _array(BookOut))
@query(BooksQuery)
async def books(request: Request, venue_id: int) -> HTTPResponse:
    wanted = parse_query(request, BooksQuery)
    holdings = await card.library_books(venue_id=venue_id, text=wanted.q)
    language = language_of(request)
    return json([book_out(holding, language).model_dump(mode="json") for holding in holdings])


def _loan_answer(request: Request, loan: Loan, status: int = 200) -> HTTPResponse:
    shaped = loan_out(loan, language_of(request), local_now().date())
    return json(shaped.model_dump(mode="json"), status=status)


@bp.get("/loans")
@openapi.summary("Books borrowed on the caller's cards, newest first")
@openapi.response(200, _array(LoanOut))
@requires(VISITOR)
async def list_loans(request: Request) -> HTTPResponse:
    loans = await card.own_loans(visitor_id=request.ctx.principal.user_id)
    language, today = language_of(request), local_now().date()
    return json([loan_out(loan, language, today).model_dump(mode="json") for loan in loans])


@bp.post("/loans")
@openapi.summary("Self-service loan: borrow the copy whose barcode was scanned, on a bound card")
@openapi.response(201, _LOAN)
@body(VisitorBorrowIn)
@requires(VISITOR)
async def borrow(request: Request) -> HTTPResponse:
    wanted = parse_body(request, VisitorBorrowIn)
    loan = await card.visitor_borrow(
        visitor_id=request.ctx.principal.user_id,
        card_id=wanted.card_id,
        barcode=wanted.barcode,
        now=local_now(),
    )
    return _loan_answer(request, loan, status=201)


@bp.post("/loans/<loan_id:int>/renew")
@openapi.summary("Renew one of the caller's loans")
@openapi.response(200, _LOAN)
@requires(VISITOR)
async def renew(request: Request, loan_id: int) -> HTTPResponse:
    loan = await card.renew(
        loan_id=loan_id, visitor_id=request.ctx.principal.user_id, now=local_now()
    )
    return _loan_answer(request, loan)


@bp.post("/loans/<loan_id:int>/return")
@openapi.summary("Return one of the caller's loans (the book goes into the return box)")
@openapi.response(200, _LOAN)
@requires(VISITOR)
async def give_back(request: Request, loan_id: int) -> HTTPResponse:
    loan = await card.visitor_return(
        visitor_id=request.ctx.principal.user_id, loan_id=loan_id, now=local_now()
    )
    return _loan_answer(request, loan)
