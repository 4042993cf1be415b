"""服从调剂: a booking that names other slots its visitor would also take is made in one of them
when its own slot has no room, on each path a booking takes (the door, its turn, the queue)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import time, timedelta
from functools import partial

import pytest
from concurrency.test_oversell import audit_slot
from conftest import prepare_database
from factories import make_reservable_venue, make_slot, make_visitor_token, people
from tortoise.expressions import F

from miniapp_api.reservations import book_queued
from release.steps import bearer, book, eventually
from server.clock import local_now
from server.release import runtime
from server.reservations.models import Reservation, TimeSlot


@pytest.fixture
def settings(tmp_path, migrated_template):
    # One booking at a time and a few more waiting in memory for it; a low account rate.
    return prepare_database(
        tmp_path,
        migrated_template,
        booking_concurrency=1,
        booking_backlog=5,
        booking_requests_per_account_minute=2,
    )


async def a_day(*places: tuple[int, int]) -> list[TimeSlot]:
    """One venue's slots of a day, an hour each from 9:00, with (capacity, booked) places."""
    venue = await make_reservable_venue()
    return [
        await make_slot(
            venue, starts=time(9 + n), ends=time(10 + n), capacity=capacity, booked=booked
        )
        for n, (capacity, booked) in enumerate(places)
    ]


async def taken_out(room, count: int) -> bool:
    """Whether `count` requests have been taken out of the queue (by drainers)."""
    return int(await room._redis.get("release:{wr}:served") or 0) >= count


async def mirror_knows(*slots: TimeSlot) -> None:
    """The mirror told each slot's places, as a booking elsewhere would have told it."""
    for slot in slots:
        await runtime.current().refresh(slot.id)


def booked_slot(answer) -> int:
    assert answer.status_code == 201, answer.text
    return answer.json()["slot"]["id"]


async def places_booked(*slots: TimeSlot) -> list[int]:
    return [(await TimeSlot.get(id=slot.id)).booked for slot in slots]


async def test_a_booking_its_slot_refuses_is_made_in_another_the_visitor_named(
    server, database_bookings
):
    full, other = await a_day((2, 1), (5, 0))
    _, token = await make_visitor_token(server.app)
    answer = await book(server.client, token, full.id, people(2), other_slot_ids=[other.id])
    assert booked_slot(answer) == other.id
    assert answer.json()["party_size"] == 2 and len(answer.json()["tickets"]) == 2
    assert await places_booked(full, other) == [1, 2]
    # The database refused the first slot (the mirror did not know it was short), then booked.
    # (On PostgreSQL a write planned from stale rows runs again: a slot may come twice in a row.)
    assert list(dict.fromkeys(database_bookings)) == [full.id, other.id]


async def test_a_slot_the_mirror_knows_is_full_is_passed_over_at_the_door(
    server, database_bookings
):
    full, other = await a_day((3, 3), (5, 0))
    await mirror_knows(full)
    _, token = await make_visitor_token(server.app)
    answer = await book(server.client, token, full.id, people(1), other_slot_ids=[other.id])
    assert booked_slot(answer) == other.id
    # No database write for the full slot: the door's check moved the booking on.
    assert set(database_bookings) == {other.id}


async def test_a_booking_moves_only_to_slots_named_each_tried_once(server, database_bookings):
    full, also_full, unnamed = await a_day((1, 1), (2, 2), (9, 0))
    _, token = await make_visitor_token(server.app)
    answer = await book(server.client, token, full.id, people(1), other_slot_ids=[also_full.id])
    assert answer.status_code == 409, answer.text
    refusal = answer.json()["error"]
    assert refusal["code"] == "slot_full"
    assert [s["slot_id"] for s in refusal["suggestions"]] == [unnamed.id]
    assert await places_booked(full, also_full, unnamed) == [1, 2, 0]
    assert list(dict.fromkeys(database_bookings)) == [full.id, also_full.id]


async def test_of_the_slots_named_one_with_room_is_taken_before_a_full_one(
    server, database_bookings
):
    full, also_full, roomy, tight = await a_day((1, 1), (2, 2), (9, 0), (3, 1))
    await mirror_knows(full, also_full)
    _, token = await make_visitor_token(server.app)
    answer = await book(
        server.client,
        token,
        full.id,
        people(2),
        other_slot_ids=[also_full.id, roomy.id, tight.id],
    )
    # Named first, but the refusal's suggestions (slots with room) come before it.
    assert booked_slot(answer) in {roomy.id, tight.id}
    assert also_full.id not in database_bookings


