"""Small factories for recommendation tests: open venues, visitors, occupancy."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from typing import Any

from server.accounts.models import Visitor
from server.clock import LOCAL_TZ
from server.venues.models import OpeningHours, Venue, VenueKind

# A Wednesday morning: every demo venue is open (the museum rests on Mondays).
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=LOCAL_TZ)
_serial = itertools.count(1)


def texts(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


async def make_visitor() -> Visitor:
    """A mini-program visitor."""
    return await Visitor.create(openid=f"recommend-visitor-{next(_serial)}")


async def make_open_venue(
    name: tuple[str, str],
    *,
    kind: VenueKind = VenueKind.MUSEUM,
    tags: tuple[list[str], list[str]] = ([], []),
    description: tuple[str, str] = ("", ""),
    opens: time = time(8),
    closes: time = time(22),
    **overrides: Any,
) -> Venue:
    """A venue in central Wenzhou open every day from `opens` to `closes`."""
    venue = await Venue.create(
        code=f"recommend-venue-{next(_serial)}",
        kind=kind,
        name=texts(*name),
        tags={"zh-CN": tags[0], "en": tags[1]},
        description=texts(*description),
        latitude=28.0,
        longitude=120.65,
        **overrides,
    )
    await OpeningHours.bulk_create(
        [
            OpeningHours(venue=venue, weekday=day, opens_at=opens, closes_at=closes)
            for day in range(7)
        ]
    )
    return venue


async def set_inside(venue: Venue, day: date, inside: int) -> None:
    """How many people are inside the venue on `day` (as the gate would have counted)."""
    from server.tickets.models import VenueOccupancy

    await VenueOccupancy.update_or_create(
        venue_id=venue.id, date=day, defaults={"inside": inside, "entered": inside}
    )
