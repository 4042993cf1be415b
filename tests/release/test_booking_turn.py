"""A booking that waited in the server for its booking place is checked against the mirror again."""

from __future__ import annotations

import asyncio

import pytest
from conftest import prepare_database
from factories import make_reservable_venue, make_slot, make_visitor_token, people
from tortoise.expressions import F

from release.steps import book, eventually
from server.release import runtime
from server.reservations.models import Reservation, TimeSlot


@pytest.fixture
def settings(tmp_path, migrated_template):
    # One booking at a time, and a few more may wait for it in memory (not queued in Redis).
    return prepare_database(tmp_path, migrated_template, booking_concurrency=1, booking_backlog=5)


async def booked_after_waiting_for_the_place(server, *, sold_out_meanwhile: bool):
    """A booking that passes the door and waits for the one booking place (held here); the
    slot sells out meanwhile if asked; the booking's answer once the place is free."""
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=2)
    _, token = await make_visitor_token(server.app)
    room = server.app.ctx.waiting_room
    async with room.turn():
        booking = asyncio.create_task(book(server.client, token, slot.id, people(1)))

        async def waits_for_the_place() -> bool:
            return room._waiting_here == 1

        await eventually(waits_for_the_place)  # in memory, not queued
        assert not booking.done()
        if sold_out_meanwhile:  # by bookings on another process, the mirror told
            await TimeSlot.filter(id=slot.id).update(booked=2, revision=F("revision") + 1)
            await runtime.current().refresh(slot.id)
    return slot, await booking


async def test_a_booking_whose_slot_sold_out_while_it_waited_is_refused_by_the_mirror(
    server, database_bookings
):
    slot, answer = await booked_after_waiting_for_the_place(server, sold_out_meanwhile=True)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "slot_full"
    assert answer.json()["error"]["remaining"] == 0
    # Refused without a database write: the place it waited for was not spent on a refusal.
    assert database_bookings == []
    assert await Reservation.filter(slot_id=slot.id).count() == 0


async def test_a_booking_that_waited_for_a_slot_with_room_is_made(server, database_bookings):
    slot, answer = await booked_after_waiting_for_the_place(server, sold_out_meanwhile=False)
    assert answer.status_code == 201, answer.text
    # Written (once more if the slot rows it planned from were stale: PostgreSQL's one statement
    # then refuses as "stale", and the booking plans again).
    assert database_bookings and set(database_bookings) == {slot.id}
    assert await Reservation.filter(slot_id=slot.id).count() == 1


async def test_a_waiting_booking_whose_slot_sells_out_is_refused_before_its_turn(
    server, database_bookings
):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=2)
    _, token = await make_visitor_token(server.app)
    room = server.app.ctx.waiting_room
    async with room.turn():  # the one booking place stays taken throughout
        booking = asyncio.create_task(book(server.client, token, slot.id, people(1)))

        async def waits_for_the_place() -> bool:
            return room._waiting_here == 1

        await eventually(waits_for_the_place)
        await TimeSlot.filter(id=slot.id).update(booked=2, revision=F("revision") + 1)
        await runtime.current().refresh(slot.id)
        # Answered while the place is still taken: the watcher read the mirror.
        answer = await asyncio.wait_for(booking, timeout=5)
        assert room._waiting_here == 0
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "slot_full"
    assert database_bookings == []
