"""Small factories of tours for tests."""

from __future__ import annotations

import itertools
from typing import Any

from server.tours.models import Tour, TourStop

_serial = itertools.count(1)


async def make_tour(
    stops: list[tuple[float, float]], *, minutes: int = 10, **overrides: Any
) -> Tour:
    """A visible city tour through `stops` (lat, lng), in order, with zh/en names and narration."""
    number = next(_serial)
    fields: dict[str, Any] = {
        "code": f"test-tour-{number}",
        "name": {"zh-CN": f"测试路线{number}", "en": f"Test Tour {number}"},
        **overrides,
    }
    tour = await Tour.create(**fields)
    await TourStop.bulk_create(
        [
            TourStop(
                tour=tour,
                position=position,
                name={"zh-CN": f"第{position}站", "en": f"Stop {position}"},
                narration={"zh-CN": f"讲解{position}", "en": f"Narration {position}"},
                latitude=lat,
                longitude=lng,
                minutes=minutes,
            )
            for position, (lat, lng) in enumerate(stops, start=1)
        ]
    )
    return await Tour.get(id=tour.id).prefetch_related("stops")
