"""The remaining-places mirror: "sold out" without a database transaction, never wrongly."""

from __future__ import annotations

from datetime import time

from factories import make_reservable_venue, make_slot, make_staff_token, make_visitor_token, people

from release.steps import bearer, book
from server.release import mirror as mirror_module
from server.release.mirror import EXACT_BELOW, SlotPlaces, entry_key
from server.reservations import service as reservations
from server.reservations.models import TimeSlot


async def fill(server, slot_id: int, count: int, first_sequence: int = 100) -> list[dict]:
    """`count` one-person reservations by different visitors; their answers."""
    answers = []
    for n in range(count):
        _, token = await make_visitor_token(server.app)
        answer = await book(
            server.client, token, slot_id, people(1, first_sequence=first_sequence + n)
        )
        assert answer.status_code == 201, answer.text
        answers.append(answer.json())
    return answers


async def test_a_full_slot_is_refused_from_the_mirror_without_touching_the_database(
    server, monkeypatch
):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=3)
    await make_slot(venue, starts=slot.ends_at, ends=slot.ends_at.replace(hour=14), capacity=9)
    await fill(server, slot.id, 3)
    # The first refusal reads the database (and remembers the alternatives) ...
    _, token = await make_visitor_token(server.app)
    first = await book(server.client, token, slot.id, people(1, first_sequence=50))
    assert first.status_code == 409 and first.json()["error"]["code"] == "slot_full"

    # ... the next ones must not: any read of the slot for booking now fails the test.
    async def no_database(*args, **kwargs):
        raise AssertionError("the fast sold-out path read the database")

    monkeypatch.setattr(reservations, "bookable_slot", no_database)
    for n in range(5):
        _, token = await make_visitor_token(server.app)
        again = await book(server.client, token, slot.id, people(2, first_sequence=60 + 2 * n))
        assert again.status_code == 409, again.text
        refusal = again.json()["error"]
        assert refusal["code"] == "slot_full" and refusal["remaining"] == 0
        assert [s["start"] for s in refusal["suggestions"]] == ["12:00"]
    assert (await TimeSlot.get(id=slot.id)).booked == 3


async def test_a_kept_alternative_shows_the_places_the_mirror_knows_are_left(server, monkeypatch):
    # Kept for a minute here (a second in service): the refusals below must use the kept list.
    monkeypatch.setattr(mirror_module, "ALTERNATIVES_TTL_SECONDS", 60)
    venue = await make_reservable_venue()
    full = await make_slot(venue, capacity=1)
    nearly = await make_slot(venue, starts=time(12), ends=time(14), capacity=4)
    roomy = await make_slot(venue, starts=time(14), ends=time(16), capacity=EXACT_BELOW + 5)
    await fill(server, full.id, 1)
    _, token = await make_visitor_token(server.app)
    first = await book(server.client, token, full.id, people(1, first_sequence=50))
    shown = {s["slot_id"]: s["remaining"] for s in first.json()["error"]["suggestions"]}
    assert shown == {nearly.id: 4, roomy.id: EXACT_BELOW + 5}
    # The nearest alternative fills up to its last place after its count was kept ...
    await fill(server, nearly.id, 3, first_sequence=200)

    async def no_database(*args, **kwargs):
        raise AssertionError("the fast sold-out path read the database")

    monkeypatch.setattr(reservations, "bookable_slot", no_database)
    monkeypatch.setattr(reservations, "suggest_slots", no_database)
    # ... so a party of one is shown its one place left, and a party of two is not sent there.
    one = await book(server.client, token, full.id, people(1, first_sequence=60))
    shown = {s["slot_id"]: s["remaining"] for s in one.json()["error"]["suggestions"]}
    assert shown == {nearly.id: 1, roomy.id: EXACT_BELOW + 5}
    two = await book(server.client, token, full.id, people(2, first_sequence=70))
    assert [s["slot_id"] for s in two.json()["error"]["suggestions"]] == [roomy.id]


async def test_a_cancellation_reopens_the_slot_at_once(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=2)
    _, holder_token = await make_visitor_token(server.app)
    kept = await book(server.client, holder_token, slot.id, people(1, first_sequence=10))
    await fill(server, slot.id, 1)
    _, token = await make_visitor_token(server.app)
    newcomer = people(1, first_sequence=500)
    assert (await book(server.client, token, slot.id, newcomer)).status_code == 409
    cancelled = await server.client.post(
        f"/api/v1/reservations/{kept.json()['id']}/cancel", headers=bearer(holder_token)
    )
    assert cancelled.status_code == 200, cancelled.text
    # No waiting for a repair: the cancellation told the mirror itself.
    again = await book(server.client, token, slot.id, newcomer)
    assert again.status_code == 201, again.text


