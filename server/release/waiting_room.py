"""The waiting room (排队): when bookings arrive faster than the database takes them, visitors get
a place in one fair FIFO queue, with a position and an estimated wait, instead of errors.

Each server process books at most `concurrency` at a time and lets at most `backlog` more wait
for their turn in memory. Beyond that, or while anyone is queued (so nobody jumps the queue),
a booking request is queued in Redis and answered 202 at once; every process drains the queue,
oldest first, through the same booking path at the rate that path sustains, and keeps each
outcome for the visitor to fetch. The visitor's poll waits for that outcome (a long poll, woken
through Redis pub/sub by whichever process stored it), so waiting costs no requests. A visitor
waiting on a process whose slot sells out meanwhile is answered then, not at its turn: each
process watches the mirror for the slots its waiting visitors want. A visitor holds one place in
the queue at most. The queued request's personal data is encrypted by the caller and deleted
once it has been used.

The waiting room's own keys share one hash tag. The door's script and the out-of-turn refusal
also read the slot's mirror entry (and the door, the rate counters), which do not: on Redis
Cluster those would need the same tag.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server import cache, idempotency, ratelimit
from server.background import stop_if_cancelled
from server.release import mirror
from server.release.errors import AlreadyQueued, QueueTicketNotFound, SoldOutWhileWaiting
from server.release.mirror import Shortage

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
RATE_WINDOW_SECONDS = 10
_FALLBACK_SECONDS_PER_BOOKING = 0.05
# How long a poll may wait for its outcome: well within proxies' and Sanic's response timeouts.
LONGEST_WAIT_SECONDS = 25
# Each queued request's outcome once stored: "<queue id> <http status> <answer JSON>".
_DONE_CHANNEL = "release:{wr}:done"
# A request queued on an empty queue: every process's drainers look (not only the queuer's).
_WORK_CHANNEL = "release:{wr}:work"
_LISTEN_SECONDS = 1.0

# The requests served in the last RATE_WINDOW_SECONDS whole seconds (by Redis's clock), for a
# queued request's wait estimate. The counters' keys are made here, within the hash tag: read
# only when asked (a request queued, a poll), not passed with every request at the door.
_DONE_LATELY_LUA = """
local function done_lately()
  local now, done = tonumber(redis.call('TIME')[1]), 0
  for back = 1, RATE_WINDOW do
    done = done + tonumber(redis.call('GET', 'DONE_PER_SECOND' .. (now - back)) or '0')
  end
  return done
end
""".replace("RATE_WINDOW", str(RATE_WINDOW_SECONDS)).replace("DONE_PER_SECOND", _DONE_PER_SECOND)

# The booking door: every check a booking request passes before its turn, in one round trip.
# A retry whose Idempotency-Key has a record gets that ({5, record}), uncounted. Else count the
# request's rates (stop at the first over its limit), refuse a slot whose mirror entry says it is
# short, then queue the request if the queue is busy (or the caller must queue anyway): give the
# visitor one place (or name the one they have), number it, queue it (the first request on an
# empty queue wakes every process's drainers), and say where it stands.
# A request let through claims its Idempotency-Key as running; one queued, with its queue id
# (a retry is told its place, until the drainer stores the outcome there); a refusal leaves it
# free.
# Answers: {3, limit, seconds left} over a rate; {4, shortage} short; {2} go ahead;
# {0, queue id} already queued; {1, queue id, number, served, done lately} queued; {6} it would
# be queued, but came without the request (''), to be sent again with it.
# KEYS: queue, numbers, ticket, visitor, served, the slot's mirror entry, the Idempotency-Key's
# record, then the rate counters (ARGV[7] of them).
# ARGV: queue id, visitor, request ('': not sent), ticket TTL, must queue (1/0), party (0: no
# sold-out check), the number of rate counters, their window, the claim's record ('': no key)
# and its TTL, the other slots the booking would take (ids, comma-separated), then the rate
# limits.
_CHECK_IN = (
    ratelimit.COUNT_REQUESTS_LUA
    + _DONE_LATELY_LUA
    + mirror.SHORTAGE_LUA
    + """
