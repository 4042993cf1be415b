"""A full slot's alternatives under a crowd: refusals that come together share one read, and
the crowd is spread over the alternatives by the room they have."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import time, timedelta

import pytest
from factories import make_reservable_venue, make_slot

from server.clock import local_now
from server.release.mirror import Shortage
from server.reservations import service
from server.reservations.errors import SlotFull

REFUSALS = 20


# No mirror: nothing remembered in Redis, so each refusal must find its alternatives.
pytestmark = pytest.mark.usefixtures("default_runtime")


@pytest.fixture
def alternative_reads(monkeypatch) -> list[int]:
    """The slot ids whose alternatives were read from the database, each read slowed a little
    so that refusals arriving together overlap it, as under a crowd."""
    reads: list[int] = []
    suggest_slots = service.suggest_slots

    async def counting(**wanted):
        reads.append(wanted["slot"].id)
        await asyncio.sleep(0.05)
        return await suggest_slots(**wanted)

    monkeypatch.setattr(service, "suggest_slots", counting)
    return reads


async def refuse_together(slot_id: int, parties: list[int]) -> list[BaseException]:
    """The refusals of the mirror's "no places left" for these parties, all at once."""
    now = local_now()
    return await asyncio.gather(
        *(
            service.refuse_shortage(Shortage(0, None), slot_id=slot_id, party=party, now=now)
            for party in parties
        ),
        return_exceptions=True,
    )


async def full_slot_and_alternatives():
    venue = await make_reservable_venue()
    full = await make_slot(venue, starts=time(9), ends=time(10), capacity=5, booked=5)
    roomy = await make_slot(venue, starts=time(10), ends=time(11), capacity=10, booked=0)
    tight = await make_slot(venue, starts=time(11), ends=time(12), capacity=10, booked=8)
    return full, roomy, tight


async def test_refusals_of_one_slot_arriving_together_share_one_read(database, alternative_reads):
    full, roomy, tight = await full_slot_and_alternatives()
    parties = [1 + n % 4 for n in range(REFUSALS)]
    refusals = await refuse_together(full.id, parties)
    assert alternative_reads == [full.id]
    assert all(isinstance(refusal, SlotFull) for refusal in refusals)
    for party, refusal in zip(parties, refusals, strict=True):
        # Each party still gets the alternatives with room for it (12:00 has two places).
        offered = [s["slot_id"] for s in refusal.params["suggestions"]]
        assert offered == ([roomy.id, tight.id] if party <= 2 else [roomy.id])
    # Nothing is kept past the shared read: a refusal after it reads the database again.
    await refuse_together(full.id, [1])
    assert alternative_reads == [full.id, full.id]


async def test_canary_without_the_shared_read_each_refusal_reads(
    database, alternative_reads, monkeypatch
):
    class NeverShared(dict):
        def get(self, key, default=None):
            return default

    monkeypatch.setattr(service, "_alternatives_reading", NeverShared())
    full, _, _ = await full_slot_and_alternatives()
    await refuse_together(full.id, [1] * REFUSALS)
    assert alternative_reads == [full.id] * REFUSALS


async def test_a_failed_read_fails_every_refusal_that_waited_for_it(database, monkeypatch):
    async def broken(**_):
        await asyncio.sleep(0.05)
        raise ConnectionError("database away")

    monkeypatch.setattr(service, "suggest_slots", broken)
    full, _, _ = await full_slot_and_alternatives()
    refusals = await refuse_together(full.id, [1, 2, 3])
    assert [type(refusal) for refusal in refusals] == [ConnectionError] * 3
    assert service._alternatives_reading == {}


async def test_a_crowd_refused_together_is_spread_over_the_alternatives_by_their_room(database):
    venue = await make_reservable_venue()
    full = await make_slot(venue, starts=time(9), ends=time(10), capacity=5, booked=5)
    thirty_left = await make_slot(venue, starts=time(10), ends=time(11), capacity=50, booked=20)
    ten_left = await make_slot(venue, starts=time(14), ends=time(15), capacity=20, booked=10)
    crowded = await make_slot(venue, starts=time(11), ends=time(12), capacity=100, booked=85)
    next_day = await make_slot(
        venue, day=full.date + timedelta(days=1), starts=time(9), ends=time(10), capacity=50
    )
    refusals = await refuse_together(full.id, [1] * 400)
    offers = [[s["slot_id"] for s in refusal.params["suggestions"]] for refusal in refusals]
    # The same three nearest with room each time (the crowded one after them), the same day
    # before the next; only which of the day's two comes first is drawn.
    assert all(set(offer[:2]) == {thirty_left.id, ten_left.id} for offer in offers)
    assert all(offer[2] == next_day.id and crowded.id not in offer for offer in offers)
    # First in proportion to the places left, 30 : 10 (expected 300 of 400; 7 sigma either way).
    firsts = Counter(offer[0] for offer in offers)
    assert 240 <= firsts[thirty_left.id] <= 360, firsts
