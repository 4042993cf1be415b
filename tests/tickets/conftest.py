"""A gate at a test venue: its staff member's token and helpers to scan over HTTP."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from factories import make_reservable_venue, make_staff_token

from server.tickets import service as tickets
from server.tickets.models import Ticket
from server.venues.models import Venue

# Entry tolerance wide enough that tomorrow's default slot can be scanned now, at any hour.
WIDE_OPEN_MINUTES = 3 * 24 * 60


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Gate:
    """A venue with a gate account, scanning through the running test server."""

    server: Any
    venue: Venue
    staff_id: int
    token: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.server.client

    def qr(self, ticket: Ticket, *, at: float | None = None) -> str:
        """The QR text the visitor's phone shows for `ticket` (signed at `at`, default now)."""
        text, _ = tickets.qr_text(self.server.app.ctx.signer, ticket, now=at or time.time())
        return text

    async def scan(self, qr: str, direction: str = "entry", **extra: Any) -> httpx.Response:
        return await self.client.post(
            "/api/v1/gate/scan",
            json={"qr": qr, "direction": direction, **extra},
            headers={**bearer(self.token), "Accept-Language": "en"},
        )

    async def verdict(self, qr: str, direction: str = "entry") -> dict:
        """The scan answer, asserting it is a normal 200 answer."""
        answer = await self.scan(qr, direction)
        assert answer.status_code == 200, answer.text
        return answer.json()


OpenGate = Callable[..., Awaitable[Gate]]


@pytest.fixture
def open_gate(server) -> OpenGate:
    """Make a reservable venue (fields overridable) with a gate account of `role`."""

    async def open_gate(role: str = "venue_staff", **venue_fields: Any) -> Gate:
        venue = await make_reservable_venue(
            **{"entry_early_minutes": WIDE_OPEN_MINUTES, **venue_fields}
        )
        staff, token = await make_staff_token(server.app, venue, role=role)
        return Gate(server, venue, staff.id, token)

    return open_gate


@pytest.fixture
async def gate(open_gate: OpenGate) -> Gate:
    """A gate of a venue without an instantaneous cap."""
    return await open_gate()
