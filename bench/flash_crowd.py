"""Ticket release under a flash crowd (抢票): 20,000 visitors within 60 s for 2,000 places.

Usage: .venv/bin/python bench/flash_crowd.py [--visitors N] [--places P] [--seconds S]
       [--connections C] [--poll-connections L] [--baseline-workers W] [--rounds R]
       [--other-slots] [--compare REV]

Two `etour serve` processes on PostgreSQL (database etour_bench_flash, created and dropped) and
Redis (db 3, flushed), R rounds (3) of three phases on the same servers, each round on releases
of its own; the targets are judged on the median of the rounds' ratios:
1. baseline, booking without a crowd: a release of P places (8 slots) booked by W visitors at
   a time, closed loop, until it is sold out: places booked per second and booking requests/s;
2. the crowd: another release of P places; N visitors arrive within S seconds, half of them in
   the first 10 s. Each sends one booking (a party of 1-4, most wanting the morning slots) with
   `Prefer: wait=25`, so a queued one is answered with its outcome (or 202 when the wait ran
   out: then long polls, over up to L more connections per process), and on "slot full" takes
   the first suggested slot, up to 3 times, as a visitor who wants to go that day does. With
   `--other-slots` each booking names the day's other slots as well (服从调剂): the server
   books it in one with room, and the visitor sends one request where it would send up to four.
   Bookings go over C keep-alive connections per process;
3. the sold-out burst: as many booking attempts again, closed loop over the same connections,
   for the sold-out release: how fast "no places left" is answered.
Every request must get booked (201), queued (its outcome, or 202 then an outcome), or a clear
sold-out answer (409 slot_full); anything else is an error. The database must hold exactly P
places booked in each release, with one ticket per place. The run fails (RESULTS.md unchanged)
otherwise.

With `--compare REV` each of the R rounds runs twice, on servers of this tree and on servers of
git revision REV (its code, and its migrations on a database of its own), in turns, the side
going first alternating: the same bench, stores and machine, so a change's effect shows in
paired rounds rather than across runs minutes apart on a machine whose speed swings.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import heapq
import io
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tarfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from functools import partial
from pathlib import Path

import uvloop
from common import (
    PROJECT_ROOT,
    TRANSPORT_ERRORS,
    BenchError,
    CpuMeter,
    KeepAliveClient,
    Servers,
    add_store_arguments,
    drop_pg_database,
    error_code,
    flush_redis,
    invoked_command,
    machine_line,
    percentile,
    record_results,
    recreate_pg_database,
    results_unchanged,
    run_etour,
    run_in_temp_dir,
    server_environment,
)
from common import commit as current_commit
from reservations import id_number, make_venue, settings_for, signed_token

BENCH_NAME = "flash_crowd"
THIS_TREE = "this tree"
BENCH_DATABASE = "etour_bench_flash"
FIRST_PERSON = 900_000  # ID numbers far from the other benchmarks' people
SLOTS = 8
ISSUE_VISITORS = 20_000  # the issue's crowd; another size has its own section in RESULTS.md
# Most visitors want the morning: the first slots are asked for most.
SLOT_WEIGHTS = [4, 4, 3, 3, 2, 2, 1, 1]
PARTY_SIZES, PARTY_WEIGHTS = [1, 2, 3, 4], [40, 35, 15, 10]
MAX_PARTY = 4
FRONT_SECONDS = 10.0  # half of the crowd arrives within this
REQUEST_SECONDS = 60.0
# The busiest half second shows what the booking path itself sustained at its best. (The window
# must be shorter than the baseline phase, else it caps the baseline at places / window: on a
# fast machine the baseline books its 2,000 places in under 2 s.)
PEAK_WINDOW_SECONDS = 0.5
# How often the CPU each group has used is read during the baseline and the crowd, to tell what
# they used until the release sold out (the crowd's phase goes on for its whole minute).
CPU_TRACE_SECONDS = 0.1
# The timeline of each phase's bookings: places per bucket, at least this wide, at most this many.
TIMELINE_BUCKET_SECONDS, TIMELINE_BUCKETS = 0.25, 24
LONG_POLL = "GET queue (long poll)"  # waits for the outcome by design: not in "every request"
GIVE_UP_SECONDS = 300.0  # a visitor still without an outcome after this counts as an error
SEED = 20261129
# A visitor whose slot is full takes the answer's first suggestion, up to this many times.
SUGGESTIONS_TAKEN = 3
# A booking asks to be answered with its outcome when it is queued, waiting up to this long
# (RFC 7240 `Prefer: wait`), as the mini-program does: no 202 and no poll while the wait lasts.
PREFER_WAIT = "wait=25"
WARM_AT_ONCE = 50  # connections opened at a time before a phase (within the listen backlog)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line: the crowd, the release, the connections, where the stores are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--visitors", type=int, default=ISSUE_VISITORS, help="visitors in the crowd"
    )
    parser.add_argument("--places", type=int, default=2_000, help="places per release")
    parser.add_argument("--seconds", type=float, default=60.0, help="the crowd arrives within")
    # More than a process books at once plus what it lets wait (20 + 200 by default), so the
    # waiting room may have to act, as it would behind a proxy passing a crowd's connections on (a
    # queued booking holds its connection while it waits for its outcome: `Prefer: wait`).
    parser.add_argument("--connections", type=int, default=400, help="per server process")
    parser.add_argument(
        "--poll-connections", type=int, default=2000, help="per process, for long polls"
    )
    parser.add_argument("--baseline-workers", type=int, default=100, help="no-crowd bookers")
    parser.add_argument(
        "--rounds", type=int, default=3, help="baseline, crowd and burst, each on new releases"
    )
    parser.add_argument(
        "--other-slots",
        action="store_true",
        help="each visitor names the day's other slots as well (服从调剂: one request, where a "
        "visitor of one slot takes suggestions)",
    )
    parser.add_argument(
        "--compare",
        metavar="REV",
        help="run each round on this tree's servers and on those of git revision REV, in turns",
    )
    add_store_arguments(parser, database=BENCH_DATABASE, redis_db=3)
    args = parser.parse_args(argv)
    if args.places < SLOTS or args.visitors * 1.5 < args.places:
        parser.error("--places must be at least 8 and the crowd must outnumber the places")
    if min(args.connections, args.baseline_workers, args.rounds) < 1:
        parser.error("--connections, --baseline-workers and --rounds must be at least 1")
    if args.seconds < FRONT_SECONDS:
        parser.error("--seconds must be at least 10")
    if args.compare:
        # Named by its commit in the results: "HEAD" or a branch name says nothing later on.
        found = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "--short", f"{args.compare}^{{commit}}"],
            cwd=PROJECT_ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if found.returncode != 0:
            parser.error(f"--compare: no commit {args.compare!r} in this repository")
        args.compare = found.stdout.strip()
    return args


# --- the stores --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """A venue's slots released at once, and the visitors who try for them."""

    label: str
    slot_ids: list[int]
    tokens: list[str]
    # The ID numbers of the people booking number n's party: [MAX_PARTY * n, MAX_PARTY * (n + 1)).
    # Made before the phases: this load client shares the cores with the servers.
    id_numbers: list[str]


