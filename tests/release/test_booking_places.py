"""A process's booking places: handed out in the order asked for, none lost or made up."""

from __future__ import annotations

import asyncio

import pytest
from conftest import prepare_database

from server.release.waiting_room import _SLOT_SHORT, _BookingPlaces


@pytest.fixture
def settings(tmp_path, migrated_template):
    # One booking place: a second booking waits for it.
    return prepare_database(tmp_path, migrated_template, booking_concurrency=1, booking_backlog=5)


async def test_places_are_handed_out_in_the_order_they_were_asked_for():
    places = _BookingPlaces(2)
    assert places.take() is None and places.take() is None and places.busy()
    waiting = [places.take() for _ in range(3)]
    assert all(handed is not None for handed in waiting)
    places.give_back()
    assert [handed.done() for handed in waiting] == [True, False, False]
    places.give_back()
    assert [handed.done() for handed in waiting] == [True, True, False]
    # Nobody asking meanwhile takes a place a waiting booking is owed.
    assert places.busy() and places.take() is not None


async def test_a_wait_ended_by_the_watcher_or_given_up_is_passed_over():
    places = _BookingPlaces(1)
    assert places.take() is None
    short, gone, next_in_line = places.take(), places.take(), places.take()
    short.set_result(_SLOT_SHORT)  # the watcher: its slot sold out, it needs no place
    gone.cancel()  # its visitor gave up
    places.give_back()
    assert next_in_line.result() is True
    places.give_back()  # the last place back, with nobody waiting: free again
    assert not places.busy() and places.take() is None


async def test_a_place_handed_to_a_booking_cancelled_before_it_resumed_goes_on(server):
    room = server.app.ctx.waiting_room
    async with room.turn():
        first = asyncio.create_task(_hold(room))
        second = asyncio.create_task(_hold(room))
        await asyncio.sleep(0.05)  # both wait for the one place
    # The place is handed to the first, which is cancelled before it runs again: the place
    # goes on to the second instead of being lost.
    first.cancel()
    assert await asyncio.wait_for(second, timeout=5) == "booked"
    assert first.cancelled()
    async with asyncio.timeout(5), room.turn() as waited:  # and it is free again after
        assert not waited


async def _hold(room) -> str:
    async with room.turn():
        return "booked"
