"""The booking door's check, batched, next to redis-py's general path: CPU per check, checks/s.

Usage: .venv/bin/python bench/door_calls.py [--checks N] [--rounds R] [--redis-url URL]

Every booking request of a crowd passes the door: `WaitingRoom.check_in`, one Lua script that
counts the rates, reads the slot's mirror entry and queues when needed. This runs N checks of a
sold-out slot (the crowd's most common answer) through a real `WaitingRoom` on the Redis of this
machine (db 4, flushed), `door` checks at a time (1 and 10; the servers' door lets in 20), two
ways in each round, back to back:
1. baseline: the script called through redis-py's general command path, one round trip each
   (what the door did before);
2. batched: the door's `BatchedScript`, which sends the checks made while a batch is on its way
   together, pipelined on one connection.
Reported: the median over R rounds of this process's CPU per check (`time.process_time`: the
server's cost, whatever else the machine does) and of checks per second, and their ratios. Every
check must answer the sold-out shortage; otherwise RESULTS.md is left unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import uvloop
from common import (
    REDIS_URL,
    SECRET_KEY,
    flush_redis,
    invoked_command,
    machine_line,
    record_results,
    results_unchanged,
)
from common import commit as current_commit

from server import ratelimit
from server.cache import connect_redis
from server.config import load_settings
from server.release import mirror
from server.release.mirror import Shortage
from server.release.waiting_room import WaitingRoom

BENCH_NAME = "door_calls"
DOORS = (1, 10)  # checks at a time: one alone, and ten (the servers' door lets in 20)
SLOT_ID = 1
PARTY = 2
# What a booking request takes to Redis at the door: its encrypted booking among the rest.
REQUEST = {"visitor_id": 0, "booking": "x" * 400, "language": "zh", "key": "", "fingerprint": ""}


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The checks per measurement, the rounds, and the Redis to use (its db is flushed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000, help="checks per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of both ways")
    parser.add_argument("--redis-url", default=f"{REDIS_URL}/4", help="flushed!")
    args = parser.parse_args(argv)
    if min(args.checks, args.rounds) < 1:
        parser.error("--checks and --rounds must be at least 1")
    return args


@dataclass
class Measured:
    """One way's figures at one door size: per round, CPU microseconds per check and checks/s."""

    cpu_us: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)


async def measure(room: WaitingRoom, checks: int, door: int) -> tuple[float, float]:
    """CPU microseconds per check and checks/s for `checks` door checks, `door` at a time."""
    gate = asyncio.Semaphore(door)
    rates: list[ratelimit.Limit] = []

    async def check(visitor_id: int) -> None:
        async with gate:
            answer = await room.check_in(
                visitor_id=visitor_id,
                request=lambda: REQUEST,
                rates=rates,
                rate_window=60,
                slot_id=SLOT_ID,
                party=PARTY,
            )
        if not isinstance(answer, Shortage) or answer.remaining != 0:
            raise AssertionError(f"a check of the sold-out slot answered {answer!r}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(check(n) for n in range(checks)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / checks * 1e6, checks / wall


async def run(args: argparse.Namespace) -> dict[tuple[str, int], Measured]:
    """Both ways at each door size, R rounds; the figures by (way, door)."""
    redis = connect_redis(load_settings(redis_url=args.redis_url, secret_key=SECRET_KEY))
    try:
        await redis.hset(mirror.entry_key(SLOT_ID), mapping={"left": 0, "rev": 1})
        batched = WaitingRoom(redis, concurrency=1, backlog=0, door=1)
        general = WaitingRoom(redis, concurrency=1, backlog=0, door=1)
        # The same Lua, called the general way (the door's call before it was batched).
        script = redis.register_script(batched._check_in.script)
        general._check_in = lambda keys, args: script(keys=keys, args=args)
        results: dict[tuple[str, int], Measured] = {}
        for _ in range(args.rounds):
            for door in DOORS:
                for way, room in (("redis-py", general), ("batched", batched)):
                    cpu_us, rate = await measure(room, args.checks, door)
                    figures = results.setdefault((way, door), Measured())
                    figures.cpu_us.append(cpu_us)
                    figures.rate.append(rate)
        return results
    finally:
        await redis.aclose()


def results_table(results: dict[tuple[str, int], Measured]) -> str:
    """Per door size: the medians of both ways and the ratios."""
    rows = [
        "| checks at a time | redis-py CPU us/check | batched CPU us/check | CPU, redis-py / "
        "batched | redis-py checks/s | batched checks/s | checks/s, batched / redis-py |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for door in DOORS:
        general, batched = results["redis-py", door], results["batched", door]
        cpu = [statistics.median(general.cpu_us), statistics.median(batched.cpu_us)]
        rate = [statistics.median(general.rate), statistics.median(batched.rate)]
        rows.append(
            f"| {door} | {cpu[0]:.0f} | {cpu[1]:.0f} | **{cpu[0] / cpu[1]:.2f}** | "
            f"{rate[0]:.0f} | {rate[1]:.0f} | **{rate[1] / rate[0]:.2f}** |"
        )
    return "\n".join(rows)


def results_body(
    results: dict[tuple[str, int], Measured], args: argparse.Namespace, at: datetime
) -> str:
    return f"""## {BENCH_NAME}: the booking door's check, batched vs one at a time

- date (UTC): {at:%Y-%m-%d %H:%M}
- commit: {current_commit()}
- machine: {machine_line()}, shared with other work
- command: `{invoked_command()}`
- load: {args.checks} door checks (`WaitingRoom.check_in`) of a sold-out slot per \
measurement, 1 or 10 at a time, in one process on uvloop, on this machine's Redis (db 4, \
flushed); {args.rounds} rounds, each both ways back to back; medians of the rounds
- baseline: the same script through redis-py's general command path, one round trip per check
- checked: every check answered the sold-out shortage

{results_table(results)}
"""


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, record it when every check answered as it must."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    try:
        asyncio.run(flush_redis(args.redis_url))
        results = uvloop.run(run(args))
    except (OSError, AssertionError) as problem:
        return results_unchanged(BENCH_NAME, repr(problem))
    print(results_table(results))
    return record_results(BENCH_NAME, results_body(results, args, started_at))


if __name__ == "__main__":
    sys.exit(main())
