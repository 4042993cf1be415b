"""The admin tests' cast: two venues, each with a manager and gate staff, an admin, a supervisor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from factories import make_reservable_venue, make_slot, make_staff_token, make_visitor_token


@dataclass
class Cast:
    """Venues A and B, a slot of A, and a bearer header for each kind of caller."""

    venue_a: Any
    venue_b: Any
    slot_a: Any
    staff_a: Any  # the gate-staff account of venue A
    headers: dict[str, dict[str, str]]

    def __getitem__(self, who: str) -> dict[str, str]:
        return self.headers[who]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


@pytest.fixture
async def cast(server) -> Cast:
    venue_a = await make_reservable_venue(instant_capacity=10)
    venue_b = await make_reservable_venue()
    slot_a = await make_slot(venue_a)
    tokens = {}
    _, tokens["admin"] = await make_staff_token(server.app, None, "admin")
    _, tokens["supervisor"] = await make_staff_token(server.app, None, "supervisor")
    _, tokens["manager_a"] = await make_staff_token(server.app, venue_a, "venue_manager")
    staff_a, tokens["staff_a"] = await make_staff_token(server.app, venue_a, "venue_staff")
    _, tokens["manager_b"] = await make_staff_token(server.app, venue_b, "venue_manager")
    _, tokens["staff_b"] = await make_staff_token(server.app, venue_b, "venue_staff")
    _, tokens["visitor"] = await make_visitor_token(server.app)
    headers = {who: bearer(token) for who, token in tokens.items()}
    headers["anonymous"] = {"Accept-Language": "en"}
    return Cast(venue_a, venue_b, slot_a, staff_a, headers)