def slot_capacities(places: int) -> list[int]:
    """The places of each of a release's SLOTS consecutive hour-long slots, `places` in all."""
    each, extra = divmod(places, SLOTS)
    return [each + (1 if n < extra else 0) for n in range(SLOTS)]


async def make_release(
    database_url: str, code: str, places: int, visitors: int, people: range
) -> Release:
    """A venue with `places` over 8 slots the day after tomorrow, `visitors` visitors, and the
    `people` (numbers of ID numbers) their bookings name."""
    from server import db
    from server.accounts.models import Visitor
    from server.auth import VISITOR, Principal
    from server.clock import local_now
    from server.reservations.models import TimeSlot

    settings = settings_for(database_url)
    await db.open_database(settings)
    try:
        venue_id = await make_venue(code)
        day = local_now().date() + timedelta(days=2)
        slots = [
            await TimeSlot.create(
                venue_id=venue_id,
                date=day,
                starts_at=clock_time(9 + n),
                ends_at=clock_time(10 + n),
                capacity=capacity,
            )
            for n, capacity in enumerate(slot_capacities(places))
        ]
        await Visitor.bulk_create([Visitor(openid=f"{code}-{n}") for n in range(visitors)])
        ids = await (
            Visitor.filter(openid__startswith=f"{code}-")
            .order_by("id")
            .values_list("id", flat=True)
        )
    finally:
        await db.close_database()
    tokens = [signed_token(settings, Principal(role=VISITOR, user_id=v)) for v in ids]
    return Release(code, [slot.id for slot in slots], tokens, [id_number(n) for n in people])


async def database_counts(database_url: str, release: Release) -> dict[str, int]:
    """Places booked in the release's slots, and its tickets, read through the ORM."""
    from server import db
    from server.reservations.models import TimeSlot
    from server.tickets.models import Ticket

    await db.open_database(settings_for(database_url))
    try:
        slots = await TimeSlot.filter(id__in=release.slot_ids)
        return {
            "booked": sum(slot.booked for slot in slots),
            "capacity": sum(slot.capacity for slot in slots),
            "tickets": await Ticket.filter(slot_id__in=release.slot_ids).count(),
        }
    finally:
        await db.close_database()


async def booking_times(database_url: str, release: Release) -> list[tuple[float, int]]:
    """When each reservation of the release was booked (its row's created_at, Unix seconds), and
    its places: the booking path's own timeline, whenever the visitor learnt the outcome."""
    from server import db
    from server.reservations.models import Reservation

    await db.open_database(settings_for(database_url))
    try:
        rows = await Reservation.filter(slot_id__in=release.slot_ids).values_list(
            "created_at", "party_size"
        )
    finally:
        await db.close_database()
    return [(created.timestamp(), places) for created, places in rows]


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Every answer of a phase: latency by kind, visitors' outcomes, when places were booked."""

    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    # (seconds into the phase, places) of each booking: as its visitor was told (a queued one
    # learns it when its waiting request answers), and as the database booked it (filled in
    # after the run)
    told: list[tuple[float, int]] = field(default_factory=list)
    booked: list[tuple[float, int]] = field(default_factory=list)
    started_unix: float = 0.0  # the phase's start on the clock the database's times are read on
    started: float = 0.0  # the same on this process's performance counter
    # (seconds into the phase, kind) of every answer, to count those given until sold out
    answered: list[tuple[float, str]] = field(default_factory=list)
    visitor_waits_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu: CpuMeter | None = None  # the phase's, once it is over
    # The CPU each group used from the phase's start until its last booking (filled in after
    # the run, from its meter's trace): what each group had while places were being booked.
    cpu_until_sold_out: dict[str, float] = field(default_factory=dict)

    @property
    def cpu_seconds(self) -> dict[str, float]:
        """The CPU seconds each CpuMeter group used over the whole phase."""
        return self.cpu.seconds if self.cpu else {}

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies_ms.values())

    def note(self, kind: str, began: float) -> None:
        now = time.perf_counter()
        self.latencies_ms.setdefault(kind, []).append((now - began) * 1000)
        self.answered.append((now - self.started, kind))

    def answers_until_sold_out(self) -> Counter[str]:
        """The answers given until the last booking, by kind."""
        until = sold_out_after(self.booked)
        return Counter(kind for at, kind in self.answered if at <= until)

    def all_latencies(self) -> list[float]:
        """Every answer's latency but the long polls' (which wait on purpose)."""
        return [
            ms for kind, values in self.latencies_ms.items() if kind != LONG_POLL for ms in values
        ]


class Connections:
    """C keep-alive connections per server process, lent one request at a time, and as many
    again for the waiting room's long polls (each held until its outcome or its time is up)."""

    def __init__(
        self, addresses: list[tuple[str, int]], per_process: int, polls_per_process: int
    ) -> None:
        self.pools = [self._pool(host, port, per_process) for host, port in addresses]
        self.poll_pools = [self._pool(host, port, polls_per_process) for host, port in addresses]

    @staticmethod
    def _pool(host: str, port: int, size: int) -> asyncio.Queue[KeepAliveClient]:
        # Last in, first out: the connections in use stay warm, the rest are never opened.
        pool: asyncio.Queue[KeepAliveClient] = asyncio.LifoQueue()
        for _ in range(size):
            pool.put_nowait(KeepAliveClient(host, port))
        return pool

    async def warm(self) -> None:
        """Open (or reopen, if idle) every booking connection ahead of a phase.

        A proxy in front of the servers keeps its pool of connections to them open, whatever
        its visitors' own connections do. Opened during the crowd, they cost the servers and
        this client CPU (on the same cores) that no crowd in front of a proxy would.
        """
        for pool in self.pools:
            clients = [pool.get_nowait() for _ in range(pool.qsize())]
            try:
                for start in range(0, len(clients), WARM_AT_ONCE):
                    batch = clients[start : start + WARM_AT_ONCE]
                    await asyncio.gather(*(client.connect() for client in batch))
            finally:
                for client in reversed(clients):  # the same order: last in, first out
                    pool.put_nowait(client)

    async def request(
        self,
        process: int,
        method: str,
        path: str,
        body: object,
        headers: dict[str, str],
        *,
        long_poll: bool = False,
    ) -> tuple[int, dict, bool]:
        """The status and JSON of the answer, and whether it came from the waiting room (the
        server followed the request's `Prefer: wait`, which it does only for queued ones)."""
        pools = self.poll_pools if long_poll else self.pools
        pool = pools[process % len(pools)]
        client = await pool.get()
        try:
            status, raw = await client.request(
                method, path, body, headers, limit_seconds=REQUEST_SECONDS
            )
            queued = "\r\npreference-applied:" in client.head
        finally:
            pool.put_nowait(client)
        try:
            return status, json.loads(raw) if raw else {}, queued
        except ValueError:
            return status, {"error": {"code": "not-json"}}, queued

    async def close(self) -> None:
        for pool in self.pools + self.poll_pools:
            while not pool.empty():
                await pool.get_nowait().close()