local claim = ARGV[9]
if claim ~= '' then
  local stored = redis.call('GET', KEYS[7])
  if stored then return {5, stored} end
end
local rates = tonumber(ARGV[7])
local over, left = count_requests(8, rates, 12, tonumber(ARGV[8]))
if over > 0 then return {3, over, left} end
local party = tonumber(ARGV[6])
if party > 0 then
  local short = shortage(KEYS[6], party, ARGV[11])
  if short then return {4, short[1], short[2], short[3], short[4], short[5]} end
end
local queue_now = ARGV[5] ~= '0' or redis.call('LLEN', KEYS[1]) > 0
if queue_now and ARGV[3] == '' then return {6} end
if queue_now and not redis.call('SET', KEYS[4], ARGV[1], 'NX', 'EX', ARGV[4]) then
  return {0, redis.call('GET', KEYS[4])}
end
if not queue_now then
  if claim ~= '' then redis.call('SET', KEYS[7], claim, 'EX', ARGV[10]) end
  return {2}
end
if claim ~= '' then
  local queued = {state = 'queued', fp = cjson.decode(claim).fp, queue_id = ARGV[1]}
  redis.call('SET', KEYS[7], cjson.encode(queued), 'EX', ARGV[4])
end
local number = redis.call('INCR', KEYS[2])
-- The party its slot must have room for, else it is refused out of turn (_SERVE_SOLD_OUT).
-- Not for a request naming other slots: a shortage of its slot moves it on to another, a
-- booking, which must wait its turn like any other.
local short_below = ARGV[11] == '' and ARGV[6] or '0'
redis.call('HSET', KEYS[3], 'visitor', ARGV[2], 'number', number, 'state', 'waiting',
  'request', ARGV[3], 'entry', KEYS[6], 'party', short_below)
redis.call('EXPIRE', KEYS[3], ARGV[4])
if redis.call('RPUSH', KEYS[1], ARGV[1]) == 1 then
  redis.call('PUBLISH', 'WORK_CHANNEL', '')  -- the queue had been empty: wake every process
end
return {1, ARGV[1], number, tonumber(redis.call('GET', KEYS[5]) or '0'), done_lately()}
""".replace("WORK_CHANNEL", _WORK_CHANNEL)
)

# A queued request's state, with the queue's progress, in one round trip. KEYS: ticket, served.
_STATUS = (
    _DONE_LATELY_LUA
    + """
local done = done_lately()
local ticket = redis.call('HMGET', KEYS[1], 'visitor', 'state', 'number', 'started',
  'http_status', 'answer', 'entry', 'party')
local answer = {tonumber(redis.call('GET', KEYS[2]) or '0'), done}
for i = 1, 8 do answer[i + 2] = ticket[i] end
return answer
"""
)

# Take the oldest request out, count it served and mark it running, atomically: a process dying
# right after still leaves a "running" request that its visitor is told was lost. (Its key is
# built here from the id, within the shared hash tag: the same cluster slot.)
_TAKE = """
local queue_id = redis.call('LPOP', KEYS[1])
if not queue_id then return false end
redis.call('INCR', KEYS[2])
local key = ARGV[1] .. queue_id
-- Gone (expired unserved), or served out of turn already (its slot sold out: _SERVE_SOLD_OUT).
if redis.call('HGET', key, 'state') ~= 'waiting' then return {queue_id, ''} end
redis.call('HSET', key, 'state', 'running', 'started', ARGV[2])
return {queue_id, redis.call('HGET', key, 'request'), redis.call('HGET', key, 'visitor')}
"""
# Serve a waiting request out of turn, because the mirror says its slot is short for its party:
# mark it running, as _TAKE does, and give its request and visitor (false: not so, or not
# waiting any more). A refusal out of turn jumps nobody, as it takes no place; checked here, in
# one step with the marking, so a place given back meanwhile still goes to the queue in order.
# KEYS: ticket, the slot's mirror entry. ARGV: now.
_SERVE_SOLD_OUT = """
local ticket = redis.call('HMGET', KEYS[1], 'state', 'party', 'request', 'visitor')
if ticket[1] ~= 'waiting' then return false end
local party = tonumber(ticket[2] or '0')
local left = redis.call('HGET', KEYS[2], 'left')
if party <= 0 or not left or tonumber(left) >= party then return false end
redis.call('HSET', KEYS[1], 'state', 'running', 'started', ARGV[1])
return {ticket[3], ticket[4]}
"""
# How often a process reads the mirror for the slots its waiting visitors want.
_WATCH_SECONDS = 0.1
# Wakes a waiting visitor whose slot the watcher found short (an outcome is a str).
_SLOT_SHORT = object()
# An idle drainer looks again after this long, backing off to the longest while nobody queues.
_IDLE_SECONDS, _IDLE_LONGEST_SECONDS = 0.05, 0.5
# Only one drainer per process looks at an empty queue; the others wait until it (or a request
# queued by this process) finds work, and look themselves at most this long apart.
_FOLLOWER_IDLE_SECONDS = 5.0

# Stands for the Idempotency-Key's record when the request has no key (never read or written).
_NO_CLAIM = "release:{wr}:no-claim"

QueuedRequest = dict[str, str]
Outcome = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Replay:
    """A retried request: its Idempotency-Key's record (for idempotency.stored_answer)."""

    record: str


