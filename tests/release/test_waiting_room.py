"""The waiting room: beyond what the booking path takes, a fair FIFO queue instead of errors."""

from __future__ import annotations

import asyncio
import json
import time
from functools import partial

import pytest
from conftest import prepare_database
from factories import make_reservable_venue, make_slot, make_visitor_token, people
from tortoise.expressions import F

from miniapp_api.reservations import book_queued
from release.steps import bearer, book, eventually
from server.personal_data import mask_name
from server.release import runtime
from server.reservations.models import Reservation, TimeSlot


@pytest.fixture
def settings(tmp_path, migrated_template):
    # One booking at a time and nobody waiting in memory: every overlap is queued.
    return prepare_database(tmp_path, migrated_template, booking_concurrency=1, booking_backlog=0)


async def a_slot_and_a_visitor(server, *, capacity: int):
    """A reservable slot, a visitor's session token, and the server's waiting room."""
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=capacity)
    _, token = await make_visitor_token(server.app)
    return slot, token, server.app.ctx.waiting_room


async def wait_for_outcome(server, token: str, queue_id: str) -> dict:
    for _ in range(200):
        polled = await server.client.get(f"/api/v1/queue/{queue_id}", headers=bearer(token))
        assert polled.status_code == 200, polled.text
        if polled.json()["status"] == "done":
            return polled.json()
        await asyncio.sleep(0.05)
    raise AssertionError("the queued booking never finished")


async def test_a_crowd_is_queued_in_order_and_every_queued_request_gets_its_outcome(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=6)
    room = server.app.ctx.waiting_room
    await room.stop()  # hold the queue still while the crowd arrives
    tokens = [(await make_visitor_token(server.app))[1] for _ in range(8)]
    queued = []
    for n, token in enumerate(tokens):
        async with room.turn():  # the one booking place is taken: everyone must queue
            answer = await book(server.client, token, slot.id, people(1, first_sequence=10 + n))
        assert answer.status_code == 202, answer.text
        queued.append(answer.json())
    assert [q["position"] for q in queued] == list(range(1, 9))
    assert all(q["poll"] == f"/api/v1/queue/{q['queue_id']}?wait=25" for q in queued)
    # The queued names and ID numbers are not readable in Redis.
    redis = server.app.ctx.redis
    dump = " ".join([str(await redis.hgetall(key)) for key in await redis.keys("release:*ticket*")])
    assert "游客" not in dump and people(1, first_sequence=10)[0]["id_number"] not in dump
    # A visitor holds one place in the queue at most.
    async with room.turn():
        twice = await book(server.client, tokens[0], slot.id, people(1, first_sequence=90))
    assert twice.status_code == 409 and twice.json()["error"]["queue_id"] == queued[0]["queue_id"]

    room.start(partial(book_queued, server.app), workers=1)
    outcomes = [
        await wait_for_outcome(server, token, q["queue_id"])
        for token, q in zip(tokens, queued, strict=True)
    ]
    # First come, first served: the first six booked, in queue order; the rest sold out.
    assert [o["http_status"] for o in outcomes] == [201] * 6 + [409] * 2
    assert outcomes[-1]["answer"]["error"]["code"] == "slot_full"
    ids = [o["answer"]["id"] for o in outcomes[:6]]
    assert ids == sorted(ids) and await Reservation.filter(slot_id=slot.id).count() == 6
    # A visitor whose booking is done may queue again (here: sold out at once).
    again = await book(server.client, tokens[0], slot.id, people(1, first_sequence=91))
    assert again.status_code == 409


async def test_a_request_sent_without_its_queued_form_is_queued_all_the_same(server):
    # This process found the queue empty lately, so a request goes to the door without the form
    # it would wait in (encrypted people and all). Another request is queued meanwhile: the
    # door asks for the form, and the request is queued behind, then booked as sent.
    slot, token, room = await a_slot_and_a_visitor(server, capacity=5)
    await room.stop()
    _, ahead = await make_visitor_token(server.app)
    async with room.turn():
        first = await book(server.client, ahead, slot.id, people(1, first_sequence=20))
    assert first.status_code == 202
    room._work_seen.clear()  # as after a drainer found the queue empty
    second = await book(server.client, token, slot.id, people(2, first_sequence=30))
    assert second.status_code == 202, second.text
    assert second.json()["position"] == 2
    room.start(partial(book_queued, server.app), workers=1)
    outcome = await wait_for_outcome(server, token, second.json()["queue_id"])
    assert outcome["http_status"] == 201, outcome
    booked = outcome["answer"]
    assert booked["slot"]["id"] == slot.id and booked["party_size"] == 2
    holders = sorted(ticket["holder"] for ticket in booked["tickets"])
    assert holders == sorted(mask_name(p["name"]) for p in people(2, first_sequence=30))