def first_wish(rng: random.Random) -> tuple[int, int]:
    """The slot (its index: the morning's are wanted most) and the party size a visitor asks
    for first."""
    return rng.choices(range(SLOTS), SLOT_WEIGHTS)[0], rng.choices(PARTY_SIZES, PARTY_WEIGHTS)[0]


def crowd_arrivals(visitors: int, seconds: float) -> list[float]:
    """When each of the crowd's visitors arrives, in seconds from the phase's start, in order:
    half within the first FRONT_SECONDS, the rest after, until `seconds`."""
    rng = random.Random(SEED)
    front = visitors // 2
    return sorted(
        [rng.uniform(0, FRONT_SECONDS) for _ in range(front)]
        + [rng.uniform(FRONT_SECONDS, seconds) for _ in range(visitors - front)]
    )


class Visitors:
    """How one visitor of a release behaves: book, follow the queue, take suggestions."""

    def __init__(
        self, release: Release, connections: Connections, tally: Tally, *, other_slots: bool
    ) -> None:
        self.release, self.connections, self.tally = release, connections, tally
        self.other_slots = other_slots
        tally.started_unix, tally.started = time.time(), time.perf_counter()

    def booking(self, n: int, slot_id: int, size: int) -> dict:
        first = MAX_PARTY * n
        body = {
            "slot_id": slot_id,
            "visitors": [
                {"name": f"游客{n}-{k}", "id_number": self.release.id_numbers[first + k]}
                for k in range(size)
            ],
        }
        if self.other_slots:  # 服从调剂: the day's other slots will do too
            body["other_slot_ids"] = [s for s in self.release.slot_ids if s != slot_id]
        return body

    async def visit(self, n: int, rng: random.Random) -> None:
        """Visitor `n` tries for a place until booked, sold out, or an error."""
        arrived = time.perf_counter()
        headers = {
            "Authorization": f"Bearer {self.release.tokens[n]}",
            "Accept-Language": "en",
            "Prefer": PREFER_WAIT,
        }
        wanted, size = first_wish(rng)
        body = self.booking(n, self.release.slot_ids[wanted], size)
        outcome = "error"
        try:
            async with asyncio.timeout(GIVE_UP_SECONDS):
                outcome = await self._try(n, body, headers, SUGGESTIONS_TAKEN)
        except TimeoutError:
            self.tally.errors["no outcome in time"] += 1
        except TRANSPORT_ERRORS as problem:
            self.tally.errors[type(problem).__name__] += 1
        self.tally.outcomes[outcome] += 1
        self.tally.visitor_waits_ms.append((time.perf_counter() - arrived) * 1000)

    async def _try(self, n: int, body: dict, headers: dict, suggestions_left: int) -> str:
        began = time.perf_counter()
        status, answer, queued = await self.connections.request(
            n, "POST", "/api/v1/reservations", body, headers
        )
        kind = self._kind("POST", status, answer, queued=queued)
        self.tally.note(kind, began)
        if status == 202:
            status, answer = await self._follow_queue(n, answer, headers)
            kind = f"queued, then {error_code(status, answer)}"
        if status == 201:
            self.tally.told.append(
                (time.perf_counter() - self.tally.started, len(body["visitors"]))
            )
            return "booked"
        error = answer.get("error", {})
        if status == 409 and error.get("code") == "slot_full":
            suggestions = error.get("suggestions") or []
            if suggestions_left and suggestions:
                retry = {**body, "slot_id": suggestions[0]["slot_id"]}
                # Named among the others, the slot asked for must not be (a 422): with them,
                # a suggestion is the next day's, as none of the day's had room.
                if "other_slot_ids" in body:
                    retry["other_slot_ids"] = [
                        s for s in body["other_slot_ids"] if s != retry["slot_id"]
                    ]
                return await self._try(n, retry, headers, suggestions_left - 1)
            return "sold out"
        self.tally.errors[kind] += 1
        return "error"

    async def _follow_queue(self, n: int, place: dict, headers: dict) -> tuple[int, dict]:
        while True:
            await asyncio.sleep(place.get("poll_after_seconds", 1.0))
            began = time.perf_counter()
            status, place, _ = await self.connections.request(
                n, "GET", place["poll"], None, headers, long_poll=True
            )
            self.tally.note(self._kind("GET", status, place), began)
            if status != 200:
                return status, place
            if place["status"] == "done":
                return place["http_status"], place["answer"]
            if place["status"] == "lost":
                return 503, {"error": {"code": "queue_lost"}}
            place.setdefault("poll", f"/api/v1/queue/{place['queue_id']}")

    @staticmethod
    def _kind(method: str, status: int, answer: dict, *, queued: bool = False) -> str:
        if method == "GET":
            return LONG_POLL if status == 200 else f"GET queue {error_code(status, answer)}"
        kind = f"POST {status}" if status in (201, 202) else f"POST {error_code(status, answer)}"
        # A queued booking's outcome within its wait, or 202 when the wait ran out.
        return f"{kind}, queued" if queued and status != 202 else kind


async def baseline_phase(
    release: Release, connections: Connections, workers: int, *, other_slots: bool
) -> Tally:
    """Every visitor of the release books in turn, `workers` at a time (it sells out on the way)."""
    tally = Tally()
    visitors = Visitors(release, connections, tally, other_slots=other_slots)
    rng = random.Random(SEED + 1)
    numbers = iter(range(len(release.tokens)))

    async def worker() -> None:
        for n in numbers:
            await visitors.visit(n, rng)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    tally.seconds = time.perf_counter() - began
    return tally


async def crowd_phase(
    release: Release,
    connections: Connections,
    seconds: float,
    visitors_count: int,
    *,
    other_slots: bool,
) -> Tally:
    """`visitors_count` visitors arriving within `seconds`, half in the first 10 s."""
    tally = Tally()
    visitors = Visitors(release, connections, tally, other_slots=other_slots)
    arrivals = crowd_arrivals(visitors_count, seconds)
    # Each visitor's task starts at their arrival: 20,000 tasks made at once (each sleeping
    # until its time) held this client's loop for a few hundred milliseconds at the start.
    visits = []
    began = time.perf_counter()
    for n, at in enumerate(arrivals):
        early = at - (time.perf_counter() - began)
        if early > 0:
            await asyncio.sleep(early)
        visits.append(asyncio.create_task(visitors.visit(n, random.Random(SEED + n))))
    await asyncio.gather(*visits)
    tally.seconds = time.perf_counter() - began
    return tally


