"""Crowd warnings: recorded and published once per upward crossing, never failing a scan."""

from __future__ import annotations

import asyncio
import json

from factories import make_slot, make_ticket
from redis.exceptions import ConnectionError as RedisConnectionError

from server.tickets.models import OccupancyWarning, VenueOccupancy


async def _capped_gate_with_tickets(open_gate, capacity: int, count: int):
    gate = await open_gate(instant_capacity=capacity)
    slot = await make_slot(gate.venue, capacity=100)
    return gate, [await make_ticket(gate.venue, slot=slot) for _ in range(count)]


async def test_warnings_are_recorded_once_per_crossing_not_on_every_scan(open_gate):
    gate, tickets = await _capped_gate_with_tickets(open_gate, capacity=10, count=10)
    for ticket in tickets[:8]:  # up to 80 %
        assert (await gate.verdict(gate.qr(ticket)))["admitted"]
    assert await OccupancyWarning.all().values_list("threshold_percent", "occupancy") == [(80, 8)]
    assert (await gate.verdict(gate.qr(tickets[8])))["admitted"]  # 90 %: still above, no warning
    for ticket in tickets[:2]:  # down to 70 %
        assert (await gate.verdict(gate.qr(ticket), "exit"))["admitted"]
    assert (await gate.verdict(gate.qr(tickets[9])))["occupancy"]["inside"] == 8  # 80 % again
    warnings = await OccupancyWarning.filter(venue_id=gate.venue.id).order_by("id")
    assert [(w.threshold_percent, w.occupancy, w.capacity) for w in warnings] == [
        (80, 8, 10), (80, 8, 10),
    ]  # fmt: skip


async def test_reaching_the_cap_warns_at_100_percent(open_gate):
    gate, tickets = await _capped_gate_with_tickets(open_gate, capacity=5, count=6)
    reasons = [(await gate.verdict(gate.qr(t)))["reason"] for t in tickets]
    assert reasons == ["admitted"] * 5 + ["venue_full"]
    thresholds = (
        await OccupancyWarning.all().order_by("id").values_list("threshold_percent", flat=True)
    )
    assert thresholds == [80, 100]


async def test_one_entry_crossing_two_thresholds_records_both(open_gate):
    gate, tickets = await _capped_gate_with_tickets(open_gate, capacity=1, count=1)
    assert (await gate.verdict(gate.qr(tickets[0])))["admitted"]
    thresholds = await OccupancyWarning.all().values_list("threshold_percent", flat=True)
    assert sorted(thresholds) == [80, 100]


async def test_concurrent_entries_record_each_crossing_exactly_once(open_gate):
    gate, tickets = await _capped_gate_with_tickets(open_gate, capacity=20, count=20)
    answers = await asyncio.gather(*(gate.scan(gate.qr(t)) for t in tickets))
    assert all(answer.json()["admitted"] for answer in answers)
    thresholds = await OccupancyWarning.all().values_list("threshold_percent", "occupancy")
    assert sorted(thresholds) == [(80, 16), (100, 20)]


async def test_a_subscriber_receives_the_warning_and_every_occupancy_change(open_gate):
    gate, tickets = await _capped_gate_with_tickets(open_gate, capacity=2, count=2)
    pubsub = gate.server.app.ctx.redis.pubsub()
    await pubsub.subscribe("etour:warnings", "etour:occupancy")
    try:
        for ticket in tickets:
            assert (await gate.verdict(gate.qr(ticket)))["admitted"]
        messages = []
        deadline = asyncio.get_running_loop().time() + 5
        while len(messages) < 4 and asyncio.get_running_loop().time() < deadline:
            # None also stands for a subscribe confirmation skipped: keep reading until due.
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if message is not None:
                messages.append((message["channel"], json.loads(message["data"])))
    finally:
        await pubsub.aclose()
    occupancy = [m for channel, m in messages if channel == "etour:occupancy"]
    warnings = [m for channel, m in messages if channel == "etour:warnings"]
    assert [m["occupancy"] for m in occupancy] == [1, 2]
    assert occupancy[1]["level"] == "full" and occupancy[1]["venue_id"] == gate.venue.id
    assert [(w["threshold"], w["occupancy"], w["capacity"]) for w in warnings] == [
        (80, 2, 2), (100, 2, 2),
    ]  # fmt: skip
    assert warnings[0]["venue_id"] == gate.venue.id and warnings[0]["time"]


class _BrokenRedis:
    """A Redis that is down: every command fails to connect."""

    def pipeline(self, *args, **kwargs):
        raise RedisConnectionError("connection refused")

    def __getattr__(self, name):
        raise RedisConnectionError("connection refused")


async def test_a_redis_outage_does_not_fail_the_scan(open_gate, monkeypatch, caplog):
    gate, tickets = await _capped_gate_with_tickets(open_gate, capacity=1, count=1)
    monkeypatch.setattr(gate.server.app.ctx, "redis", _BrokenRedis())
    verdict = await gate.verdict(gate.qr(tickets[0]))
    assert verdict["admitted"] is True
    assert (await VenueOccupancy.get(venue_id=gate.venue.id)).inside == 1
    assert await OccupancyWarning.all().count() == 2
    assert "publishing" in caplog.text
