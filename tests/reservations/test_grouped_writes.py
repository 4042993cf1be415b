"""Group commit: the bookings of a slot that wait for another of its bookings go together, one
call for all, and each still gets exactly the outcome it would have got alone."""

from __future__ import annotations

import asyncio
from datetime import date, time

import asyncpg
import pytest
from conftest import BACKEND, TEST_DATABASE_URL
from factories import make_id_number, make_reservable_venue, make_slot, until_someone_waits_for

from server.accounts.models import Visitor
from server.clock import local_now
from server.errors import AppError
from server.personal_data import FieldCipher
from server.reservations import service
from server.reservations.models import PersonDayClaim, Reservation, TimeSlot
from server.reservations.together import WRITE_ALONE, GroupedWrites
from server.tickets.models import Ticket

pytestmark = pytest.mark.usefixtures("default_runtime")
CIPHER = FieldCipher(b"test-secret")


class Recorder:
    """An `alone` and a `together` that note their calls; "first" waits for `gate`."""

    def __init__(self, together_answers=None) -> None:
        self.calls: list[tuple[str, object]] = []
        self.gate = asyncio.Event()
        self.together_answers = together_answers

    async def alone(self, item: str) -> str:
        self.calls.append(("alone", item))
        if item == "first":
            await self.gate.wait()
        if item == "bad":
            raise ValueError("bad alone")
        return f"{item}: alone"

    async def together(self, items: list[str]) -> list[object]:
        self.calls.append(("together", list(items)))
        if self.together_answers is not None:
            return self.together_answers(items)
        return [f"{item}: together" for item in items]


async def until_waiting(writes: GroupedWrites, count: int) -> None:
    for _ in range(500):
        if writes.waiting() == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{writes.waiting()} writes wait, not {count}")


async def test_writes_coming_while_one_is_on_its_way_go_together_when_it_is_back():
    recorder = Recorder()
    writes = GroupedWrites(recorder.alone, recorder.together, most=10)
    first = asyncio.create_task(writes.write("slot", "first"))
    await asyncio.sleep(0)
    later = [asyncio.create_task(writes.write("slot", item)) for item in ("a", "b", "c")]
    await until_waiting(writes, 3)
    # Another key has nothing on its way: it goes at once, alone.
    assert await writes.write("other slot", "x") == "x: alone"
    assert recorder.calls == [("alone", "first"), ("alone", "x")]

    recorder.gate.set()
    assert await first == "first: alone"
    assert await asyncio.gather(*later) == ["a: together", "b: together", "c: together"]
    assert recorder.calls[2:] == [("together", ["a", "b", "c"])]
    assert writes.waiting() == 0
    # Nothing on its way any more: the next write of the slot goes alone again.
    assert await writes.write("slot", "d") == "d: alone"


async def test_each_write_of_a_group_gets_its_own_outcome():
    def answers(items: list[str]) -> list[object]:
        return [ValueError("a refused"), WRITE_ALONE, "c: together"]

    recorder = Recorder(answers)
    writes = GroupedWrites(recorder.alone, recorder.together, most=10)
    first = asyncio.create_task(writes.write("slot", "first"))
    await asyncio.sleep(0)
    later = [asyncio.create_task(writes.write("slot", item)) for item in ("a", "b", "c")]
    await until_waiting(writes, 3)
    recorder.gate.set()
    outcomes = await asyncio.gather(first, *later, return_exceptions=True)
    assert outcomes[0] == "first: alone"
    assert isinstance(outcomes[1], ValueError) and str(outcomes[1]) == "a refused"
    assert outcomes[2:] == ["b: alone", "c: together"]  # WRITE_ALONE: written again, alone


async def test_a_failed_group_call_sends_each_write_alone():
    def answers(items: list[str]) -> list[object]:
        raise ConnectionError("the database went away")

    recorder = Recorder(answers)
    writes = GroupedWrites(recorder.alone, recorder.together, most=10)
    first = asyncio.create_task(writes.write("slot", "first"))
    await asyncio.sleep(0)
    later = [asyncio.create_task(writes.write("slot", item)) for item in ("a", "bad")]
    await until_waiting(writes, 2)
    recorder.gate.set()
    outcomes = await asyncio.gather(first, *later, return_exceptions=True)
    assert outcomes[:2] == ["first: alone", "a: alone"]
    assert isinstance(outcomes[2], ValueError)  # its own error, from its own write