async def sold_out_phase(
    release: Release, connections: Connections, attempts: int, workers: int, *, other_slots: bool
) -> Tally:
    """`attempts` bookings of the sold-out release, closed loop: the fast refusal's rate."""
    tally = Tally()
    visitors = Visitors(release, connections, tally, other_slots=other_slots)
    rng = random.Random(SEED + 2)
    numbers = iter(range(attempts))

    async def worker() -> None:
        for n in numbers:
            # People nobody booked yet: a refusal can only be for want of places.
            slot_id = rng.choice(release.slot_ids)
            size = rng.choices(PARTY_SIZES, PARTY_WEIGHTS)[0]
            body = visitors.booking(len(release.tokens) + n, slot_id, size)
            token = release.tokens[n % len(release.tokens)]
            headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
            began = time.perf_counter()
            try:
                status, answer, _ = await connections.request(
                    n, "POST", "/api/v1/reservations", body, headers
                )
            except TRANSPORT_ERRORS as problem:
                tally.errors[type(problem).__name__] += 1
                continue
            kind = Visitors._kind("POST", status, answer)
            tally.note(kind, began)
            if kind != "POST 409 slot_full":
                tally.errors[kind] += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    tally.seconds = time.perf_counter() - began
    return tally


# --- what the crowd's arrivals allow ----------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """When the crowd's release sells out with its visitors served by an ideal booking path:
    one booking at a time in arrival order, each taking its party's share of a second at
    `served_at` places/s (inf: the instant it comes), refusals free and at once, no latency,
    each refused visitor's next try made at once."""

    seconds: float | None  # None: its visitors never book every place
    places: int
    served_at: float

    @property
    def rate(self) -> float:
        """Places/s until sold out at that pace (inf when it never sells out: no bound known)."""
        return self.places / self.seconds if self.seconds else math.inf

    def text(self, baseline_rate: float) -> str:
        """What the arrivals allow served at once, for RESULTS.md, beside the baseline's."""
        if self.seconds is None:
            return "Replayed at once, the crowd's visitors never book every place."
        bound = (
            "less than the baseline's: this crowd asks for places more slowly than the booking "
            "path books them"
            if self.rate < baseline_rate
            else "more than the baseline's: the crowd asks for more than the booking path books"
        )
        return (
            f"The crowd's arrivals allow at most {self.rate:.0f} places/s: with every request "
            "answered the instant it came and each refused visitor trying its next slot at "
            f"once, the release sells out after {self.seconds:.2f} s (the phase's own arrivals "
            "and choices replayed in memory against the release, booked and refused as the "
            f"servers do; the median of {DEMAND_DRAWS} draws of the suggestions' order). That is "
            f"{bound} (the baseline's median: {baseline_rate:.0f} places/s)."
        )


# The replay is drawn this many times (its suggestions' order is a draw, as the servers' is);
# the median is reported.
DEMAND_DRAWS = 9


def crowd_demand(args: argparse.Namespace, served_at: float = math.inf) -> Demand:
    """The crowd phase's Demand: its visitors, as they arrive and choose (the same draws as the
    phase's), replayed against a release kept in memory, booked and refused as the servers do,
    by an ideal booking path of `served_at` places/s."""
    from server.reservations.service import CROWDED_RATIO, SUGGESTED_SLOTS

    if served_at <= 0:  # a path that booked nothing (a broken baseline) never sells out
        return Demand(None, args.places, served_at)
    capacities = slot_capacities(args.places)
    wishes = [
        (at, *first_wish(random.Random(SEED + n)))
        for n, at in enumerate(crowd_arrivals(args.visitors, args.seconds))
    ]

    def replay(rng: random.Random) -> float | None:
        left, unbooked = list(capacities), args.places

        def crowded(n: int) -> bool:
            return capacities[n] - left[n] >= CROWDED_RATIO * capacities[n]

        def suggested(asked: int, party: int) -> int | None:
            # A refusal's suggestions: the nearest slots with room (the uncrowded first), in a
            # draw weighted by the room each has; the visitor takes the first.
            nearest = sorted(
                (n for n in range(SLOTS) if n != asked and left[n] >= party),
                key=lambda n: (crowded(n), abs(n - asked)),
            )[:SUGGESTED_SLOTS]
            return min(
                nearest,
                key=lambda n: (crowded(n), -(rng.random() ** (1 / left[n]))),
                default=None,
            )

        def moved(asked: int, party: int) -> int:
            # 服从调剂: another of the day's slots with room, drawn by the room each has.
            roomy = [n for n in range(SLOTS) if left[n] >= party]
            return rng.choices(roomy, [left[n] for n in roomy])[0] if roomy else asked

        # Tries to come, by time: (at, order, slot, party, suggestions it may still take).
        tries = [
            (at, n, slot, party, SUGGESTIONS_TAKEN) for n, (at, slot, party) in enumerate(wishes)
        ]
        heapq.heapify(tries)
        order = len(tries)
        waiting: deque[tuple[int, int, int]] = deque()  # bookings for the path, in turn
        booking: tuple[int, int] | None = None  # the (slot, party) being booked
        done_at = 0.0

        def refuse(at: float, slot: int, party: int, more: int) -> None:
            nonlocal order
            # With the other slots named, the server moves a refused booking on to one of them
            # (the try does); else the visitor takes the refusal's first suggestion.
            then = slot if args.other_slots else suggested(slot, party)
            if then is not None and more:
                heapq.heappush(tries, (at, order, then, party, more - 1))
                order += 1

        while tries or booking:
            if booking and (not tries or done_at <= tries[0][0]):
                now, (slot, party), booking = done_at, booking, None
                left[slot] -= party
                unbooked -= party
                if not unbooked:
                    return now
            else:
                now, _, slot, party, more = heapq.heappop(tries)
                if args.other_slots and left[slot] < party:
                    slot = moved(slot, party)
                # The mirror refuses a slot it knows is short at once; else the booking waits
                # its turn, and is refused then if the slot filled meanwhile.
                if left[slot] >= party:
                    waiting.append((slot, party, more))
                else:
                    refuse(now, slot, party, more)
            while booking is None and waiting:
                slot, party, more = waiting.popleft()
                if left[slot] >= party:
                    booking, done_at = (slot, party), now + party / served_at
                else:
                    refuse(now, slot, party, more)
        return None

    draws = [replay(random.Random(SEED + draw)) for draw in range(DEMAND_DRAWS)]
    middle = statistics.median(math.inf if draw is None else draw for draw in draws)
    return Demand(None if math.isinf(middle) else middle, args.places, served_at)


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Round:
    """One round's three phases, each on the round's own releases."""

    baseline: Tally
    crowd: Tally
    sold_out: Tally

    def throughput_ratio(self) -> float:
        """Places/s until sold out, the crowd's over the baseline's."""
        base = booking_rate(self.baseline.booked)
        return booking_rate(self.crowd.booked) / base if base else 0.0

    def ideal(self, args: argparse.Namespace) -> Demand:
        """The crowd's arrivals served by an ideal booking path as fast as this round's
        baseline: the most the booking path, undisturbed by the crowd, could book them at."""
        return crowd_demand(args, served_at=booking_rate(self.baseline.booked))

    def ideal_ratio(self, ideal: Demand) -> float:
        """Places/s until sold out, the crowd's over the `ideal` path's (this round's)."""
        return booking_rate(self.crowd.booked) / ideal.rate if ideal.seconds else 0.0

    def peak_ratio(self) -> float:
        """Places/s in the busiest half second, the crowd's over the baseline's."""
        base = peak_booking_rate(self.baseline.booked)
        return peak_booking_rate(self.crowd.booked) / base if base else 0.0

    def cpu_ratio(self) -> float:
        """Places booked per CPU second of the servers until sold out, the crowd's over the
        baseline's: the booking path's own cost under the crowd, whatever CPU the shared
        machine left the servers."""
        crowd = server_cpu_per_place_ms(self.crowd)
        return server_cpu_per_place_ms(self.baseline) / crowd if crowd else 0.0

    def refusal_rate(self) -> float:
        """Sold-out answers per second in the burst."""
        return self.sold_out.requests / self.sold_out.seconds if self.sold_out.seconds else 0.0

    def sold_out_ratio(self) -> float:
        """The burst's sold-out answers/s over the baseline's booking requests/s."""
        base = booking_requests_rate(self.baseline)
        return self.refusal_rate() / base if base else 0.0