async def test_a_retry_of_a_queued_request_gets_its_final_answer(server):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=3)
    await room.stop()  # nobody drains until the retry below was told its place
    key = {"Idempotency-Key": "crowd-1"}
    async with room.turn():
        first = await book(server.client, token, slot.id, people(2), headers=key)
    assert first.status_code == 202
    # A retry while queued: the same place (not a second one, not a 409), and no booking.
    waiting = await book(server.client, token, slot.id, people(2), headers=key)
    assert waiting.status_code == 202, waiting.text
    assert waiting.json() | {"estimated_wait_seconds": 0} == first.json() | {
        "estimated_wait_seconds": 0
    }
    # The same key with another body is refused, queued or not.
    other = await book(server.client, token, slot.id, people(1), headers=key)
    assert other.status_code == 422
    room.start(partial(book_queued, server.app), workers=1)
    outcome = await wait_for_outcome(server, token, first.json()["queue_id"])
    assert outcome["http_status"] == 201
    retry = await book(server.client, token, slot.id, people(2), headers=key)
    assert retry.status_code == 201 and retry.json()["id"] == outcome["answer"]["id"]
    # Someone else's queue place is not theirs to see.
    _, other = await make_visitor_token(server.app)
    peek = await server.client.get(
        f"/api/v1/queue/{first.json()['queue_id']}", headers=bearer(other)
    )
    assert peek.status_code == 404


async def test_a_long_poll_answers_as_soon_as_the_outcome_is_stored(server):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=3)
    await room.stop()
    async with room.turn():
        queued = await book(server.client, token, slot.id, people(1))
    assert queued.status_code == 202 and queued.json()["poll_after_seconds"] == 0
    poll = queued.json()["poll"]
    # Nobody drains: the poll waits its whole time and says where the request stands.
    began = time.monotonic()
    still = await server.client.get(poll.replace("wait=25", "wait=0.5"), headers=bearer(token))
    assert still.status_code == 200 and still.json()["status"] == "waiting"
    assert still.json()["position"] == 1 and time.monotonic() - began >= 0.5
    # Now a poll waits, the queue is drained meanwhile, and the outcome comes at once (woken
    # through Redis by whichever process stored it), long before the 25 s are up.
    reads = []
    read_status = room._status

    async def counted(**arguments):
        reads.append(arguments["keys"][0])
        return await read_status(**arguments)

    room._status = counted
    waiting = asyncio.create_task(server.client.get(poll, headers=bearer(token)))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    began = time.monotonic()
    room.start(partial(book_queued, server.app), workers=1)
    answered = await asyncio.wait_for(waiting, timeout=10)
    assert answered.status_code == 200 and answered.json()["status"] == "done"
    assert answered.json()["http_status"] == 201 and time.monotonic() - began < 5
    # The outcome came with the wake-up: the poll read the queue once, before it waited.
    assert len(reads) == 1
    assert answered.json()["answer"]["tickets"][0]["holder"] == "游**"


@pytest.mark.parametrize("wait", ["-1", "26", "soon"])
async def test_a_poll_with_a_bad_wait_is_refused(server, wait):
    _, token = await make_visitor_token(server.app)
    answer = await server.client.get(f"/api/v1/queue/abc?wait={wait}", headers=bearer(token))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "wait"


async def test_one_drainer_watches_an_empty_queue_and_the_others_join_when_work_comes(server):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=3)
    await room.stop()
    looks = 0
    take = room._take

    async def counted_take(**arguments):
        nonlocal looks
        looks += 1
        return await take(**arguments)

    room._take = counted_take
    room.start(partial(book_queued, server.app), workers=20)
    await asyncio.sleep(1.5)
    # Each drainer looks once as it starts; then only the lead, backing off to 0.5 s apart.
    # (Twenty drainers each polling would have looked over a hundred times by now.)
    assert looks <= 20 + 8, looks
    async with room.turn():
        queued = await book(server.client, token, slot.id, people(1))
    assert queued.status_code == 202
    outcome = await asyncio.wait_for(
        wait_for_outcome(server, token, queued.json()["queue_id"]), timeout=5
    )
    assert outcome["http_status"] == 201