@dataclass(frozen=True)
class QueuePlace:
    """Where a queued request stands: `position` 1 is next, 0 is being booked now."""

    queue_id: str
    position: int
    estimated_wait_seconds: float

    @classmethod
    def of(cls, queue_id: str, number: int, served: int, done_in_window: int) -> QueuePlace:
        """The place of request `number` when `served` have been taken out of the queue."""
        position = max(number - served, 0)
        per_second = done_in_window / RATE_WINDOW_SECONDS
        seconds_each = 1 / per_second if per_second else _FALLBACK_SECONDS_PER_BOOKING
        return cls(queue_id, position, position * seconds_each)

    def as_answer(self) -> dict[str, Any]:
        """The JSON a client polls."""
        return {
            "status": "waiting",
            "queue_id": self.queue_id,
            "position": self.position,
            "estimated_wait_seconds": round(self.estimated_wait_seconds, 1),
            # The poll waits for the outcome (up to LONGEST_WAIT_SECONDS): a waiting visitor
            # costs an open connection, not a request every few seconds.
            "poll": f"/api/v1/queue/{self.queue_id}?wait={LONGEST_WAIT_SECONDS}",
            "poll_after_seconds": 0,
        }


class _BookingPlaces:
    """A process's booking places, handed out in the order they were asked for.

    A booking that must wait gets a future, which comes true when a place is handed to it; the
    watcher may end it first (_SLOT_SHORT), as a refusal needs no place. (An asyncio.Semaphore's
    wait can be ended from outside only by a task and an asyncio.wait around each: in a crowd,
    hundreds of waiting bookings' worth of both.)
    """

    def __init__(self, count: int) -> None:
        self._free = count
        self._waiting: collections.deque[asyncio.Future] = collections.deque()

    def busy(self) -> bool:
        """Whether a booking asking now must wait for a place."""
        return self._free == 0

    def take(self) -> asyncio.Future | None:
        """A place now (None), or the future a place is handed to (True) once one is free."""
        if self._free:
            self._free -= 1
            return None
        handed = asyncio.get_running_loop().create_future()
        self._waiting.append(handed)
        return handed

    def give_back(self) -> None:
        """A place given back: to the first booking still waiting, else free."""
        while self._waiting:
            handed = self._waiting.popleft()
            if not handed.done():  # not ended by the watcher, nor given up
                handed.set_result(True)
                return
        self._free += 1