@dataclass
class Results:
    rounds: list[Round]
    counts: dict[str, dict[str, int]]
    places: int

    def problems(self) -> list[str]:
        found = []
        for number, one in enumerate(self.rounds, 1):
            for name, tally in (
                ("baseline", one.baseline),
                ("crowd", one.crowd),
                ("sold-out burst", one.sold_out),
            ):
                if tally.errors:
                    found.append(f"round {number}, {name}: errors {dict(tally.errors)}")
        for name, counts in self.counts.items():
            if not counts["booked"] == counts["tickets"] == self.places:
                found.append(f"{name}: database counts {counts}, expected {self.places}")
        return found

    def median_round(self) -> Round:
        """The round whose throughput ratio is the median (the lower middle of an even count)."""
        ranked = sorted(self.rounds, key=Round.throughput_ratio)
        return ranked[(len(ranked) - 1) // 2]


def sold_out_after(booked: list[tuple[float, int]]) -> float:
    """Seconds from the phase's start until its last booking."""
    return max((at for at, _ in booked), default=0.0)


def booking_rate(booked: list[tuple[float, int]]) -> float:
    """Places booked per second until the last place was booked."""
    until = sold_out_after(booked)
    return sum(places for _, places in booked) / until if until else 0.0


def peak_booking_rate(
    booked: list[tuple[float, int]], window: float = PEAK_WINDOW_SECONDS
) -> float:
    """Places booked per second in the busiest `window` seconds of the phase."""
    booked = sorted(booked)
    best, first, in_window = 0, 0, 0
    for at, places in booked:
        in_window += places
        while booked[first][0] < at - window:
            in_window -= booked[first][1]
            first += 1
        best = max(best, in_window)
    return best / window


def timeline(booked: list[tuple[float, int]], bucket: float) -> str:
    """Places booked per second in each `bucket` seconds of the phase, from its start."""
    per_bucket = [0] * (int(sold_out_after(booked) / bucket) + 1)
    for at, places in booked:
        per_bucket[max(int(at / bucket), 0)] += places
    return " ".join(f"{places / bucket:.0f}" for places in per_bucket)


def cpu_while_booking(tally: Tally) -> dict[str, float]:
    """Each group's CPU seconds from the phase's start until its last booking."""
    start = tally.started_unix
    began, ended = (
        tally.cpu.used_until(start),
        tally.cpu.used_until(start + sold_out_after(tally.booked)),
    )
    return {group: ended[group] - began[group] for group in CpuMeter.GROUPS}


def answers_per_place(tally: Tally) -> Counter[str]:
    """The answers given until sold out, by kind, per place booked (how many refusals the
    booking path's CPU was shared with)."""
    places = sum(places for _, places in tally.booked) or 1
    return Counter({kind: n / places for kind, n in tally.answers_until_sold_out().items()})


def per_place_text(tally: Tally) -> str:
    """`kind n, ...` of answers_per_place, the most common first."""
    return ", ".join(f"{kind} {n:.2f}" for kind, n in answers_per_place(tally).most_common())


def server_cpu_per_place_ms(tally: Tally) -> float:
    """The servers' CPU milliseconds per place booked, until sold out."""
    places = sum(places for _, places in tally.booked)
    return 1000 * tally.cpu_until_sold_out.get("servers", 0.0) / places if places else 0.0


def server_cpu_per_answer_ms(tally: Tally) -> float:
    """The servers' CPU milliseconds per answer over the whole phase."""
    return 1000 * tally.cpu_seconds.get("servers", 0.0) / max(tally.requests, 1)


def cores_while_booking(tally: Tally, group: str | None = None) -> float:
    """The cores `group` (None: the four groups together) used on average until sold out."""
    until = sold_out_after(tally.booked)
    used = tally.cpu_until_sold_out
    seconds = sum(used.values()) if group is None else used.get(group, 0.0)
    return seconds / until if until else 0.0


def booking_requests_rate(tally: Tally) -> float:
    """Booking requests answered per second until sold out (the booking path's rate)."""
    until = sold_out_after(tally.booked) or tally.seconds
    return len(tally.booked) / until if until else 0.0


async def run_phases(
    servers: Servers, releases: list[dict[str, Release]], args: argparse.Namespace
) -> list[Round]:
    """Each round's baseline, crowd and sold-out burst, back to back on the same servers: a
    slow patch of the shared machine falls on one round, not on one side of every ratio."""
    connections = Connections(servers.addresses, args.connections, args.poll_connections)
    # This load client's own collector would stop it for a few hundred milliseconds now and then
    # (tens of thousands of visitors' objects): a gap in the servers' timeline that is not theirs.
    gc.freeze()
    gc.disable()
    rounds = []
    try:
        for number, release in enumerate(releases, 1):
            print(f"round {number}: baseline: booking without a crowd ...", flush=True)
            await connections.warm()
            with CpuMeter(servers.pids(), every=CPU_TRACE_SECONDS) as cpu:
                baseline = await baseline_phase(
                    release["baseline"],
                    connections,
                    args.baseline_workers,
                    other_slots=args.other_slots,
                )
            baseline.cpu = cpu
            print(f"round {number}: crowd: {args.visitors} visitors within {args.seconds:.0f} s"
                  " ...", flush=True)  # fmt: skip
            await connections.warm()
            with CpuMeter(servers.pids(), every=CPU_TRACE_SECONDS) as cpu:
                crowd = await crowd_phase(
                    release["crowd"],
                    connections,
                    args.seconds,
                    args.visitors,
                    other_slots=args.other_slots,
                )
            crowd.cpu = cpu
            print(f"round {number}: sold-out burst ...", flush=True)
            await connections.warm()
            with CpuMeter(servers.pids()) as cpu:
                sold_out = await sold_out_phase(
                    release["crowd"],
                    connections,
                    args.visitors,
                    2 * args.connections,
                    other_slots=args.other_slots,
                )
            sold_out.cpu = cpu
            rounds.append(Round(baseline, crowd, sold_out))
    finally:
        await connections.close()
        gc.enable()
        gc.unfreeze()
    return rounds


def run_benchmark(args: argparse.Namespace, data_dir: Path, code: Path | None = None) -> Results:
    """The rounds on servers of this tree, or of the source tree `code` (another revision's)."""
    try:
        database_url = asyncio.run(recreate_pg_database(args.pg_admin_url, BENCH_DATABASE))
        asyncio.run(flush_redis(args.redis_url))
    except OSError as problem:
        raise BenchError(f"PostgreSQL or Redis unavailable: {problem!r}") from None
    try:
        env = server_environment(data_dir, database_url, args.redis_url, ETOUR_ENV="test")
        if code is not None:  # its packages first on the path, before this tree's installed ones
            env["PYTHONPATH"] = str(code)
        run_etour(env, data_dir, "init-db")
        # Three visitors a place: parties average about two and want the morning, so even the
        # least wanted slot sells out.
        baseline_visitors = 3 * args.places
        # Each release's people: its visitors' parties, and the sold-out burst's after them.
        people = {"baseline": baseline_visitors, "crowd": 2 * args.visitors}
        releases, first_person = [], FIRST_PERSON
        for number in range(1, args.rounds + 1):
            releases.append({})
            for name, visitors in (("baseline", baseline_visitors), ("crowd", args.visitors)):
                their_people = range(first_person, first_person + MAX_PARTY * people[name])
                releases[-1][name] = asyncio.run(
                    make_release(database_url, f"flash-{name}-{number}", args.places, visitors,
                                 their_people)
                )  # fmt: skip
                first_person = their_people.stop
        with Servers(env, data_dir, [(), ()]) as servers:
            # uvloop, as the servers (Sanic) run on: a lighter event loop and sockets than
            # asyncio's, so this client leaves more of the shared cores to the servers.
            rounds = uvloop.run(run_phases(servers, releases, args))
            problems = servers.log_problems()
            said = Counter(
                re.sub(r"\d+", "N", line)[:160]
                for line in servers.output().splitlines()
                if "WARNING" in line or "ERROR" in line
            )
            for line, count in said.most_common(8):  # what the servers complained of, if anything
                print(f"  servers said {count}x: {line}", flush=True)
        if problems:
            raise BenchError(f"the servers logged {problems}")
        counts = {}
        for number, (one, release) in enumerate(zip(rounds, releases, strict=True), 1):
            for name, tally in (("baseline", one.baseline), ("crowd", one.crowd)):
                counts[f"round {number} {name}"] = asyncio.run(
                    database_counts(database_url, release[name])
                )
                tally.booked = [
                    (at - tally.started_unix, places)
                    for at, places in asyncio.run(booking_times(database_url, release[name]))
                ]  # fmt: skip
                tally.cpu_until_sold_out = cpu_while_booking(tally)
        return Results(rounds, counts, args.places)
    finally:
        asyncio.run(drop_pg_database(args.pg_admin_url, BENCH_DATABASE))
        asyncio.run(flush_redis(args.redis_url))


def source_of(revision: str, into: Path) -> Path:
    """Git revision `revision`'s source tree, written under `into`."""
    tree = into / "servers-code"
    tree.mkdir()
    try:
        archive = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "archive", "--format=tar", revision],
            capture_output=True,
            check=True,
        ).stdout
    except subprocess.CalledProcessError as problem:
        raise BenchError(f"no revision {revision!r}: {problem.stderr.decode().strip()}") from None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def run_comparison(args: argparse.Namespace, data_dir: Path) -> dict[str, list[Round]]:
    """Each round on this tree's servers and on revision `args.compare`'s, in turns (the side
    going first alternates); the rounds of each side."""
    sides: dict[str, Path | None] = {
        THIS_TREE: None,
        args.compare: source_of(args.compare, data_dir),
    }
    one_round = argparse.Namespace(**{**vars(args), "rounds": 1})
    rounds: dict[str, list[Round]] = {side: [] for side in sides}
    for number in range(args.rounds):
        order = list(sides) if number % 2 == 0 else list(reversed(sides))
        for side in order:
            print(f"comparison round {number + 1}: servers of {side}", flush=True)
            run_dir = data_dir / f"round-{number + 1}-run-{order.index(side) + 1}"
            run_dir.mkdir()
            results = run_benchmark(one_round, run_dir, sides[side])
            problems = results.problems()
            if problems:
                raise BenchError(f"servers of {side}: {problems}")
            rounds[side].extend(results.rounds)
    return rounds


