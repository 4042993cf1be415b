"""Live occupancy and crowd level in the venue answer, loaded for the whole list at once."""

from __future__ import annotations

import logging
from datetime import time

from factories import make_reservable_venue, make_slot, make_ticket

from server.clock import local_now


async def _venue(gate, venue_id: int) -> dict:
    answer = await gate.client.get(f"/api/v1/venues/{venue_id}")
    assert answer.status_code == 200
    return answer.json()


async def test_a_capped_venue_shows_people_inside_and_its_level(open_gate):
    gate = await open_gate(instant_capacity=5)
    tickets = [await make_ticket(gate.venue) for _ in range(5)]
    shown = await _venue(gate, gate.venue.id)
    assert (shown["occupancy"], shown["capacity"], shown["level"]) == (0, 5, "comfortable")
    assert shown["level_basis"] == "instant_capacity"
    levels = []
    for ticket in tickets:
        await gate.verdict(gate.qr(ticket))
        levels.append((await _venue(gate, gate.venue.id))["level"])
    assert levels == ["comfortable", "comfortable", "busy", "crowded", "full"]  # 20 % steps
    await gate.verdict(gate.qr(tickets[0]), "exit")
    assert (await _venue(gate, gate.venue.id))["occupancy"] == 4


async def test_without_a_cap_the_level_comes_from_todays_bookings(gate):
    today = local_now().date()
    await make_slot(gate.venue, day=today, starts=time(0), ends=time(1), capacity=10, booked=6)
    await make_slot(gate.venue, day=today, starts=time(1), ends=time(2), capacity=10, booked=4)
    shown = await _venue(gate, gate.venue.id)  # 10 of 20 places booked: 50 %
    assert (shown["capacity"], shown["level"], shown["level_basis"]) == (None, "busy", "bookings")
    assert shown["occupancy"] == 0


async def test_a_venue_without_cap_or_slots_today_has_no_level(gate):
    shown = await _venue(gate, gate.venue.id)
    assert (shown["occupancy"], shown["capacity"], shown["level"], shown["level_basis"]) == (
        0, None, None, None,
    )  # fmt: skip


async def test_the_list_shows_each_venues_crowd_loaded_in_one_query(open_gate, caplog):
    capped = await open_gate(instant_capacity=10)
    for _ in range(6):
        await capped.verdict(capped.qr(await make_ticket(capped.venue)))
    quiet = [await make_reservable_venue(instant_capacity=100) for _ in range(4)]
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        answer = await capped.client.get("/api/v1/venues")
    venues = {v["id"]: v for v in answer.json()}
    assert (venues[capped.venue.id]["occupancy"], venues[capped.venue.id]["level"]) == (6, "busy")
    assert all(venues[v.id]["level"] == "comfortable" for v in quiet)
    occupancy_queries = [r for r in caplog.records if "venue_occupancy" in r.getMessage()]
    assert len(occupancy_queries) == 1
