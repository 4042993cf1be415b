"""Request and response shapes of slots and reservations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from i18n import pick
from server.http import RowId
from server.reservations.models import Reservation, SlotTemplate, TimeSlot
from server.reservations.service import cancel_deadline
from server.tickets.models import Ticket, TicketStatus
from server.venues.models import Venue
from server.venues.service import crowd_level


class SlotsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    date: dt.date = Field(..., description="the day, YYYY-MM-DD")
    lang: str | None = Field(None, description="zh-CN or en")


class AlternativeOut(BaseModel):
    slot_id: int
    date: dt.date
    start: str
    end: str
    remaining: int
    crowded: bool = Field(False, description="80% booked or more: offered only after roomy ones")


class SlotOut(BaseModel):
    id: int
    date: dt.date
    start: str
    end: str
    capacity: int
    booked: int
    remaining: int
    level: str | None = Field(None, description="comfortable, busy, crowded or full")
    alternatives: list[AlternativeOut] = Field(
        default_factory=list, description="roomier slots nearby, for crowded or full ones"
    )


def slot_out(slot: TimeSlot, alternatives: list[dict] | None = None) -> SlotOut:
    """The public view of a slot, with the places still free and, if crowded, alternatives."""
    return SlotOut(
        id=slot.id,
        date=slot.date,
        start=slot.starts_at.strftime("%H:%M"),
        end=slot.ends_at.strftime("%H:%M"),
        capacity=slot.capacity,
        booked=slot.booked,
        remaining=max(slot.capacity - slot.booked, 0),
        level=crowd_level(slot.booked, slot.capacity),
        alternatives=[AlternativeOut(**alternative) for alternative in alternatives or []],
    )


class VisitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(..., min_length=1, max_length=40, description="the visitor's real name")
    id_number: str = Field(
        ..., min_length=1, max_length=32, description="18-character resident ID card number"
    )


# A booking names at most this many other slots it would take: a day's slots, at most.
MOST_OTHER_SLOTS = 24


class ReservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: RowId
    visitors: list[VisitorIn] = Field(..., min_length=1, max_length=5)
    hold_id: RowId | None = Field(None, description="book with the places of the caller's hold")
    other_slot_ids: list[RowId] = Field(
        default_factory=list,
        max_length=MOST_OTHER_SLOTS,
        description="slots the visitor would also take (服从调剂), if `slot_id` has no room for "
        "the party: the booking takes one with room, and the answer's slot says which",
    )

    @field_validator("other_slot_ids")
    @classmethod
    def _other_slots_apart(cls, value: list[int], info: ValidationInfo) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("a slot is named twice")
        if info.data.get("slot_id") in value:
            raise ValueError("names slot_id itself")
        if value and info.data.get("hold_id") is not None:
            raise ValueError("not with hold_id: a hold's places are in its own slot")
        return value


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


HHMM = Field(..., pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="local time, HH:MM")


class TemplateWindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekdays: list[int] = Field(..., min_length=1, max_length=7, description="0 = Monday")
    start: str = HHMM
    end: str = HHMM
    capacity: int = Field(..., ge=1, le=1_000_000)

    def as_window(self) -> dict:
        """The service's form of the window, with times of day."""
        return {
            "weekdays": sorted(set(self.weekdays)),
            "starts_at": dt.time.fromisoformat(self.start),
            "ends_at": dt.time.fromisoformat(self.end),
            "capacity": self.capacity,
        }

    @field_validator("weekdays")
    @classmethod
    def _weekdays_in_range(cls, value: list[int]) -> list[int]:
        if any(not 0 <= day <= 6 for day in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return value


class SlotTemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    windows: list[TemplateWindowIn] = Field(..., max_length=200)


class TemplateWindowOut(BaseModel):
    weekday: int
    start: str
    end: str
    capacity: int


def template_out(rows: list[SlotTemplate]) -> list[dict]:
    """A weekly template as the admin side shows it."""
    return [
        TemplateWindowOut(
            weekday=row.weekday,
            start=row.starts_at.strftime("%H:%M"),
            end=row.ends_at.strftime("%H:%M"),
            capacity=row.capacity,
        ).model_dump()
        for row in rows
    ]


class BookingRulesIn(BaseModel):
    """Any subset of a venue's flow limits and booking rules; null removes a cap."""

    model_config = ConfigDict(extra="forbid")

    daily_capacity: int | None = Field(None, ge=0, le=10_000_000)
    instant_capacity: int | None = Field(None, ge=0, le=10_000_000)
    booking_days_ahead: int = Field(None, ge=0, le=90)
    booking_opens_at: str = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    cancel_deadline_minutes: int = Field(None, ge=0, le=7 * 24 * 60)
    entry_early_minutes: int = Field(None, ge=0, le=24 * 60)
    entry_late_minutes: int = Field(None, ge=0, le=24 * 60)

    @model_validator(mode="after")
    def _only_caps_may_be_null(self) -> BookingRulesIn:
        for name in self.model_fields_set - {"daily_capacity", "instant_capacity"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict:
        """Only the fields the request named, in the model's types."""
        given = self.model_dump(exclude_unset=True)
        if "booking_opens_at" in given:
            given["booking_opens_at"] = dt.time.fromisoformat(given["booking_opens_at"])
        return given


class BookingRulesOut(BaseModel):
    venue_id: int
    daily_capacity: int | None
    instant_capacity: int | None
    booking_days_ahead: int
    booking_opens_at: str
    cancel_deadline_minutes: int
    entry_early_minutes: int
    entry_late_minutes: int


def booking_rules_out(venue: Venue) -> dict:
    """A venue's booking rules as the admin side shows them."""
    return BookingRulesOut(
        venue_id=venue.id,
        daily_capacity=venue.daily_capacity,
        instant_capacity=venue.instant_capacity,
        booking_days_ahead=venue.booking_days_ahead,
        booking_opens_at=venue.booking_opens_at.strftime("%H:%M"),
        cancel_deadline_minutes=venue.cancel_deadline_minutes,
        entry_early_minutes=venue.entry_early_minutes,
        entry_late_minutes=venue.entry_late_minutes,
    ).model_dump()