def comparison_body(rounds: dict[str, list[Round]], args: argparse.Namespace, at: datetime) -> str:
    """The paired rounds' figures, each side's medians, and how often this tree's was higher."""
    this, other = rounds[THIS_TREE], rounds[args.compare]
    ideals = {id(one): one.ideal(args) for one in this + other}
    figures = (
        ("baseline places/s", lambda one: booking_rate(one.baseline.booked), "{:.0f}"),
        ("crowd places/s", lambda one: booking_rate(one.crowd.booked), "{:.0f}"),
        ("crowd / baseline, places/s until sold out", Round.throughput_ratio, "{:.2f}"),
        (
            "crowd / its arrivals served by an ideal path at the baseline's rate",
            lambda one: one.ideal_ratio(ideals[id(one)]),
            "{:.2f}",
        ),
        ("places per servers' CPU s, crowd / baseline", Round.cpu_ratio, "{:.2f}"),
        ("sold-out answers/s / baseline booking requests/s", Round.sold_out_ratio, "{:.1f}"),
        (
            "sold-out burst: servers' CPU ms per answer",
            lambda one: server_cpu_per_answer_ms(one.sold_out),
            "{:.3f}",
        ),
    )
    rows = [
        f"| figure | round: this tree / {args.compare} | median, this tree | median, "
        f"{args.compare} | rounds where this tree's is higher |",
        "|---|---|---:|---:|---:|",
    ]
    for label, figure, shape in figures:
        pairs = [(figure(mine), figure(theirs)) for mine, theirs in zip(this, other, strict=True)]
        each = " · ".join(f"{shape.format(a)} / {shape.format(b)}" for a, b in pairs)
        higher = sum(a > b for a, b in pairs)
        rows.append(
            f"| {label} | {each} | {shape.format(statistics.median(a for a, _ in pairs))} "
            f"| {shape.format(statistics.median(b for _, b in pairs))} "
            f"| {higher} of {len(pairs)} |"
        )
    title = f"the flash crowd on this tree's servers and on {args.compare}'s"
    crowd = f"{args.visitors} visitors within {args.seconds:.0f} s for {args.places} places"
    if args.other_slots:
        crowd += ", naming other slots"
    return f"""## {section_name(args)}_compare: {title}

- date (UTC): {at:%Y-%m-%d %H:%M}
- commit: {current_commit()} (this tree: its committed code and any changes not committed yet)
- machine: {machine_line(postgres=True)}
- command: `{invoked_command()}`
- method: {args.rounds} rounds, each run twice back to back, once on servers of this tree and \
once on servers of {args.compare} (its source from git, its migrations on a database of its \
own; the bench, load client and stores the same), the side going first alternating; each run \
one round of `flash_crowd.py` ({crowd}), with its checks
- checked: every run's requests answered 201, 202 then an outcome, or 409 slot_full, and each \
release's database counts exact

{chr(10).join(rows)}
"""