async def test_groups_are_at_most_most_and_a_single_waiting_write_goes_alone():
    recorder = Recorder()
    writes = GroupedWrites(recorder.alone, recorder.together, most=2)
    first = asyncio.create_task(writes.write("slot", "first"))
    await asyncio.sleep(0)
    later = [asyncio.create_task(writes.write("slot", item)) for item in "abcde"]
    cancelled = asyncio.create_task(writes.write("slot", "gone"))
    await until_waiting(writes, 6)
    cancelled.cancel()  # its visitor left: it is not written
    recorder.gate.set()
    await first
    assert await asyncio.gather(*later) == [
        "a: together", "b: together", "c: together", "d: together", "e: alone"
    ]  # fmt: skip
    assert recorder.calls[1:] == [
        ("together", ["a", "b"]), ("together", ["c", "d"]), ("alone", "e")
    ]  # fmt: skip


def person(sequence: int) -> service.Person:
    return service.Person(f"游客{sequence}", make_id_number(date(1990, 5, 17), sequence))


@pytest.mark.skipif(BACKEND != "services", reason="bookings are written together on PostgreSQL")
async def test_bookings_waiting_for_their_slot_are_written_together_with_their_own_outcomes(
    database, monkeypatch
):
    # No rows kept from an earlier test's slot of the same id (they would be refused as stale,
    # and go again in whatever order their reads come back).
    monkeypatch.setattr(service, "_kept_slot_rows", service._KeptSlotRows())
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=6)
    visitors = [await Visitor.create(openid=f"together-{n}") for n in range(5)]
    # Someone booked person 40 at the venue that day already, in another slot.
    elsewhere = await make_slot(venue, starts=time(14), ends=time(15))
    await service.reserve(
        visitor_id=visitors[0].id, slot_id=elsewhere.id, people=[person(40)], now=local_now(),
        cipher=CIPHER,
    )  # fmt: skip
    groups: list[int] = []
    run_each = service.sql.run_each

    async def counted(statement, runs):
        groups.append(len(runs))
        return await run_each(statement, runs)

    monkeypatch.setattr(service.sql, "run_each", counted)

    def book(visitor: Visitor, party: list[service.Person]):
        return asyncio.create_task(
            service.reserve(
                visitor_id=visitor.id, slot_id=slot.id, people=party, now=local_now(),
                cipher=CIPHER,
            )
        )  # fmt: skip

    # Another transaction holds the slot's row: the first booking waits for it in the database,
    # and the next ones wait for the first here.
    holder = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM time_slot WHERE id = $1 FOR UPDATE", slot.id)
            first = book(visitors[1], [person(1)])
            await until_someone_waits_for(holder)  # the first booking, for the row
            later = [
                book(visitors[2], [person(2), person(3)]),  # fits: 3 of 6
                book(visitors[3], [person(4), person(40)]),  # person 40 is booked that day
                book(visitors[4], [person(5), person(6), person(7)]),  # fits: 6 of 6
                book(visitors[0], [person(8)]),  # nothing left
            ]
            await until_waiting(service._slot_writes, 4)
    finally:
        await holder.close()
    outcomes = await asyncio.gather(first, *later, return_exceptions=True)

    assert groups == [4]  # the four that waited went in one call
    booked = [o for o in outcomes if isinstance(o, Reservation)]
    assert [r.party_size for r in booked] == [1, 2, 3]
    assert isinstance(outcomes[2], AppError) and outcomes[2].code == "already_booked"
    assert outcomes[2].params["visitor"] == 2
    assert isinstance(outcomes[4], AppError) and outcomes[4].code == "slot_full"
    # What was answered is what is stored, and the refused bookings left nothing behind.
    fresh = await TimeSlot.get(id=slot.id)
    assert (fresh.booked, fresh.revision) == (6, 3)
    stored = await Reservation.filter(slot_id=slot.id).order_by("id")
    assert [r.id for r in stored] == [r.id for r in booked]
    for reservation in booked:
        tickets = await Ticket.filter(reservation_id=reservation.id).order_by("id")
        assert [t.id for t in tickets] == sorted(t.id for t in reservation.tickets)
        assert [t.created_at for t in tickets] == [reservation.created_at] * len(tickets)
    assert await Ticket.filter(slot_id=slot.id).count() == 6
    assert await PersonDayClaim.filter(venue_id=venue.id).count() == 7
