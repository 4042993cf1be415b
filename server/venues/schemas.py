"""Request and response shapes of the venue catalogue."""

from __future__ import annotations

import datetime as dt
from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from i18n import pick
from server.tickets.service import Crowd
from server.venues.models import Venue, VenueKind
from server.venues.service import hours_on

NIGHT_FROM = time(20, 0)


class VenuesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    lang: str | None = Field(None, description="zh-CN or en (else Accept-Language)")
    kind: VenueKind | None = Field(None, description="only venues of this kind")
    night: bool | None = Field(None, description="only venues open after 20:00 (夜游)")


class PriceOut(BaseModel):
    name: str
    price_cents: int
    price_yuan: float


class FreeRuleOut(BaseModel):
    rule: str
    value: int | None
    discount: str
    note: str


class HoursOut(BaseModel):
    weekday: int
    opens_at: str
    closes_at: str
    last_entry_at: str | None


class TodayOut(BaseModel):
    date: dt.date
    open: bool
    open_now: bool
    opens_at: str | None
    closes_at: str | None
    last_entry_at: str | None
    closed_reason: str | None


class VenueRiskWarningOut(BaseModel):
    """A weather warning or traffic event that reaches the venue (风险预警), in one language."""

    id: int
    kind: Literal["weather", "traffic"]
    level: Literal["blue", "yellow", "orange", "red"]
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime


class VenueOut(BaseModel):
    """A venue; `level` measures `occupancy` against `capacity` when the venue has an
    instantaneous cap, else today's bookings against today's slots (`level_basis` says which)."""

    id: int
    code: str
    kind: VenueKind
    a_level: int | None
    name: str
    description: str
    address: str
    county: str
    transport: str
    latitude: float
    longitude: float
    phone: str
    website: str
    photos: list[str]
    tags: list[str]
    prices: list[PriceOut]
    free_rules: list[FreeRuleOut]
    reservable: bool
    night_open: bool
    opening_hours: list[HoursOut]
    today: TodayOut
    occupancy: int | None = Field(None, description="people inside now")
    capacity: int | None = Field(None, description="the instantaneous cap, or null")
    level: Literal["comfortable", "busy", "crowded", "full"] | None = None
    level_basis: Literal["instant_capacity", "bookings"] | None = None
    risk_warnings: list[VenueRiskWarningOut] = Field(
        default_factory=list, description="current weather and traffic warnings, worst first"
    )


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def is_night_open(venue: Venue) -> bool:
    """True when the venue stays open after 20:00 on some day (夜游)."""
    return any(h.closes_at >= NIGHT_FROM for h in venue.opening_hours)


def venue_out(
    venue: Venue,
    language: str,
    now: datetime,
    crowd: Crowd | None = None,
    risk_warnings: list[dict] | None = None,
) -> VenueOut:
    """The public view of a venue in one language, with today's hours at `now`, its crowd and
    its risk warnings (already in `language`)."""
    today = hours_on(venue, now.date())
    return VenueOut(
        id=venue.id,
        code=venue.code,
        kind=venue.kind,
        a_level=venue.a_level,
        name=pick(venue.name, language),
        description=pick(venue.description, language),
        address=pick(venue.address, language),
        county=pick(venue.county, language),
        transport=pick(venue.transport, language),
        latitude=venue.latitude,
        longitude=venue.longitude,
        phone=venue.phone,
        website=venue.website,
        photos=list(venue.photos),
        tags=list(venue.tags.get(language) or venue.tags.get("zh-CN") or []),
        prices=[
            PriceOut(
                name=pick(price["name"], language),
                price_cents=price["price_cents"],
                price_yuan=price["price_cents"] / 100,
            )
            for price in venue.prices
        ],
        free_rules=[
            FreeRuleOut(
                rule=rule["rule"],
                value=rule.get("value"),
                discount=rule["discount"],
                note=pick(rule.get("note"), language),
            )
            for rule in venue.free_rules
        ],
        reservable=venue.reservable,
        night_open=is_night_open(venue),
        opening_hours=[
            HoursOut(
                weekday=h.weekday,
                opens_at=_hhmm(h.opens_at),
                closes_at=_hhmm(h.closes_at),
                last_entry_at=_hhmm(h.last_entry_at),
            )
            for h in sorted(venue.opening_hours, key=lambda h: h.weekday)
        ],
        today=TodayOut(
            date=today.day,
            open=today.is_open_day,
            open_now=today.is_open_at(now.time()),
            opens_at=_hhmm(today.opens_at),
            closes_at=_hhmm(today.closes_at),
            last_entry_at=_hhmm(today.last_entry_at),
            closed_reason=pick(today.closing_reason, language) or None,
        ),
        occupancy=crowd.occupancy if crowd else None,
        capacity=crowd.capacity if crowd else venue.instant_capacity,
        level=crowd.level if crowd else None,
        level_basis=crowd.basis if crowd else None,
        risk_warnings=risk_warnings or [],
    )
