"""Small factories of model rows for tests: sensible defaults, any field overridable."""

from __future__ import annotations

import itertools
from typing import Any

from server.venues.models import Venue, VenueKind

_serial = itertools.count(1)


async def make_venue(**overrides: Any) -> Venue:
    """A museum in Wenzhou with a unique code; keyword arguments replace any field."""
    number = next(_serial)
    fields: dict[str, Any] = {
        "code": f"test-venue-{number}",
        "kind": VenueKind.MUSEUM,
        "name": {"zh-CN": f"测试馆{number}", "en": f"Test Hall {number}"},
        "latitude": 28.0,
        "longitude": 120.6,
    }
    fields.update(overrides)
    return await Venue.create(**fields)