async def test_work_queued_by_another_process_wakes_this_ones_idle_drainers(server, monkeypatch):
    from server.release import waiting_room

    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=3)
    visitor, token = await make_visitor_token(server.app)
    here = server.app.ctx.waiting_room
    await here.stop()
    # Without a wake-up this process's lead drainer would look again only after its idle time,
    # which an empty queue lets grow (here: 10 s from its first look; the others a minute).
    monkeypatch.setattr(waiting_room, "_IDLE_SECONDS", 5.0)
    monkeypatch.setattr(waiting_room, "_IDLE_LONGEST_SECONDS", 60.0)
    monkeypatch.setattr(waiting_room, "_FOLLOWER_IDLE_SECONDS", 60.0)
    here.start(partial(book_queued, server.app), workers=2)
    await asyncio.sleep(0.5)  # every drainer has looked once and found the queue empty
    # "Another process": a second door on the same Redis, with no drainers of its own, that must
    # queue (its own booking places are all taken).
    elsewhere = waiting_room.WaitingRoom(server.app.ctx.redis, concurrency=1, backlog=0, door=1)
    async with elsewhere.turn():
        place = await elsewhere.check_in(
            visitor_id=visitor.id,
            request=lambda: {
                "visitor_id": visitor.id,
                "booking": server.app.ctx.cipher.encrypt(
                    json.dumps({"slot_id": slot.id, "visitors": people(1)})
                ),
                "language": "en",
                "key": "",
                "fingerprint": "",
            },
            rates=[],
            rate_window=60,
            slot_id=slot.id,
            party=1,
        )
    queued_at = time.monotonic()
    outcome = await asyncio.wait_for(wait_for_outcome(server, token, place.queue_id), timeout=10)
    assert outcome["http_status"] == 201
    assert time.monotonic() - queued_at < 3  # woken through Redis, not at its next look


async def test_a_queued_requests_wait_is_estimated_from_how_fast_the_queue_was_served(server):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=3)
    await room.stop()
    # 20 served over the last ten whole seconds: 2 a second, half a second each.
    now = int(time.time())
    for back in range(1, 11):
        await server.app.ctx.redis.set(f"release:{{wr}}:done:{now - back}", 2, ex=60)
    async with room.turn():
        queued = await book(server.client, token, slot.id, people(1))
    assert queued.status_code == 202
    assert queued.json()["position"] == 1
    # 0.5 s, or a little more if a second boundary fell between the counters and the answer
    assert 0.5 <= queued.json()["estimated_wait_seconds"] <= 0.6


async def test_a_queued_booking_that_prefers_to_wait_answers_its_outcome(server):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=3)
    async with room.turn():  # the one booking place is taken: the request is queued
        answering = asyncio.create_task(
            book(server.client, token, slot.id, people(2), headers={"Prefer": "wait=10"})
        )
        await asyncio.sleep(0.3)
        assert not answering.done()  # queued, and waiting for its turn rather than a 202
        # (a drainer took it and waits for this booking place)
    answer = await asyncio.wait_for(answering, timeout=5)
    # The outcome itself, in the POST's own answer: no 202 and no poll.
    assert answer.status_code == 201, answer.text
    assert answer.headers["preference-applied"] == "wait=10"
    assert len(answer.json()["tickets"]) == 2
    assert await Reservation.filter(slot_id=slot.id).count() == 1
    # Sold out meanwhile: the refusal is the answer, as it would be the poll's.
    async with room.turn():
        refusing = asyncio.create_task(
            book(server.client, token, slot.id, people(2, first_sequence=20),
                 headers={"Prefer": "wait=10"})
        )  # fmt: skip
        await asyncio.sleep(0.3)
    refused = await asyncio.wait_for(refusing, timeout=5)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "slot_full"


async def test_a_queued_booking_whose_wait_runs_out_gets_its_place(server):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=3)
    await room.stop()  # nobody drains: the outcome cannot come in time
    began = time.monotonic()
    async with room.turn():
        answer = await book(
            server.client, token, slot.id, people(1), headers={"Prefer": "wait=0.5"}
        )
    assert time.monotonic() - began >= 0.5
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "waiting" and answer.json()["position"] == 1
    assert answer.json()["poll"].endswith("?wait=25")
    room.start(partial(book_queued, server.app), workers=1)
    outcome = await wait_for_outcome(server, token, answer.json()["queue_id"])
    assert outcome["http_status"] == 201


@pytest.mark.parametrize("prefer", ["respond-async", "wait=soon", "wait=-3", "wait=nan"])
async def test_a_queued_booking_without_a_readable_wait_is_answered_at_once(server, prefer):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=3)
    await room.stop()
    began = time.monotonic()
    async with room.turn():
        answer = await book(server.client, token, slot.id, people(1), headers={"Prefer": prefer})
    assert answer.status_code == 202 and time.monotonic() - began < 0.5
    assert "preference-applied" not in answer.headers