async def test_a_capacity_raise_reopens_the_slot_at_once(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=1)
    await fill(server, slot.id, 1)
    _, token = await make_visitor_token(server.app)
    newcomer = people(1, first_sequence=500)
    assert (await book(server.client, token, slot.id, newcomer)).status_code == 409
    _, admin = await make_staff_token(server.app, None, role="admin")
    raised = await server.client.patch(
        f"/api/v1/admin/slots/{slot.id}", json={"capacity": 2}, headers=bearer(admin)
    )
    assert raised.status_code == 200, raised.text
    again = await book(server.client, token, slot.id, newcomer)
    assert again.status_code == 201, again.text


async def test_an_older_revision_never_overwrites_a_newer_one(server):
    mirror = server.app.ctx.mirror
    # A real slot: the server's repair job drops entries of slots that do not exist, and
    # leaves one ahead of the database alone the first time it sees it.
    slot_id = (await make_slot(await make_reservable_venue(), capacity=5)).id
    await mirror.publish(SlotPlaces(slot_id=slot_id, remaining=0, revision=5))
    await mirror.publish(SlotPlaces(slot_id=slot_id, remaining=3, revision=4))  # arrives late
    assert (await mirror.surely_short(slot_id, 1)).remaining == 0
    await mirror.publish(SlotPlaces(slot_id=slot_id, remaining=2, revision=6))
    assert await mirror.surely_short(slot_id, 1) is None
    assert (await mirror.surely_short(slot_id, 3)).remaining == 2


async def test_repair_fixes_drift_and_a_lost_redis_from_the_database(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=5)
    await fill(server, slot.id, 2)
    mirror, redis = server.app.ctx.mirror, server.app.ctx.redis
    fresh = await TimeSlot.get(id=slot.id)
    assert fresh.revision == 2 and (await mirror.surely_short(slot.id, 4)).remaining == 3
    # Drift: the entry says "full" at the database's own revision (a lost or wrong write).
    await redis.hset(f"release:slot:{slot.id}", mapping={"left": 0, "rev": fresh.revision})
    assert (await mirror.surely_short(slot.id, 1)).remaining == 0
    assert await mirror.repair() == 1
    assert await mirror.surely_short(slot.id, 1) is None
    # An entry ahead of the database may be a commit newer than the repair's read: left alone
    # once; still ahead at the same revision the next time, it is corrupt and dropped.
    await redis.hset(f"release:slot:{slot.id}", mapping={"left": 0, "rev": 99})
    assert await mirror.repair() == 0 and await mirror.surely_short(slot.id, 1) is not None
    assert await mirror.repair() == 1
    assert await redis.exists(f"release:slot:{slot.id}") == 0
    # Redis lost everything: the mirror says "maybe" and the next booking fills it again.
    await redis.flushdb()
    assert await mirror.surely_short(slot.id, 5) is None
    await fill(server, slot.id, 1, first_sequence=300)
    assert (await mirror.surely_short(slot.id, 3)).remaining == 2


async def test_a_stale_mirror_can_never_admit_more_than_the_database(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=1)
    await fill(server, slot.id, 1)
    # The worst lie: the mirror says places are free when none are.
    await server.app.ctx.redis.hset(f"release:slot:{slot.id}", mapping={"left": 50, "rev": 999})
    _, token = await make_visitor_token(server.app)
    refused = await book(server.client, token, slot.id, people(1, first_sequence=500))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "slot_full"
    assert (await TimeSlot.get(id=slot.id)).booked == 1


async def test_places_taken_are_told_once_the_slot_is_nearly_full(server):
    mirror, redis = server.app.ctx.mirror, server.app.ctx.redis
    slot = await make_slot(await make_reservable_venue(), capacity=EXACT_BELOW + 2)
    # Room to spare: bookings leave the mirror alone (an entry too high only says "maybe").
    await fill(server, slot.id, 2)
    assert await redis.exists(entry_key(slot.id)) == 0
    # The last places are told one by one, exactly.
    await fill(server, slot.id, 1, first_sequence=200)
    assert (await mirror.surely_short(slot.id, EXACT_BELOW)).remaining == EXACT_BELOW - 1
    await fill(server, slot.id, EXACT_BELOW - 1, first_sequence=300)
    assert (await mirror.surely_short(slot.id, 1)).remaining == 0
