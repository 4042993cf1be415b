"""Request and response shapes of slots and reservations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from i18n import pick
from server.reservations.models import Reservation, TimeSlot
from server.reservations.service import cancel_deadline
from server.tickets.models import Ticket, TicketStatus


class SlotsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    date: dt.date = Field(..., description="the day, YYYY-MM-DD")
    lang: str | None = Field(None, description="zh-CN or en")


class SlotOut(BaseModel):
    id: int
    date: dt.date
    start: str
    end: str
    capacity: int
    booked: int
    remaining: int


def slot_out(slot: TimeSlot) -> SlotOut:
    """The public view of a slot, with the places still free."""
    return SlotOut(
        id=slot.id,
        date=slot.date,
        start=slot.starts_at.strftime("%H:%M"),
        end=slot.ends_at.strftime("%H:%M"),
        capacity=slot.capacity,
        booked=slot.booked,
        remaining=max(slot.capacity - slot.booked, 0),
    )


class VisitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(..., min_length=1, max_length=40, description="the visitor's real name")
    id_number: str = Field(
        ..., min_length=1, max_length=32, description="18-character resident ID card number"
    )


class ReservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: int = Field(..., gt=0, lt=2**31)
    visitors: list[VisitorIn] = Field(..., min_length=1, max_length=5)


class FareOut(BaseModel):
    discount: str | None
    rule: str | None
    note: str
    price_cents: int


class TicketOut(BaseModel):
    id: int
    status: str
    holder: str
    id_number: str
    fare: FareOut
    qr: str | None
    qr_expires_at: int | None


class ReservationSlotOut(BaseModel):
    id: int
    date: dt.date
    start: str
    end: str


class ReservationVenueOut(BaseModel):
    id: int
    code: str
    name: str


class ReservationOut(BaseModel):
    id: int
    status: str
    party_size: int
    venue: ReservationVenueOut
    slot: ReservationSlotOut
    cancel_deadline: str
    created_at: str
    tickets: list[TicketOut]


class SlotCapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: int = Field(..., ge=0, le=1_000_000)


def reservation_out(
    reservation: Reservation, language: str, qr_for: Callable[[Ticket], tuple[str, int]] | None
) -> ReservationOut:
    """The visitor's view of a reservation; QR texts only for tickets that can still be used."""
    tickets = []
    for ticket in sorted(reservation.tickets, key=lambda t: t.id):
        qr, expires = (None, None)
        if qr_for is not None and ticket.status == TicketStatus.VALID:
            qr, expires = qr_for(ticket)
        tickets.append(
            TicketOut(
                id=ticket.id,
                status=ticket.status.value,
                holder=ticket.holder_name_masked,
                id_number=ticket.id_number_masked,
                fare=FareOut(
                    discount=ticket.fare.get("discount"),
                    rule=ticket.fare.get("rule"),
                    note=pick(ticket.fare.get("note"), language),
                    price_cents=ticket.price_cents,
                ),
                qr=qr,
                qr_expires_at=expires,
            )
        )
    slot, venue = reservation.slot, reservation.venue
    return ReservationOut(
        id=reservation.id,
        status=reservation.status.value,
        party_size=reservation.party_size,
        venue=ReservationVenueOut(id=venue.id, code=venue.code, name=pick(venue.name, language)),
        slot=ReservationSlotOut(
            id=slot.id,
            date=slot.date,
            start=slot.starts_at.strftime("%H:%M"),
            end=slot.ends_at.strftime("%H:%M"),
        ),
        cancel_deadline=cancel_deadline(venue, slot).isoformat(timespec="minutes"),
        created_at=reservation.created_at.isoformat(timespec="seconds"),
        tickets=tickets,
    )
