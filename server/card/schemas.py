"""Request and response shapes of card binding, card entry, the library and card benefits."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

import i18n
from server.card import service
from server.card.models import BoundCard, CardBenefit, Loan
from server.errors import InvalidInput
from server.http import RowId
from server.tickets.schemas import OccupancyOut, TicketAtGateOut, occupancy_out, ticket_at_gate_out

# Lengths only: the rules (card number format, ID check digit, region) are the service's, so the
# mini-program, the bot and the desk get the same refusals with the same reasons.


class BindCardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        ..., min_length=1, max_length=40, description="the holder's name as on the card"
    )
    id_number: str = Field(..., min_length=1, max_length=32, description="the holder's ID number")
    card_number: str = Field(
        ..., min_length=1, max_length=32, description="the 9-character card number, e.g. A33030201"
    )
    region: str = Field(
        ...,
        min_length=1,
        max_length=8,
        description="GB/T 2260 code of the issuing city (Shanghai 31, Jiangsu 32, Zhejiang 33, "
        "Anhui 34 ...), e.g. 330302",
    )


class CardOut(BaseModel):
    id: int
    card_number: str = Field(..., description="masked")
    holder: str = Field(..., description="masked")
    id_number: str = Field(..., description="masked")
    region: str
    status: str
    valid_until: dt.date
    loans_open: int
    bound_at: dt.datetime


def card_out(card: BoundCard) -> CardOut:
    """A bound card as its owner sees it: everything personal masked."""
    return CardOut(
        id=card.id,
        card_number=card.card_number_masked,
        holder=card.holder_name_masked,
        id_number=card.id_number_masked,
        region=card.region,
        status=card.status,
        valid_until=card.valid_until,
        loans_open=card.loans_open,
        bound_at=card.bound_at,
    )


class CardReadIn(BaseModel):
    """A card as a reader gives its number, or the electronic card's QR text: exactly one."""

    model_config = ConfigDict(extra="forbid")

    card_number: str | None = Field(None, min_length=1, max_length=32)
    qr: str | None = Field(None, min_length=1, max_length=2048)

    @model_validator(mode="after")
    def _exactly_one(self) -> CardReadIn:
        if (self.card_number is None) == (self.qr is None):
            raise InvalidInput(field="card_number", detail="give either card_number or qr")
        return self


class CardGateIn(CardReadIn):
    gate: str | None = Field(None, max_length=64, description="which gate read it, e.g. north-2")


class CardGateOut(BaseModel):
    admitted: bool
    reason: str
    message: str
    scanned_at: dt.datetime
    card: str | None = Field(None, description="the card number, masked")
    holder: str | None = Field(None, description="the holder's name, masked")
    electronic: bool
    walk_in: bool = Field(..., description="admitted without a reservation (card benefit)")
    ticket: TicketAtGateOut | None
    occupancy: OccupancyOut


def card_gate_out(outcome: service.CardGateOutcome, language: str) -> CardGateOut:
    """The gate's answer to a card: verdict, message in the staff's language, who, how full."""
    return CardGateOut(
        admitted=outcome.admitted,
        reason=outcome.reason,
        message=i18n.gettext(f"gate.{outcome.reason}", language),
        scanned_at=outcome.scanned_at,
        card=outcome.card_masked,
        holder=outcome.holder_masked,
        electronic=outcome.electronic,
        walk_in=outcome.walk_in,
        ticket=None if outcome.ticket is None else ticket_at_gate_out(outcome.ticket, language),
        occupancy=occupancy_out(outcome.occupancy),
    )


# --- the library -------------------------------------------------------------------------------


class BooksQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(None, min_length=1, max_length=60, description="title, author or ISBN")


class BookOut(BaseModel):
    id: int
    isbn: str
    title: str
    author: str
    publisher: str
    year: int | None
    copies: int
    available: int


def book_out(holding: service.Holding, language: str) -> BookOut:
    """A title with its copies, in the reader's language."""
    book = holding.book
    return BookOut(
        id=book.id,
        isbn=book.isbn,
        title=i18n.pick(book.title, language),
        author=i18n.pick(book.author, language),
        publisher=book.publisher,
        year=book.year,
        copies=holding.copies,
        available=holding.available,
    )


class VisitorBorrowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card_id: RowId = Field(..., description="one of the caller's bound cards")
    barcode: str = Field(..., min_length=1, max_length=32, description="the copy's barcode")


class DeskBorrowIn(CardReadIn):
    barcode: str = Field(..., min_length=1, max_length=32, description="the copy's barcode")


class DeskReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    barcode: str = Field(..., min_length=1, max_length=32)


class LoanOut(BaseModel):
    id: int
    barcode: str
    isbn: str
    title: str
    venue_id: int
    card: str = Field(..., description="the card number, masked")
    borrowed_at: dt.datetime
    due_on: dt.date
    renewals: int
    renewals_left: int
    returned_at: dt.datetime | None
    overdue: bool


def loan_out(loan: Loan, language: str, today: dt.date) -> LoanOut:
    """A loan with its book, due date and what is left to renew."""
    copy = loan.copy
    return LoanOut(
        id=loan.id,
        barcode=copy.barcode,
        isbn=copy.book.isbn,
        title=i18n.pick(copy.book.title, language),
        venue_id=loan.venue_id,
        card=loan.card_number_masked,
        borrowed_at=loan.borrowed_at,
        due_on=loan.due_on,
        renewals=loan.renewals,
        renewals_left=max(service.MAX_RENEWALS - loan.renewals, 0),
        returned_at=loan.returned_at,
        overdue=loan.returned_at is None and loan.due_on < today,
    )


# --- benefits ----------------------------------------------------------------------------------


class BenefitOut(BaseModel):
    venue_id: int
    venue_name: str
    walk_in: bool
    free_entry: bool
    discount_percent: int
    priority_percent: int
    note: str


def benefit_out(benefit: CardBenefit, language: str) -> BenefitOut:
    """What a venue offers card holders."""
    return BenefitOut(
        venue_id=benefit.venue_id,
        venue_name=i18n.pick(benefit.venue.name, language),
        walk_in=benefit.walk_in,
        free_entry=benefit.free_entry,
        discount_percent=benefit.discount_percent,
        priority_percent=benefit.priority_percent,
        note=i18n.pick(benefit.note, language),
    )