class WaitingRoom:
    """One process's door to the booking path, and its share of draining the shared queue."""

    def __init__(self, redis: Redis, *, concurrency: int, backlog: int, door: int) -> None:
        self._redis = redis
        self._places = _BookingPlaces(concurrency)
        self._door = asyncio.Semaphore(door)
        self._backlog = backlog
        self._waiting_here = 0
        self._check_in = cache.BatchedScript(redis, _CHECK_IN)
        self._status = redis.register_script(_STATUS)
        self._take = redis.register_script(_TAKE)
        self._serve_sold_out = redis.register_script(_SERVE_SOLD_OUT)
        self._tasks: list[asyncio.Task] = []
        self._book: Callable[[QueuedRequest], Awaitable[Outcome]] | None = None
        # Set while the queue has had work: wakes the drainers that wait on an empty queue.
        self._work_seen = asyncio.Event()
        # Long polls of this process waiting for an outcome, by queue id.
        self._waiters: dict[str, set[asyncio.Future]] = {}
        # Waits the watcher ends when their slot is short, by the slot they want (its mirror
        # entry): a long poll's queue id, or a booking's "turn:..." -> (party, wake-up).
        self._watched: dict[str, dict[str, tuple[int, asyncio.Future]]] = {}

    def _full_here(self) -> bool:
        return self._places.busy() and self._waiting_here >= self._backlog

    def at_the_door(self) -> asyncio.Semaphore:
        """This process's places for a booking request's checks before its turn, to hold one
        with `async with`."""
        # A crowd's requests (rate limits, the sold-out check, queueing) each cost little, but
        # thousands at once crowd the event loop: every step of the bookings in progress then
        # waits behind them, and the booking rate falls. So they take turns too, a few at once;
        # the rest wait in the server without costing CPU. (The semaphore itself, where a
        # generator-based context manager around it cost each request of a crowd more.)
        return self._door

    @asynccontextmanager
    async def turn(self, *, slot_id: int = 0, party: int = 0) -> AsyncIterator[bool]:
        """Wait for one of this process's booking places, and hold it; whether it had to wait
        (what the caller checked before may have changed meanwhile).

        With a `slot_id` and `party`, SoldOutWhileWaiting instead if the mirror says the slot
        is short for the party while it waits: its refusal need not wait for a booking place.
        """
        handed = self._places.take()
        if handed is not None:
            await self._wait_for(handed, slot_id=slot_id, party=party)
        try:
            yield handed is not None
        finally:
            self._places.give_back()

    async def _wait_for(self, handed: asyncio.Future, *, slot_id: int, party: int) -> None:
        # In a crowd a booking waits here long enough for its slot to sell out, and in the tail
        # of bench/flash_crowd.py's crowd most booking places went to refusing such bookings at
        # their turn: the watcher ends the wait (_SLOT_SHORT), as it wakes the long polls of
        # queued ones.
        watched = party > 0 and self._book is not None
        entry, key = mirror.entry_key(slot_id), f"turn:{id(handed)}"
        if watched:
            self._watch_slot(entry, key, party, handed)
        self._waiting_here += 1
        try:
            told = await handed
        except BaseException:
            if handed.done() and not handed.cancelled() and handed.result() is True:
                self._places.give_back()  # handed a place just as the caller gave up
            raise
        finally:
            self._waiting_here -= 1
            if watched:
                self._unwatch(entry, key)
        if told is not True:
            raise SoldOutWhileWaiting()

    async def check_in(
        self,
        *,
        visitor_id: int,
        request: Callable[[], dict[str, str]],
        rates: list[ratelimit.Limit],
        rate_window: int,
        slot_id: int,
        party: int,
        claim: tuple[str, str] | None = None,
        others: Sequence[int] = (),
    ) -> QueuePlace | Shortage | Replay | None:
        """A booking request's checks at the door, in one round trip.

        With `claim` (its Idempotency-Key's record key and running record), a retry gets the
        Replay of the key's record. Else the request is counted against `rates` (RateLimited
        beyond); with a `party` (0: none), the slot's shortage is returned if the mirror knows
        one (for the caller's "sold out" answer); then it is queued when this process is full
        or others queue already (so nobody jumps the queue), and its QueuePlace returned; None
        when it may be booked now. A shortage tells the places left in `others` too (the other
        slots the booking would take). A request queued or let through has claimed its key.

        AlreadyQueued if the visitor has a place already. Without Redis nothing is checked
        here (nor claimed): the booking path itself still holds.

        `request()` makes the request as it would wait in the queue (its personal data
        encrypted). It goes along when the request may well be queued: this process is full,
        or the queue has had work lately. Else it is made only if the script finds the queue
        busy after all, and the checks run again with it (uncounted): a second round trip for
        the few, where a crowd's refusals and the bookings let through would each pay for its
        encryption and its bytes.
        """
        sent = self._full_here() or self._work_seen.is_set()
        try:
            door = partial(self._door_checks, visitor_id=visitor_id, rate_window=rate_window,
                           slot_id=slot_id, party=party, claim=claim, others=others)  # fmt: skip
            answer = await door(request=request() if sent else None, rates=rates)
            if int(answer[0]) == 6:  # the queue has work: its rates are counted already
                answer = await door(request=request(), rates=[])
        except RedisError:
            log.warning("Redis unavailable: a booking request passes the door unchecked")
            return None
        verdict = int(answer[0])
        if verdict == 5:
            return Replay(answer[1])
        if verdict == 3:
            ratelimit.refuse_if_over(rates, answer[1], answer[2])
        if verdict == 4:
            return mirror.shortage_of(answer[1:], others)
        if verdict == 2:
            return None
        if verdict == 0:
            raise AlreadyQueued(queue_id=answer[1])
        _, queue_id, number, served, done_lately = answer
        self._work_seen.set()
        return QueuePlace.of(queue_id, int(number), int(served), int(done_lately))

    async def _door_checks(
        self,
        *,
        visitor_id: int,
        request: dict[str, str] | None,
        rates: list[ratelimit.Limit],
        rate_window: int,
        slot_id: int,
        party: int,
        claim: tuple[str, str] | None,
        others: Sequence[int],
    ) -> list[Any]:
        # _CHECK_IN's answer; without a `request`, {6} where it would queue one.
        queue_id = "" if request is None else secrets.token_urlsafe(12)
        return await self._check_in(
            keys=[
                _QUEUE,
                _NUMBERS,
                _TICKET + queue_id,
                _VISITOR + str(visitor_id),
                _SERVED,
                mirror.entry_key(slot_id),
                claim[0] if claim else _NO_CLAIM,
                *ratelimit.keys_of(rates),
            ],
            args=[
                queue_id,
                visitor_id,
                "" if request is None else json.dumps(request),
                TICKET_TTL_SECONDS,
                int(self._full_here()),
                party,
                len(rates),
                rate_window,
                claim[1] if claim else "",
                idempotency.RUNNING_TTL_SECONDS,
                mirror.slot_ids_arg(others),
                *(limit for _, _, limit in rates),
            ],
        )

    async def status(
        self, *, queue_id: str, visitor_id: int, wait_seconds: float = 0
    ) -> dict[str, Any]:
        """A visitor's queued request: waiting (position, wait) or done (the booking's answer).

        With `wait_seconds`, a waiting request's answer waits until its outcome is known or
        the time is up, whichever comes first. If its slot sells out meanwhile (as the mirror
        says), it is answered then, not at its turn in the queue.
        """
        if wait_seconds <= 0:
            return (await self._read(queue_id, visitor_id))[0]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        outcome = loop.create_future()
        waiters = self._waiters.setdefault(queue_id, set())
        waiters.add(outcome)
        mine, entry = [outcome], ""
        try:
            # Registered before reading: an outcome stored after this read still wakes us.
            answer, entry, party = await self._read(queue_id, visitor_id)
            if answer["status"] != "waiting":
                return answer
            if party > 0 and self._book is not None:
                self._watch_slot(entry, queue_id, party, outcome)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    told = await outcome
                    if told is _SLOT_SHORT:
                        served = await self._serve_out_of_turn(queue_id, entry)
                        if served is not None:
                            return served
                        # Taken by a drainer meanwhile, or places came back: wait as before,
                        # registered again before reading (its outcome may be stored already).
                        outcome = loop.create_future()
                        waiters.add(outcome)
                        mine.append(outcome)
                        answer, _, _ = await self._read(queue_id, visitor_id)
                        if answer["status"] != "waiting":
                            return answer
                        told = await outcome
                    if told:  # the outcome came with the wake-up: no second read
                        http_status, _, answer_json = told.partition(" ")
                        return _done(queue_id, int(http_status), json.loads(answer_json))
            return (await self._read(queue_id, visitor_id))[0]
        finally:
            waiters.difference_update(mine)
            if not waiters:
                self._waiters.pop(queue_id, None)
            self._unwatch(entry, queue_id)

    def _watch_slot(self, entry: str, key: str, party: int, wake: asyncio.Future) -> None:
        # Woken (_SLOT_SHORT) by the watcher once the mirror `entry` has fewer than `party` left.
        self._watched.setdefault(entry, {})[key] = (party, wake)

    def _unwatch(self, entry: str, key: str) -> None:
        watched = self._watched.get(entry)
        if watched is not None:
            watched.pop(key, None)
            if not watched:
                self._watched.pop(entry, None)

    async def _serve_out_of_turn(self, queue_id: str, entry: str) -> dict[str, Any] | None:
        """Serve a waiting request now if the mirror `entry` says its slot is short for its
        party (its answer, a refusal); None if not so, or a drainer has taken it."""
        book = self._book
        if book is None:  # stopped meanwhile: the request waits for the drainers
            return None
        taken = await self._serve_sold_out(keys=[_TICKET + queue_id, entry], args=[time.time()])
        if not taken:
            return None
        request, visitor = taken
        status, answer = await self._serve(queue_id, request, visitor, book)
        return _done(queue_id, status, answer)

    async def _watch(self) -> None:
        # One read of the mirror per slot wanted, for every waiting visitor of this process:
        # those whose slot is now short for their party are woken, to be answered at once.
        while True:
            stop_if_cancelled()
            await asyncio.sleep(_WATCH_SECONDS)
            entries = list(self._watched)
            if not entries:
                continue
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for entry in entries:
                        pipe.hget(entry, "left")
                    lefts = await pipe.execute()
            except RedisError:
                continue  # Redis away: they wait their turn
            for entry, left in zip(entries, lefts, strict=True):
                waiting = self._watched.get(entry, {})
                for key, (party, wake) in list(waiting.items()):
                    if left is not None and int(left) < party:
                        del waiting[key]
                        if not wake.done():
                            wake.set_result(_SLOT_SHORT)

    async def _read(self, queue_id: str, visitor_id: int) -> tuple[dict[str, Any], str, int]:
        """A queued request's answer now, with its slot's mirror entry and its party."""
        (
            served, done, owner, state, number, started, http_status, answer, entry, party
        ) = await self._status(keys=[_TICKET + queue_id, _SERVED])  # fmt: skip
        if owner != str(visitor_id):
            raise QueueTicketNotFound(queue_id=queue_id)
        if state == "done":
            shown = _done(queue_id, int(http_status), json.loads(answer))
        elif state == "running" and time.time() - float(started) > LOST_AFTER_SECONDS:
            shown = {"status": "lost", "queue_id": queue_id}
        else:
            shown = QueuePlace.of(queue_id, int(number), int(served), int(done)).as_answer()
        return shown, entry or "", int(party or 0)

    def start(self, book: Callable[[QueuedRequest], Awaitable[Outcome]], *, workers: int) -> None:
        """Start `workers` tasks that take queued requests, oldest first, and book them, the
        listener that wakes this process's long polls when their outcome is stored, and the
        watcher that answers them at once when their slot sells out.

        `book` takes one of this process's booking places (`turn`) for the booking itself, in
        line with the direct ones; a refusal it can answer without the booking path need not.
        """
        self._book = book
        self._tasks = [asyncio.create_task(self._drain(book, lead=n == 0)) for n in range(workers)]
        self._tasks += [asyncio.create_task(self._listen()), asyncio.create_task(self._watch())]

    async def stop(self) -> None:
        """Stop draining and listening (a request taken but not finished is reported lost)."""
        self._book = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _listen(self) -> None:
        # One subscription per process: an outcome stored by any process wakes the long polls
        # here, and work queued by any process wakes the drainers. A message missed while Redis
        # is away only makes a long poll run its full time (or a drainer look a moment later).
        while True:
            stop_if_cancelled()
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as listener:
                    await listener.subscribe(_DONE_CHANNEL, _WORK_CHANNEL)
                    while True:
                        stop_if_cancelled()
                        message = await listener.get_message(timeout=_LISTEN_SECONDS)
                        if message is None:
                            continue
                        if message["channel"] == _WORK_CHANNEL:
                            self._work_seen.set()
                        else:
                            self._wake(message["data"])
            except (RedisError, OSError):
                stop_if_cancelled()
                await asyncio.sleep(1.0)

    def _wake(self, message: str) -> None:
        # "<queue id> <http status> <answer JSON>" (or only the id: read the outcome then).
        queue_id, _, outcome_told = message.partition(" ")
        for outcome in self._waiters.get(queue_id, ()):
            if not outcome.done():
                outcome.set_result(outcome_told)

    async def _drain(
        self, book: Callable[[QueuedRequest], Awaitable[Outcome]], *, lead: bool
    ) -> None:
        # LPOP and a short sleep, not BLPOP: a blocking pop cancelled at shutdown may still take
        # a request off the queue, and nobody would book it. Only the lead drainer keeps looking
        # at an empty queue (twenty drainers polling it cost Redis and the booking path
        # 40 calls a second per process); the others join once it finds work.
        idle = _IDLE_SECONDS
        while True:
            stop_if_cancelled()
            try:
                if await self._drain_one(book):
                    idle = _IDLE_SECONDS
                    continue
                self._work_seen.clear()
                idle = min(idle * 2, _IDLE_LONGEST_SECONDS)
            except Exception as problem:
                stop_if_cancelled()
                if not isinstance(problem, RedisError):  # Redis away: wait for it quietly
                    log.exception("draining the waiting room failed")
                await asyncio.sleep(1.0)
                continue
            # The lead looks again after its idle time, the others after theirs, unless work
            # is seen first (queued here, or on an empty queue by any process).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle if lead else _FOLLOWER_IDLE_SECONDS):
                    await self._work_seen.wait()

    async def _drain_one(self, book: Callable[[QueuedRequest], Awaitable[Outcome]]) -> bool:
        """Book the oldest queued request, if any; False when the queue is empty."""
        taken = await self._take(keys=[_QUEUE, _SERVED], args=[_TICKET, time.time()])
        if not taken:
            return False
        self._work_seen.set()  # more may be waiting: the other drainers join before this booking
        queue_id, request = taken[0], taken[1]
        if request:  # else expired unserved (its visitor gave up long ago), or served already
            await self._serve(queue_id, request, taken[2], book)
        return True

    async def _serve(
        self,
        queue_id: str,
        request: str,
        visitor: str,
        book: Callable[[QueuedRequest], Awaitable[Outcome]],
    ) -> Outcome:
        """Book a request taken out of the queue, and store its outcome for its visitor."""
        queued = json.loads(request)
        status, answer = await book(queued)
        key, second = _TICKET + queue_id, f"{_DONE_PER_SECOND}{int(time.time())}"
        answer_json = json.dumps(answer, ensure_ascii=False)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "state": "done",
                    "http_status": status,
                    "answer": answer_json,
                },
            )
            pipe.hdel(key, "request")  # the personal data is not kept once used
            pipe.delete(_VISITOR + visitor)
            pipe.incr(second)
            pipe.expire(second, 2 * RATE_WINDOW_SECONDS)
            if queued.get("answer_record"):
                # A retry with the request's Idempotency-Key now gets the outcome, not its place.
                pipe.set(
                    queued["answer_record"],
                    idempotency.answer_record(queued["fingerprint"], (status, answer)),
                    ex=idempotency.ANSWER_TTL_SECONDS,
                )
            # The outcome travels with the wake-up: the visitor's long poll answers from it.
            pipe.publish(_DONE_CHANNEL, f"{queue_id} {status} {answer_json}")
            await pipe.execute()
        return status, answer


def _done(queue_id: str, http_status: int, answer: dict[str, Any]) -> dict[str, Any]:
    """A queued request's final answer, as its poll gives it."""
    return {"status": "done", "queue_id": queue_id, "http_status": http_status, "answer": answer}
