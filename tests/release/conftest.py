"""Fixtures of the ticket-release tests."""

from __future__ import annotations

import pytest

from server.reservations import service as reservations


@pytest.fixture
def database_bookings(monkeypatch) -> list[int]:
    """The slot id of each booking write tried in the database (made, refused or planned again)."""
    reached: list[int] = []
    write = reservations._book_once

    async def counted(shape, values, **kwargs):
        reached.append(values["slot_id"])
        return await write(shape, values, **kwargs)

    monkeypatch.setattr(reservations, "_book_once", counted)
    return reached