async def test_a_queued_request_whose_slot_sold_out_is_refused_without_a_booking_place(server):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=2)
    await room.stop()
    async with room.turn():  # the one booking place, held to the end
        queued = await book(server.client, token, slot.id, people(1))
        assert queued.status_code == 202
        # Sold out while it waits (by bookings elsewhere), and the mirror told so.
        await TimeSlot.filter(id=slot.id).update(booked=2, revision=F("revision") + 1)
        await runtime.current().refresh(slot.id)
        room.start(partial(book_queued, server.app), workers=1)
        # Answered though no booking place came free: a refusal needs none.
        outcome = await asyncio.wait_for(
            wait_for_outcome(server, token, queued.json()["queue_id"]), timeout=5
        )
    assert outcome["http_status"] == 409
    assert outcome["answer"]["error"]["code"] == "slot_full"


async def taken_out(room, count: int) -> bool:
    """Whether `count` requests have been taken out of the queue (by drainers)."""
    return int(await room._redis.get("release:{wr}:served") or 0) >= count


async def queued(room, count: int) -> bool:
    """Whether `count` requests wait in the queue."""
    return await room._redis.llen("release:{wr}:queue") == count


async def test_a_waiting_request_whose_slot_sells_out_is_answered_then_not_at_its_turn(server):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=2)
    elsewhere = await make_slot(await make_reservable_venue(), capacity=10)
    ahead = [(await make_visitor_token(server.app))[1] for _ in range(2)]
    async with room.turn():  # the one booking place, held until the end
        # Two requests ahead, each taken by one of the two drainers, who wait for the place.
        for n, other in enumerate(ahead):
            taken = await book(server.client, other, elsewhere.id, people(1, first_sequence=30 + n))
            assert taken.status_code == 202
            await eventually(partial(taken_out, room, n + 1))
        waiting = asyncio.create_task(
            book(server.client, token, slot.id, people(1), headers={"Prefer": "wait=20"})
        )
        await eventually(partial(queued, room, 1))
        assert not waiting.done()  # queued behind them, its slot still has room
        # Sold out by bookings elsewhere, the mirror told: the answer comes now, though the
        # requests ahead of it still wait for the booking place.
        await TimeSlot.filter(id=slot.id).update(booked=2, revision=F("revision") + 1)
        await runtime.current().refresh(slot.id)
        refused = await asyncio.wait_for(waiting, timeout=10)  # not the 20 s of its wait
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "slot_full"
        assert refused.headers["preference-applied"] == "wait=20"

    # The drainers later skip it: the two ahead are booked, nothing else.
    async def both_ahead_booked() -> bool:
        return await Reservation.filter(slot_id=elsewhere.id).count() == 2

    await eventually(both_ahead_booked)
    assert await Reservation.filter(slot_id=slot.id).count() == 0


async def test_an_outcome_stored_while_a_waiter_tried_to_answer_out_of_turn_still_wakes_it(
    server, monkeypatch
):
    slot, token, room = await a_slot_and_a_visitor(server, capacity=2)
    place_free = asyncio.Event()

    async def hold_the_place() -> None:
        async with room.turn():
            await place_free.wait()

    holder = asyncio.create_task(hold_the_place())
    await asyncio.sleep(0)
    try_out_of_turn = room._serve_out_of_turn

    async def too_late(queue_id: str, entry: str):
        # A drainer has the request already (the try finds it running). It finishes, and its
        # outcome is stored and told, while this try's answer is still on its way back.
        tried = await try_out_of_turn(queue_id, entry)
        place_free.set()

        async def outcome_stored() -> bool:
            return await room._redis.hget(f"release:{{wr}}:ticket:{queue_id}", "state") == "done"

        await eventually(outcome_stored)
        return tried

    monkeypatch.setattr(room, "_serve_out_of_turn", too_late)
    waiting = asyncio.create_task(
        book(server.client, token, slot.id, people(1), headers={"Prefer": "wait=20"})
    )
    await eventually(partial(taken_out, room, 1))  # by a drainer, which waits for the place
    # Sold out by bookings elsewhere, the mirror told: the watcher wakes the waiter, whose try
    # comes too late; the drainer's refusal is the answer, at once, not when the wait runs out.
    await TimeSlot.filter(id=slot.id).update(booked=2, revision=F("revision") + 1)
    await runtime.current().refresh(slot.id)
    answer = await asyncio.wait_for(waiting, timeout=10)  # not the 20 s of its wait
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "slot_full"
    await holder
