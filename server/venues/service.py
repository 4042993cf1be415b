"""The venue catalogue: listing, lookup and whether a venue is open at a given moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from server.venues.errors import VenueNotFound
from server.venues.models import ClosingDay, OpeningHours, Venue, VenueKind


@dataclass(frozen=True)
class DayHours:
    """A venue's hours on one date; `opens_at` is None when it is closed that day."""

    day: date
    opens_at: time | None
    closes_at: time | None
    last_entry_at: time | None
    closing_reason: dict | None = None

    @property
    def is_open_day(self) -> bool:
        """True when the venue opens at all on this date."""
        return self.opens_at is not None

    def is_open_at(self, moment: time) -> bool:
        """True when the venue is open at `moment` of this day."""
        return self.is_open_day and self.opens_at <= moment < self.closes_at


async def list_venues(
    *, kind: VenueKind | None = None, include_hidden: bool = False
) -> list[Venue]:
    """The catalogue, ordered by id, with opening hours and closing days loaded."""
    query = Venue.all()
    if kind is not None:
        query = query.filter(kind=kind)
    if not include_hidden:
        query = query.filter(hidden=False)
    return await query.order_by("id").prefetch_related("opening_hours", "closing_days")


async def get_venue(*, venue_id: int, include_hidden: bool = False) -> Venue:
    """One venue with its hours; VenueNotFound if there is none (or it is hidden)."""
    query = Venue.filter(id=venue_id)
    if not include_hidden:
        query = query.filter(hidden=False)
    venue = await query.prefetch_related("opening_hours", "closing_days").first()
    if venue is None:
        raise VenueNotFound(venue_id=venue_id)
    return venue


async def get_venue_by_code(code: str) -> Venue:
    """One venue by its code (used by staff tools and the CLI)."""
    venue = await Venue.get_or_none(code=code)
    if venue is None:
        raise VenueNotFound(venue_id=code)
    return venue


def hours_on(venue: Venue, day: date) -> DayHours:
    """The venue's hours on `day`, honouring closing days (needs hours and closing days loaded)."""
    closing = next((c for c in venue.closing_days if c.date == day), None)
    if closing is not None:
        return DayHours(day, None, None, None, closing_reason=closing.reason)
    regular: OpeningHours | None = next(
        (h for h in venue.opening_hours if h.weekday == day.weekday()), None
    )
    if regular is None:
        return DayHours(day, None, None, None)
    return DayHours(day, regular.opens_at, regular.closes_at, regular.last_entry_at)


async def closing_days_between(*, venue_id: int, first: date, last: date) -> set[date]:
    """The special closing days of a venue within [first, last]."""
    rows = await ClosingDay.filter(venue_id=venue_id, date__gte=first, date__lte=last)
    return {row.date for row in rows}


CROWD_LEVELS = ((0.5, "comfortable"), (0.8, "busy"), (1.0, "crowded"))


def crowd_level(count: int, capacity: int | None) -> str | None:
    """comfortable (<50%), busy (<80%), crowded (<100%) or full; None without a capacity."""
    if not capacity:
        return None
    share = count / capacity
    return next((level for limit, level in CROWD_LEVELS if share < limit), "full")


def is_open_now(venue: Venue, now: datetime) -> bool:
    """True when the venue is open at `now` (local time)."""
    return hours_on(venue, now.date()).is_open_at(now.time())