async def test_a_slot_named_that_cannot_be_booked_now_is_passed_over(server):
    full, roomy = await a_day((1, 1), (4, 0))
    over = await make_slot(
        await make_reservable_venue(), day=local_now().date() - timedelta(days=1), capacity=9
    )
    gone = roomy.id + 1000
    _, token = await make_visitor_token(server.app)
    for n, others in enumerate(([over.id, gone, roomy.id], [over.id, gone])):
        answer = await book(
            server.client, token, full.id, people(1, first_sequence=n), other_slot_ids=others
        )
        if roomy.id in others:
            assert booked_slot(answer) == roomy.id
        else:  # the answer is about the slot asked for: full, not "over" or "not found"
            assert answer.status_code == 409, answer.text
            assert answer.json()["error"]["code"] == "slot_full"
    assert await places_booked(full, roomy, over) == [1, 1, 0]


async def test_a_request_counts_once_against_the_rates_whatever_slots_it_tries(server):
    full, roomy = await a_day((1, 1), (1, 0))
    await mirror_knows(full)
    _, token = await make_visitor_token(server.app)
    answers = [
        await book(
            server.client, token, full.id, people(1, first_sequence=n), other_slot_ids=[roomy.id]
        )
        for n in range(3)
    ]
    # Two requests a minute for this account. The first passes the door twice (its slot, then
    # the other it moves on to and books); the second finds both full; the third is over.
    assert [a.status_code for a in answers] == [201, 409, 429], [a.text for a in answers]


async def test_a_booking_whose_slot_sells_out_while_it_waits_its_turn_takes_another(server):
    slot, other = await a_day((2, 0), (4, 0))
    _, token = await make_visitor_token(server.app)
    room = server.app.ctx.waiting_room
    async with room.turn():  # the one booking place is taken
        booking = asyncio.create_task(
            book(server.client, token, slot.id, people(1), other_slot_ids=[other.id])
        )

        async def waits_for_the_place() -> bool:
            return room._waiting_here == 1

        await eventually(waits_for_the_place)
        # Sold out meanwhile by bookings elsewhere, and the mirror told.
        await TimeSlot.filter(id=slot.id).update(booked=2, revision=F("revision") + 1)
        await mirror_knows(slot)

        async def waits_for_the_other_slot() -> bool:
            return any(key.endswith(f":{other.id}") for key in room._watched)

        await eventually(waits_for_the_other_slot)
        assert not booking.done()
    assert booked_slot(await booking) == other.id
    assert await places_booked(slot, other) == [2, 1]


async def test_a_queued_booking_whose_slot_sold_out_is_made_in_another(server):
    slot, other = await a_day((2, 0), (4, 0))
    _, token = await make_visitor_token(server.app)
    room = server.app.ctx.waiting_room
    await room.stop()  # the queue holds still until the slot is sold out
    room._backlog = 0  # nobody waits in memory: a booking meeting a taken place is queued
    async with room.turn():
        queued = await book(server.client, token, slot.id, people(1), other_slot_ids=[other.id])
        assert queued.status_code == 202, queued.text
    await TimeSlot.filter(id=slot.id).update(booked=2, revision=F("revision") + 1)
    await mirror_knows(slot)
    room.start(partial(book_queued, server.app), workers=1)
    queue_id = queued.json()["queue_id"]
    polled = await server.client.get(
        f"/api/v1/queue/{queue_id}", params={"wait": 10}, headers=bearer(token)
    )
    outcome = polled.json()
    assert outcome["status"] == "done" and outcome["http_status"] == 201, outcome
    assert outcome["answer"]["slot"]["id"] == other.id
    assert await Reservation.filter(slot_id=other.id).count() == 1


