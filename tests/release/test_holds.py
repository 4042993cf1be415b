"""Hold-then-confirm: places held for minutes, used by a booking, or given back on expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from factories import make_reservable_venue, make_slot, make_visitor_token, people

from release.steps import bearer, book
from server.clock import local_now
from server.release import service as holds
from server.release.models import HoldStatus, SlotHold
from server.reservations.models import TimeSlot


async def hold(server, token: str, slot_id: int, places: int):
    return await server.client.post(
        "/api/v1/holds", json={"slot_id": slot_id, "places": places}, headers=bearer(token)
    )


async def test_a_hold_claims_places_and_a_booking_uses_them(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=4)
    _, token = await make_visitor_token(server.app)
    held = await hold(server, token, slot.id, 3)
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "held" and (await TimeSlot.get(id=slot.id)).booked == 3
    # Another visitor sees only what is left.
    _, other = await make_visitor_token(server.app)
    assert (
        await book(server.client, other, slot.id, people(2, first_sequence=50))
    ).status_code == 409
    # The holder books two of the three: the third goes back at once.
    booked = await book(server.client, token, slot.id, people(2), hold_id=held.json()["id"])
    assert booked.status_code == 201, booked.text
    assert (await TimeSlot.get(id=slot.id)).booked == 2
    assert (await SlotHold.get(id=held.json()["id"])).status == HoldStatus.USED
    # A used hold cannot be used twice.
    again = await book(server.client, token, slot.id, people(1, first_sequence=70),
                       hold_id=held.json()["id"])  # fmt: skip
    assert again.status_code == 409 and again.json()["error"]["code"] == "hold_not_usable"


async def test_one_live_hold_per_visitor_and_nobody_uses_another_visitors_hold(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=10)
    _, token = await make_visitor_token(server.app)
    first = await hold(server, token, slot.id, 1)
    second = await hold(server, token, slot.id, 1)
    assert second.status_code == 409
    assert second.json()["error"] == second.json()["error"] | {
        "code": "hold_already_active",
        "hold_id": first.json()["id"],
    }
    _, thief = await make_visitor_token(server.app)
    stolen = await book(server.client, thief, slot.id, people(1), hold_id=first.json()["id"])
    assert stolen.status_code == 409 and stolen.json()["error"]["code"] == "hold_not_usable"
    seen = await server.client.get(f"/api/v1/holds/{first.json()['id']}", headers=bearer(thief))
    assert seen.status_code == 404


async def test_an_abandoned_hold_expires_and_returns_its_places(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=2)
    _, token = await make_visitor_token(server.app)
    held = (await hold(server, token, slot.id, 2)).json()
    _, other = await make_visitor_token(server.app)
    assert (
        await book(server.client, other, slot.id, people(1, first_sequence=9))
    ).status_code == 409
    assert await holds.expire_holds(now=local_now()) == 0  # not due yet
    assert await holds.expire_holds(now=local_now() + timedelta(minutes=6)) == 1
    assert (await SlotHold.get(id=held["id"])).status == HoldStatus.EXPIRED
    assert (await TimeSlot.get(id=slot.id)).booked == 0
    # The mirror was told: the other visitor books at once.
    assert (
        await book(server.client, other, slot.id, people(1, first_sequence=9))
    ).status_code == 201
    # Expired is expired, also for its owner; a new hold is allowed now.
    late = await book(server.client, token, slot.id, people(1), hold_id=held["id"])
    assert late.status_code == 409
    assert (await hold(server, token, slot.id, 1)).status_code == 201


async def test_booking_with_a_hold_and_its_expiry_at_the_same_moment_return_places_once(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=3)
    for attempt in range(5):
        _, token = await make_visitor_token(server.app)
        held = (await hold(server, token, slot.id, 1)).json()
        outcomes = await asyncio.gather(
            book(server.client, token, slot.id, people(1, first_sequence=200 + attempt),
                 hold_id=held["id"]),
            holds.expire_holds(now=local_now() + timedelta(minutes=10)),
        )  # fmt: skip
        booked, expired = outcomes[0].status_code == 201, outcomes[1] == 1
        assert booked != expired, (outcomes[0].text, outcomes[1])
        fresh = await TimeSlot.get(id=slot.id)
        confirmed = await SlotHold.filter(status=HoldStatus.USED).count()
        assert fresh.booked == confirmed
        if fresh.booked >= 3:
            break


async def test_releasing_a_hold_gives_the_places_back(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=2)
    _, token = await make_visitor_token(server.app)
    held = (await hold(server, token, slot.id, 2)).json()
    released = await server.client.delete(f"/api/v1/holds/{held['id']}", headers=bearer(token))
    assert released.status_code == 200 and released.json()["status"] == "released"
    assert (await TimeSlot.get(id=slot.id)).booked == 0
