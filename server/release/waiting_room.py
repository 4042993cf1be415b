"""The waiting room (排队): when bookings arrive faster than the database takes them, visitors get
a place in one fair FIFO queue, with a position and an estimated wait, instead of errors.

Each server process books at most `concurrency` at a time and lets at most `backlog` more wait
for their turn in memory. Beyond that, or while anyone is queued (so nobody jumps the queue),
a booking request is queued in Redis and answered 202 at once; every process drains the queue,
oldest first, through the same booking path at the rate that path sustains, and keeps each
outcome for the visitor to fetch. A visitor holds one place in the queue at most. The queued
request's personal data is encrypted by the caller and deleted once it has been used.

The keys share one hash tag, so the scripts also run on Redis Cluster.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.background import stop_if_cancelled
from server.release.errors import AlreadyQueued, QueueTicketNotFound

log = logging.getLogger("etour.release.waiting_room")

_QUEUE = "release:{wr}:queue"
_NUMBERS = "release:{wr}:numbers"  # the last number given to a queued request
_SERVED = "release:{wr}:served"  # how many queued requests have been taken out
_TICKET = "release:{wr}:ticket:"
_VISITOR = "release:{wr}:visitor:"
_DONE_PER_SECOND = "release:{wr}:done:"
TICKET_TTL_SECONDS = 1800
# A request taken out but without an outcome after this long died with its process.
LOST_AFTER_SECONDS = 120
_RATE_WINDOW_SECONDS = 10
_FALLBACK_SECONDS_PER_BOOKING = 0.05
_POLL_MIN_SECONDS = 2.0
_POLL_MAX_SECONDS = 15.0

# Give the visitor one place (or name the one they have), number it and queue it, atomically.
_ENQUEUE = """
if not redis.call('SET', KEYS[4], ARGV[1], 'NX', 'EX', ARGV[4]) then
  return {0, redis.call('GET', KEYS[4])}
end
local number = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], 'visitor', ARGV[2], 'number', number, 'state', 'waiting',
  'request', ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[4])