async def test_a_queued_booking_naming_other_slots_keeps_its_turn_when_its_slot_sells_out(
    server,
):
    slot, other = await a_day((2, 0), (9, 0))
    tokens = [(await make_visitor_token(server.app))[1] for _ in range(3)]
    room = server.app.ctx.waiting_room
    room._backlog = 0  # nobody waits in memory: a booking meeting a taken place is queued
    async with room.turn():  # the one booking place, held until all three are queued
        first = await book(server.client, tokens[0], other.id, people(1, first_sequence=1))
        await eventually(partial(taken_out, room, 1))  # the one drainer waits for the place
        second = await book(server.client, tokens[1], other.id, people(1, first_sequence=2))
        third = await book(
            server.client, tokens[2], slot.id, people(1, first_sequence=3),
            other_slot_ids=[other.id],
        )  # fmt: skip
        assert [a.status_code for a in (first, second, third)] == [202] * 3
        # The third's slot sells out. It would take another slot, so selling out does not make
        # it a refusal to answer out of turn: it stays queued behind the second.
        await TimeSlot.filter(id=slot.id).update(booked=2, revision=F("revision") + 1)
        await mirror_knows(slot)
        queue_id = third.json()["queue_id"]
        polled = await server.client.get(
            f"/api/v1/queue/{queue_id}", params={"wait": 1}, headers=bearer(tokens[2])
        )
        assert polled.json()["status"] == "waiting"
        assert await room._redis.hget(f"release:{{wr}}:ticket:{queue_id}", "state") == "waiting"
    outcomes = []
    for token, queued in zip(tokens, (first, second, third), strict=True):
        polled = await server.client.get(
            f"/api/v1/queue/{queued.json()['queue_id']}", params={"wait": 10}, headers=bearer(token)
        )
        outcomes.append(polled.json())
    assert [o["http_status"] for o in outcomes] == [201] * 3, outcomes
    assert all(o["answer"]["slot"]["id"] == other.id for o in outcomes)
    ids = [o["answer"]["id"] for o in outcomes]
    assert ids == sorted(ids)  # booked in the order they queued


async def test_a_retry_of_a_booking_made_in_another_slot_gets_that_booking(server):
    full, other = await a_day((1, 1), (4, 0))
    _, token = await make_visitor_token(server.app)
    party, key = people(2), {"Idempotency-Key": "try-1"}
    first, again = [
        await book(server.client, token, full.id, party, other_slot_ids=[other.id], headers=key)
        for _ in range(2)
    ]
    assert booked_slot(first) == booked_slot(again) == other.id
    assert first.json()["id"] == again.json()["id"]
    assert await places_booked(full, other) == [1, 2]


async def test_a_crowd_moving_on_between_two_slots_fills_each_exactly(server):
    first, second = await a_day((10, 0), (10, 0))
    tokens = [(await make_visitor_token(server.app))[1] for _ in range(60)]
    # Three of four ask for the first slot, and would take the second too; the rest the other
    # way round. One booking place: the others wait in memory or in the queue, for their outcome.
    asked = [(first, second) if n % 4 else (second, first) for n in range(60)]
    answers = await asyncio.gather(
        *(
            book(
                server.client,
                token,
                wanted.id,
                people(1, first_sequence=n),
                other_slot_ids=[other.id],
                headers={"Prefer": "wait=25"},
            )
            for n, (token, (wanted, other)) in enumerate(zip(tokens, asked, strict=True))
        )
    )
    assert Counter(a.status_code for a in answers) == {201: 20, 409: 40}
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"slot_full"}
    booked_in = [
        (a.json()["slot"]["id"], wanted.id)
        for a, (wanted, _) in zip(answers, asked, strict=True)
        if a.status_code == 201
    ]
    assert Counter(slot for slot, _ in booked_in) == {first.id: 10, second.id: 10}
    assert any(slot != wanted for slot, wanted in booked_in)  # some moved on
    for slot in (first, second):
        assert await audit_slot(slot.id) == []


@pytest.mark.parametrize(
    ("others", "detail"),
    [
        (lambda slot: [slot + 1, slot + 1], "named twice"),
        (lambda slot: [slot], "names slot_id"),
        (lambda slot: list(range(slot + 1, slot + 26)), "at most 24"),
        (lambda slot: ["nine"], "integer"),
        (lambda slot: [0], "greater than"),
    ],
)
async def test_bad_other_slots_are_refused_naming_the_field(server, others, detail):
    (slot,) = await a_day((5, 0))
    _, token = await make_visitor_token(server.app)
    answer = await book(server.client, token, slot.id, people(1), other_slot_ids=others(slot.id))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"].startswith("other_slot_ids") and detail in error["message"]
    assert await places_booked(slot) == [0]


async def test_other_slots_are_refused_with_a_hold(server):
    slot, other = await a_day((5, 0), (5, 0))
    _, token = await make_visitor_token(server.app)
    answer = await book(
        server.client, token, slot.id, people(1), hold_id=1, other_slot_ids=[other.id]
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "other_slot_ids"
