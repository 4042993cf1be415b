"""Request and response shapes of time slots."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from server.reservations.models import TimeSlot


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
