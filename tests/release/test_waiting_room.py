"""The waiting room: beyond what the booking path takes, a fair FIFO queue instead of errors."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from conftest import prepare_database
from factories import make_reservable_venue, make_slot, make_visitor_token, people

from miniapp_api.reservations import book_queued
from release.steps import bearer, book
from server.reservations.models import Reservation


@pytest.fixture
def settings(tmp_path, migrated_template):
    # One booking at a time and nobody waiting in memory: every overlap is queued.
    return prepare_database(tmp_path, migrated_template, booking_concurrency=1, booking_backlog=0)


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
    await room.stop_draining()  # hold the queue still while the crowd arrives
    tokens = [(await make_visitor_token(server.app))[1] for _ in range(8)]
    queued = []
    for n, token in enumerate(tokens):
        async with room.turn():  # the one booking place is taken: everyone must queue
            answer = await book(server.client, token, slot.id, people(1, first_sequence=10 + n))
        assert answer.status_code == 202, answer.text
        queued.append(answer.json())
    assert [q["position"] for q in queued] == list(range(1, 9))
    assert all(q["poll"] == f"/api/v1/queue/{q['queue_id']}" for q in queued)
    # The queued names and ID numbers are not readable in Redis.
    redis = server.app.ctx.redis
    dump = " ".join([str(await redis.hgetall(key)) for key in await redis.keys("release:*ticket*")])
    assert "游客" not in dump and people(1, first_sequence=10)[0]["id_number"] not in dump
    # A visitor holds one place in the queue at most.
    async with room.turn():
        twice = await book(server.client, tokens[0], slot.id, people(1, first_sequence=90))
    assert twice.status_code == 409 and twice.json()["error"]["queue_id"] == queued[0]["queue_id"]

    room.start_draining(partial(book_queued, server.app), workers=1)
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


async def test_a_retry_of_a_queued_request_gets_its_final_answer(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=3)
    _, token = await make_visitor_token(server.app)
    room = server.app.ctx.waiting_room
    key = {"Idempotency-Key": "crowd-1"}
    async with room.turn():
        first = await book(server.client, token, slot.id, people(2), headers=key)
    assert first.status_code == 202
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