redis.call('RPUSH', KEYS[1], ARGV[1])
return {1, tostring(number)}
"""

# Take the oldest request out, count it served and mark it running, atomically: a process dying
# right after still leaves a "running" request that its visitor is told was lost. (Its key is
# built here from the id, within the shared hash tag: the same cluster slot.)
_TAKE = """
local queue_id = redis.call('LPOP', KEYS[1])
if not queue_id then return false end
redis.call('INCR', KEYS[2])
local key = ARGV[1] .. queue_id
if redis.call('EXISTS', key) == 0 then return {queue_id, ''} end
redis.call('HSET', key, 'state', 'running', 'started', ARGV[2])
return {queue_id, redis.call('HGET', key, 'request'), redis.call('HGET', key, 'visitor')}
"""
# An idle drainer looks again after this long, backing off to the longest while nobody queues.
_IDLE_SECONDS, _IDLE_LONGEST_SECONDS = 0.05, 0.5

QueuedRequest = dict[str, str]
Outcome = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class QueuePlace:
    """Where a queued request stands: `position` 1 is next, 0 is being booked now."""

    queue_id: str
    position: int
    estimated_wait_seconds: float

    def as_answer(self) -> dict[str, Any]:
        """The JSON a client polls."""
        return {
            "status": "waiting",
            "queue_id": self.queue_id,
            "position": self.position,
            "estimated_wait_seconds": round(self.estimated_wait_seconds, 1),
            "poll": f"/api/v1/queue/{self.queue_id}",
            # Every poll costs the booking path CPU: come back when the turn should have come.
            "poll_after_seconds": round(
                min(max(self.estimated_wait_seconds, _POLL_MIN_SECONDS), _POLL_MAX_SECONDS), 1
            ),
        }


class WaitingRoom:
    """One process's door to the booking path, and its share of draining the shared queue."""

    def __init__(self, redis: Redis, *, concurrency: int, backlog: int) -> None:
        self._redis = redis
        self._permits = asyncio.Semaphore(concurrency)
        self._backlog = backlog
        self._waiting_here = 0
        self._enqueue = redis.register_script(_ENQUEUE)
        self._take = redis.register_script(_TAKE)
        self._drainers: list[asyncio.Task] = []

    async def must_queue(self) -> bool:
        """True when a new booking request should be queued rather than booked now."""
        if self._permits.locked() and self._waiting_here >= self._backlog:
            return True
        try:
            return await self._redis.llen(_QUEUE) > 0
        except RedisError:
            return False  # no queue without Redis: the booking path itself still holds

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for one of this process's booking places, and hold it."""
        self._waiting_here += 1
        try:
            await self._permits.acquire()
        finally:
            self._waiting_here -= 1
        try:
            yield
        finally:
            self._permits.release()

    async def enqueue(self, *, visitor_id: int, request: dict[str, str]) -> QueuePlace:
        """Queue a visitor's request; AlreadyQueued if they have a place already."""
        queue_id = secrets.token_urlsafe(12)
        added, value = await self._enqueue(
            keys=[_QUEUE, _NUMBERS, _TICKET + queue_id, _VISITOR + str(visitor_id)],
            args=[queue_id, visitor_id, json.dumps(request), TICKET_TTL_SECONDS],
        )
        if not int(added):
            raise AlreadyQueued(queue_id=value)
        return await self._place(queue_id, int(value))

    async def status(self, *, queue_id: str, visitor_id: int) -> dict[str, Any]:
        """A visitor's queued request: waiting (position, wait) or done (the booking's answer)."""
        ticket = await self._redis.hgetall(_TICKET + queue_id)
        if not ticket or ticket.get("visitor") != str(visitor_id):
            raise QueueTicketNotFound(queue_id=queue_id)
        if ticket["state"] == "done":
            return {
                "status": "done",
                "queue_id": queue_id,
                "http_status": int(ticket["http_status"]),
                "answer": json.loads(ticket["answer"]),
            }
        if ticket["state"] == "running" and time.time() - float(ticket["started"]) > (
            LOST_AFTER_SECONDS
        ):
            return {"status": "lost", "queue_id": queue_id}
        return (await self._place(queue_id, int(ticket["number"]))).as_answer()

    async def _place(self, queue_id: str, number: int) -> QueuePlace:
        now = int(time.time())
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(_SERVED)
            pipe.mget(
                [f"{_DONE_PER_SECOND}{now - back}" for back in range(1, 1 + _RATE_WINDOW_SECONDS)]
            )
            served, recent = await pipe.execute()
        position = max(number - int(served or 0), 0)
        per_second = sum(int(count or 0) for count in recent) / _RATE_WINDOW_SECONDS
        seconds_each = 1 / per_second if per_second else _FALLBACK_SECONDS_PER_BOOKING
        return QueuePlace(queue_id, position, position * seconds_each)

    def start_draining(
        self, book: Callable[[QueuedRequest], Awaitable[Outcome]], *, workers: int
    ) -> None:
        """Start `workers` tasks that take queued requests, oldest first, and book them."""
        self._drainers = [asyncio.create_task(self._drain(book)) for _ in range(workers)]

    async def stop_draining(self) -> None:
        """Stop the drain tasks (a request taken but not finished is reported lost)."""
        for task in self._drainers:
            task.cancel()
        await asyncio.gather(*self._drainers, return_exceptions=True)
        self._drainers = []

    async def _drain(self, book: Callable[[QueuedRequest], Awaitable[Outcome]]) -> None:
        # LPOP and a short sleep, not BLPOP: a blocking pop cancelled at shutdown may still take
        # a request off the queue, and nobody would book it.
        idle = _IDLE_SECONDS
        while True:
            stop_if_cancelled()
            try:
                if await self._drain_one(book):
                    idle = _IDLE_SECONDS
                    continue
                idle = min(idle * 2, _IDLE_LONGEST_SECONDS)
            except Exception as problem:
                stop_if_cancelled()
                if not isinstance(problem, RedisError):  # Redis away: wait for it quietly
                    log.exception("draining the waiting room failed")
                idle = 1.0
            await asyncio.sleep(idle)

    async def _drain_one(self, book: Callable[[QueuedRequest], Awaitable[Outcome]]) -> bool:
        """Book the oldest queued request, if any; False when the queue is empty."""
        taken = await self._take(keys=[_QUEUE, _SERVED], args=[_TICKET, time.time()])
        if not taken:
            return False
        queue_id, request = taken[0], taken[1]
        if not request:
            return True  # expired unserved: its visitor gave up long ago
        # In line with this process's direct bookings, for one of its booking places.
        async with self.turn():
            status, answer = await book(json.loads(request))
        key, second = _TICKET + queue_id, f"{_DONE_PER_SECOND}{int(time.time())}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "state": "done",
                    "http_status": status,
                    "answer": json.dumps(answer, ensure_ascii=False),
                },
            )
            pipe.hdel(key, "request")  # the personal data is not kept once used
            pipe.delete(_VISITOR + taken[2])
            pipe.incr(second)
            pipe.expire(second, 2 * _RATE_WINDOW_SECONDS)
            await pipe.execute()
        return True