def latency_row(label: str, values: list[float], seconds: float) -> str:
    rate = len(values) / seconds if seconds else 0.0
    return (
        f"| {label} | {len(values)} | {rate:.0f} | {percentile(values, 50):.1f} "
        f"| {percentile(values, 99):.1f} |"
    )


def cpu_rows(phases: dict[str, Tally]) -> list[str]:
    """CPU seconds each group used over each phase, and the load client's per request."""
    rows = [
        "| phase: CPU seconds | " + " | ".join(CpuMeter.GROUPS) + " | load client ms/request |",
        "|---|" + "---:|" * (len(CpuMeter.GROUPS) + 1),
    ]
    for name, tally in phases.items():
        used = [tally.cpu_seconds.get(group, 0.0) for group in CpuMeter.GROUPS]
        client_ms = 1000 * tally.cpu_seconds.get("load client", 0.0) / max(tally.requests, 1)
        cells = " | ".join(f"{seconds:.1f}" for seconds in used)
        rows.append(f"| {name} ({tally.seconds:.1f} s) | {cells} | {client_ms:.2f} |")
    return rows


def round_rows(results: Results, ideals: list[Demand]) -> list[str]:
    """Each round's two targets' figures (`ideals`: each round's ideal path)."""
    rows = [
        "| round | baseline places/s | crowd places/s | crowd / baseline | its arrivals "
        "served by an ideal path at the baseline's rate, places/s | crowd / that | busiest 0.5 s, "
        "crowd / baseline | crowd sold out after s | sold-out answers/s | baseline booking "
        "requests/s | sold-out / booking | servers' CPU ms per place, baseline / crowd "
        "| places per servers' CPU s, crowd / baseline | cores until sold out, baseline: "
        "servers / load client | crowd: servers / load client | cores until sold out, the "
        "four groups together: baseline / crowd | sold-out burst: servers' CPU ms per answer |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for number, (one, ideal) in enumerate(zip(results.rounds, ideals, strict=True), 1):
        rows.append(
            f"| {number} | {booking_rate(one.baseline.booked):.0f} "
            f"| {booking_rate(one.crowd.booked):.0f} | {one.throughput_ratio():.2f} "
            f"| {ideal.rate:.0f} | {one.ideal_ratio(ideal):.2f} | {one.peak_ratio():.2f} "
            f"| {sold_out_after(one.crowd.booked):.1f} "
            f"| {one.refusal_rate():.0f} | {booking_requests_rate(one.baseline):.0f} "
            f"| {one.sold_out_ratio():.1f} | {server_cpu_per_place_ms(one.baseline):.2f} / "
            f"{server_cpu_per_place_ms(one.crowd):.2f} | {one.cpu_ratio():.2f} "
            f"| {cores_while_booking(one.baseline, 'servers'):.2f} / "
            f"{cores_while_booking(one.baseline, 'load client'):.2f} "
            f"| {cores_while_booking(one.crowd, 'servers'):.2f} / "
            f"{cores_while_booking(one.crowd, 'load client'):.2f} "
            f"| {cores_while_booking(one.baseline):.2f} / {cores_while_booking(one.crowd):.2f} "
            f"| {server_cpu_per_answer_ms(one.sold_out):.3f} |"
        )
    return rows


def results_body(results: Results, args: argparse.Namespace, at: datetime) -> str:
    median = results.median_round()
    shown = results.rounds.index(median) + 1
    crowd, baseline, sold_out = median.crowd, median.baseline, median.sold_out
    throughput = statistics.median(one.throughput_ratio() for one in results.rounds)
    demand = crowd_demand(args)
    ideals = [one.ideal(args) for one in results.rounds]
    ideal_rate = statistics.median(ideal.rate for ideal in ideals)
    to_ideal = statistics.median(
        one.ideal_ratio(ideal) for one, ideal in zip(results.rounds, ideals, strict=True)
    )
    baseline_rate = statistics.median(booking_rate(one.baseline.booked) for one in results.rounds)
    peak = statistics.median(one.peak_ratio() for one in results.rounds)
    refusals = statistics.median(one.sold_out_ratio() for one in results.rounds)
    cpu_ratio = statistics.median(one.cpu_ratio() for one in results.rounds)
    machine = {
        name: statistics.median(cores_while_booking(getattr(one, name)) for one in results.rounds)
        for name in ("baseline", "crowd")
    }
    rows = [
        "| phase: answers | count | per s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
        latency_row("baseline: every request", baseline.all_latencies(), baseline.seconds),
        latency_row("crowd: every request", crowd.all_latencies(), crowd.seconds),
    ]
    rows += [
        latency_row(f"crowd: {kind}", values, crowd.seconds)
        for kind, values in sorted(crowd.latencies_ms.items())
    ]
    rows.append(latency_row("sold-out burst: POST 409 slot_full", sold_out.all_latencies(),
                            sold_out.seconds))  # fmt: skip
    waits = crowd.visitor_waits_ms
    queued_answered = sum(
        len(values) for kind, values in crowd.latencies_ms.items() if kind.endswith(", queued")
    )
    bucket = max(TIMELINE_BUCKET_SECONDS, sold_out_after(crowd.told) / TIMELINE_BUCKETS)
    others_named, refused = (
        (" and naming the day's other slots too (服从调剂: booked in one with room)", "refused")
        if args.other_slots
        else ("", "the slot is full")
    )
    return f"""## {section_name(args)}: {args.visitors} visitors within {args.seconds:.0f} s for \
{args.places} places

- date (UTC): {at:%Y-%m-%d %H:%M}
- commit: {current_commit()}
- machine: {machine_line(postgres=True)}, shared with other work
- command: `{invoked_command()}`
- layout: two `etour serve` processes on PostgreSQL (`{BENCH_DATABASE}`, created and dropped) \
and Redis (db 3, flushed); the load from this process on the same 2 cores, {args.connections} \
keep-alive connections per server process for bookings (each sent with `Prefer: {PREFER_WAIT}`: \
a queued booking holds its connection until its outcome) and up to {args.poll_connections} more \
for the long polls of queued bookings whose wait ran out
- rounds: {len(results.rounds)}, each three phases back to back on releases of its own, so a \
slow patch of the shared machine falls on one round rather than on one side of every ratio; the \
targets are judged on the median of the rounds' ratios, and the tables after the rounds show \
the median round (round {shown})
- phases: (1) baseline: a release of {args.places} places in 8 slots, booked by \
{args.baseline_workers} visitors at a time until sold out; (2) the crowd: another release of \
{args.places} places, {args.visitors} visitors arriving within {args.seconds:.0f} s (half in \
the first 10 s), each booking a party of 1-4 for their preferred slot{others_named}, \
following the waiting room when queued, taking the first suggestion (up to \
{SUGGESTIONS_TAKEN} times) when {refused}; (3) the sold-out \
burst: {args.visitors} more booking attempts for the sold-out release, closed loop
- checked: every request answered 201 or 409 slot_full, at once or after the queue (or 202, \
then an outcome); the database \
holds exactly {args.places} places and as many tickets in each release

{chr(10).join(round_rows(results, ideals))}

Medians of the rounds: booking throughput until sold out, crowd / baseline \
**{throughput:.2f}**. {demand.text(baseline_rate)} Served by an ideal booking path as fast \
as each round's baseline (one booking at a time in turn, each taking its party's share of a \
second at the baseline's places/s; refusals free and at once; no latency), the same arrivals and \
choices book at {ideal_rate:.0f} places/s (median): the most the booking path, undisturbed by \
the crowd, could book this crowd at. It is below the baseline's own rate wherever the crowd asks \
for places at about the pace the path books them, as bookings then wait on arrivals part of the \
time: there crowd / baseline cannot reach 1 for any server. Crowd / that ideal \
**{to_ideal:.2f}** (target >= 1: the crowd booked as fast as the booking path books without \
it, given when its visitors asked). Busiest {PEAK_WINDOW_SECONDS} s of \
booking, crowd / baseline {peak:.2f}; sold-out answers/s / baseline booking requests/s \
**{refusals:.1f}** (target >= 5). Places booked per CPU second of the servers until sold out, \
crowd / baseline **{cpu_ratio:.2f}**: the booking path's own cost under the crowd, apart from \
the share of the shared cores the servers got (the load client runs on them too). The four \
groups together used {machine["baseline"]:.2f} cores in the baseline and \
{machine["crowd"]:.2f} in the crowd until sold out (medians), of the machine's \
{os.cpu_count()}: where both are near all of them, the crowd books as fast only if what it \
asks besides its bookings costs next to nothing.

The median round (round {shown}):

{chr(10).join(rows)}

{chr(10).join(cpu_rows({"baseline": baseline, "crowd": crowd, "sold-out burst": sold_out}))}

| figure | value |
|---|---:|
| crowd: visitors booked / sold out / errors | {crowd.outcomes["booked"]} / \
{crowd.outcomes["sold out"]} / {sum(crowd.errors.values())} |
| crowd: places booked (database) | {results.counts[f"round {shown} crowd"]["booked"]} |
| crowd: booking requests queued: answered with their outcome / 202 when the wait ran out | \
{queued_answered} / {len(crowd.latencies_ms.get("POST 202", []))} |
| crowd: sold out after (s from the first arrival): in the database / as visitors were told \
| {sold_out_after(crowd.booked):.1f} / {sold_out_after(crowd.told):.1f} |
| crowd: requests answered per s over the phase | {crowd.requests / crowd.seconds:.0f} |
| answers until sold out per place booked, baseline ({per_place_text(baseline)}) \
| {sum(answers_per_place(baseline).values()):.2f} |
| answers until sold out per place booked, crowd ({per_place_text(crowd)}) \
| {sum(answers_per_place(crowd).values()):.2f} |
| crowd: a visitor's wait from arrival to outcome, p50 / p99 s | \
{percentile(waits, 50) / 1000:.2f} / {percentile(waits, 99) / 1000:.2f} |

Places booked per second in each {bucket:.2f} s from the start of the phase (the crowd's from \
its first arrival), until sold out: by the reservations' times in the database (what the two \
throughput figures above count), and as the visitors were told (a queued visitor learns it when \
its waiting request answers).

- baseline, in the database: {timeline(baseline.booked, bucket)}
- crowd, in the database: {timeline(crowd.booked, bucket)}
- crowd, as told: {timeline(crowd.told, bucket)}
"""


def main(argv: list[str] | None = None) -> int:
    """Run the three phases, print the figures, record them when every promise held."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    run = partial(run_comparison if args.compare else run_benchmark, args)
    measured = run_in_temp_dir(
        BENCH_NAME, run, prefix="etour-bench-flash-", stopped="the servers were stopped"
    )
    if args.compare:
        body = comparison_body(measured, args, started_at)
        print(body)
        return record_results(f"{section_name(args)}_compare", body)
    results = measured
    body = results_body(results, args, started_at)
    print(body)
    problems = results.problems()
    if problems:
        return results_unchanged(section_name(args), str(problems))
    return record_results(section_name(args), body)


def section_name(args: argparse.Namespace) -> str:
    """The run's section of RESULTS.md: the crowd that names other slots has its own, and so
    has a crowd of another size than the issue's (`flash_crowd_40000_visitors`, say); a
    comparison's is the same name with `_compare` after it."""
    name = f"{BENCH_NAME}_other_slots" if args.other_slots else BENCH_NAME
    return name if args.visitors == ISSUE_VISITORS else f"{name}_{args.visitors}_visitors"


if __name__ == "__main__":
    sys.exit(main())
