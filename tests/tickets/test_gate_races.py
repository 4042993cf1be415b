"""Gates scanning at the same moment: a ticket admits once, the in-venue cap is never passed."""

from __future__ import annotations

import asyncio
from collections import Counter

from factories import make_slot, make_ticket

from server.tickets import service
from server.tickets.models import GateScan, Ticket, TicketStatus, VenueOccupancy

SCANS = 30


async def _scan_all_at_once(gate, qrs: list[str]) -> Counter:
    answers = await asyncio.gather(
        *(gate.scan(qr, gate=f"gate-{n % 2}") for n, qr in enumerate(qrs))
    )
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    return Counter(answer.json()["reason"] for answer in answers)


async def test_simultaneous_scans_of_one_ticket_admit_it_exactly_once(gate):
    ticket = await make_ticket(gate.venue)
    reasons = await _scan_all_at_once(gate, [gate.qr(ticket)] * SCANS)
    assert reasons == {"admitted": 1, "already_used": SCANS - 1}
    assert (await VenueOccupancy.get(venue_id=gate.venue.id)).inside == 1
    assert await GateScan.filter(admitted=True).count() == 1


async def test_canary_without_the_consumption_guard_the_race_test_sees_double_entries(
    gate, monkeypatch
):
    # Proves the test above can fail: with the guard gone, the same race admits many times.
    unguarded = service.TICKET_CONSUMPTION.removesuffix(" AND status = 'valid'")
    assert unguarded != service.TICKET_CONSUMPTION
    monkeypatch.setattr(service, "TICKET_CONSUMPTION", unguarded)
    ticket = await make_ticket(gate.venue)
    reasons = await _scan_all_at_once(gate, [gate.qr(ticket)] * SCANS)
    assert reasons["admitted"] > 1


async def test_concurrent_entries_never_pass_the_instantaneous_cap(open_gate):
    capped = await open_gate(instant_capacity=7)
    slot = await make_slot(capped.venue, capacity=100)
    tickets = [await make_ticket(capped.venue, slot=slot) for _ in range(SCANS)]
    reasons = await _scan_all_at_once(capped, [capped.qr(t) for t in tickets])
    assert reasons == {"admitted": 7, "venue_full": SCANS - 7}
    row = await VenueOccupancy.get(venue_id=capped.venue.id)
    assert (row.inside, row.entered) == (7, 7)
    statuses = Counter(
        await Ticket.filter(venue_id=capped.venue.id).values_list("status", flat=True)
    )
    assert statuses == {TicketStatus.USED: 7, TicketStatus.VALID: SCANS - 7}


async def test_concurrent_entries_and_exits_keep_the_count_exact(open_gate):
    capped = await open_gate(instant_capacity=50)
    slot = await make_slot(capped.venue, capacity=100)
    inside = [await make_ticket(capped.venue, slot=slot) for _ in range(10)]
    arriving = [await make_ticket(capped.venue, slot=slot) for _ in range(10)]
    for ticket in inside:
        assert (await capped.verdict(capped.qr(ticket)))["admitted"]
    scans = [capped.scan(capped.qr(t), "exit") for t in inside]
    scans += [capped.scan(capped.qr(t)) for t in arriving]
    answers = await asyncio.gather(*scans)
    assert all(answer.json()["admitted"] for answer in answers)
    row = await VenueOccupancy.get(venue_id=capped.venue.id)
    assert (row.inside, row.entered, row.exited) == (10, 20, 10)
