"""The oversell storm, timed: 2,000 visitors at once for the 100 places of one slot.

Usage: .venv/bin/python bench/storm.py [--attempts N] [--places P] [--in-flight C] [--seconds S]

Two layouts, each on stores it creates and removes:
1. PostgreSQL + Redis: two `etour serve` processes on their own ports (database etour_bench_storm,
   created and dropped; Redis db 2, flushed), the attempts split evenly between them;
2. embedded: one `etour serve` on a SQLite file with the in-process Redis (the embedded Redis lives
   in one process, so this layout cannot have two).
Each attempt is a different visitor booking one new person (POST /api/v1/reservations) from C
keep-alive connections per process. Every attempt must get 201 or 409 slot_full, exactly P
must get 201, and the database's own counts (booked, reservations, tickets) must equal P: a run
that breaks this fails and leaves RESULTS.md as it was. The baseline, in the same run on the
same servers and connections: the same number of GET /healthz (one database and one Redis round
trip); the ratio is storm attempts/s over /healthz requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from common import (
    TRANSPORT_ERRORS,
    BenchError,
    KeepAliveClient,
    LoadRun,
    Servers,
    add_store_arguments,
    drive,
    drop_pg_database,
    error_code,
    flush_redis,
    invoked_command,
    machine_line,
    record_results,
    recreate_pg_database,
    results_unchanged,
    run_etour,
    run_in_temp_dir,
    server_environment,
)
from common import commit as current_commit
from reservations import id_number, make_venue, settings_for, signed_token

BENCH_NAME = "storm"
BENCH_DATABASE = "etour_bench_storm"
FIRST_PERSON = 700_000  # ID numbers far from the other benchmarks' people


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line: the storm's size, connections, time budget, where the stores are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=2000, help="reservation attempts")
    parser.add_argument("--places", type=int, default=100, help="the slot's capacity")
    parser.add_argument("--in-flight", type=int, default=200, help="connections per process")
    parser.add_argument("--seconds", type=float, default=180.0, help="time budget per phase")
    add_store_arguments(parser, database=BENCH_DATABASE, redis_db=2)
    parser.add_argument("--no-postgres", action="store_true", help="only the embedded layout")
    args = parser.parse_args(argv)
    if min(args.attempts, args.places, args.in_flight) < 1 or args.seconds <= 0:
        parser.error("--attempts, --places, --in-flight >= 1 and --seconds > 0")
    if args.places >= args.attempts:
        parser.error("--places must be fewer than --attempts: a storm oversubscribes the slot")
    return args


@dataclass
class StormResult:
    """One layout's storm and baseline, and the database's counts after it."""

    label: str
    processes: int
    storm: LoadRun
    baseline: LoadRun
    outcomes: Counter[str] = field(default_factory=Counter)
    sold_out_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.storm.per_second / self.baseline.per_second if self.baseline.seconds else 0.0

    def problems(self, places: int, attempts: int) -> list[str]:
        """What breaks the storm's promise (empty when exactly `places` were sold)."""
        found = []
        expected = Counter({"201": places, "409 slot_full": attempts - places})
        if self.outcomes != expected:
            found.append(f"{self.label}: answers {dict(self.outcomes)}")
        if set(self.counts.values()) != {places}:
            found.append(f"{self.label}: database counts {self.counts}")
        if self.baseline.error_count:
            found.append(f"{self.label}: /healthz errors {self.baseline.errors}")
        return found


@dataclass(frozen=True)
class Fixture:
    slot_id: int
    tokens: list[str]


async def make_fixture(database_url: str, attempts: int, places: int) -> Fixture:
    """A reservable venue with a slot of `places` tomorrow, and one visitor per attempt."""
    from server import db
    from server.accounts.models import Visitor
    from server.auth import VISITOR, Principal
    from server.clock import local_now
    from server.reservations.models import TimeSlot

    settings = settings_for(database_url)
    await db.open_database(settings)
    try:
        venue_id = await make_venue("bench-storm")
        slot = await TimeSlot.create(
            venue_id=venue_id,
            date=local_now().date() + timedelta(days=1),
            starts_at=clock_time(10),
            ends_at=clock_time(12),
            capacity=places,
        )
        await Visitor.bulk_create([Visitor(openid=f"storm-{n}") for n in range(attempts)])
        ids = (
            await Visitor.filter(openid__startswith="storm-")
            .order_by("id")
            .values_list("id", flat=True)
        )
    finally:
        await db.close_database()
    tokens = [signed_token(settings, Principal(role=VISITOR, user_id=v)) for v in ids]
    return Fixture(slot.id, tokens)


async def database_counts(database_url: str, slot_id: int) -> dict[str, int]:
    """booked, confirmed reservations and tickets of the slot, read through the ORM."""
    from server import db
    from server.reservations.models import Reservation, TimeSlot
    from server.tickets.models import Ticket

    await db.open_database(settings_for(database_url))
    try:
        return {
            "booked": (await TimeSlot.get(id=slot_id)).booked,
            "reservations": await Reservation.filter(slot_id=slot_id, status="confirmed").count(),
            "tickets": await Ticket.filter(slot_id=slot_id).count(),
        }
    finally:
        await db.close_database()


async def run_storm(
    servers: Servers, fixture: Fixture, args: argparse.Namespace, label: str
) -> StormResult:
    """The baseline, then the storm, over the same connections: in_flight per process."""
    processes = len(servers.urls)
    workers = args.in_flight * processes
    clients = [KeepAliveClient(*servers.addresses[n % processes]) for n in range(workers)]
    outcomes: Counter[str] = Counter()
    successes: list[float] = []
    loop = asyncio.get_running_loop()
    started = 0.0

    async def healthz(worker: int, n: int) -> str | None:
        try:
            status, _ = await clients[worker].request("GET", "/healthz")
        except TRANSPORT_ERRORS as problem:
            return type(problem).__name__
        return None if status == 200 else f"{status}"

    async def attempt(worker: int, n: int) -> str | None:
        person = {"name": f"游客{n}", "id_number": id_number(FIRST_PERSON + n)}
        try:
            status, answer = await clients[worker].request(
                "POST",
                "/api/v1/reservations",
                {"slot_id": fixture.slot_id, "visitors": [person]},
                {"Authorization": f"Bearer {fixture.tokens[n]}", "Accept-Language": "en"},
                # Thousands queue on the shared cores: an answer after 30 s is late, not lost.
                limit_seconds=args.seconds,
            )
        except TRANSPORT_ERRORS as problem:
            outcomes[type(problem).__name__] += 1
            return type(problem).__name__
        outcome = "201" if status == 201 else error_code(status, answer)
        outcomes[outcome] += 1
        if status == 201:
            successes.append(loop.time() - started)
        # A refusal because the slot is full is the storm working, timed like a booking.
        return None if outcome in ("201", "409 slot_full") else outcome

    try:
        baseline = await drive(
            LoadRun("GET /healthz (baseline)"), workers, 0, args.attempts, args.seconds, healthz
        )
        started = loop.time()
        storm = await drive(
            LoadRun(f"storm: {args.attempts} for {args.places}"),
            workers,
            0,
            args.attempts,
            args.seconds,
            attempt,
        )
    finally:
        for client in clients:
            await client.close()
    result = StormResult(label, processes, storm, baseline, outcomes)
    result.sold_out_seconds = max(successes) if len(successes) >= args.places else 0.0
    return result


def storm_layout(
    env: dict[str, str],
    data_dir: Path,
    database_url: str,
    processes: int,
    label: str,
    args: argparse.Namespace,
) -> StormResult:
    """Migrate, make the fixture, start the processes, storm, count."""
    run_etour(env, data_dir, "init-db")
    fixture = asyncio.run(make_fixture(database_url, args.attempts, args.places))
    print(f"{label}: {args.attempts} attempts for {args.places} places ...", flush=True)
    with Servers(env, data_dir, [()] * processes) as servers:
        result = asyncio.run(run_storm(servers, fixture, args, label))
        problems = servers.log_problems()
    if problems:
        raise BenchError(f"{label}: the servers logged {problems}")
    result.counts = asyncio.run(database_counts(database_url, fixture.slot_id))
    return result


def run_benchmark(args: argparse.Namespace, data_dir: Path) -> list[StormResult]:
    results = []
    if not args.no_postgres:
        try:
            database_url = asyncio.run(recreate_pg_database(args.pg_admin_url, BENCH_DATABASE))
            asyncio.run(flush_redis(args.redis_url))
        except OSError as problem:
            raise BenchError(f"PostgreSQL or Redis unavailable: {problem!r}") from None
        try:
            pg_dir = data_dir / "postgres"
            pg_dir.mkdir()
            env = server_environment(pg_dir, database_url, args.redis_url, ETOUR_ENV="test")
            results.append(
                storm_layout(env, pg_dir, database_url, 2, "PostgreSQL + Redis, 2 processes", args)
            )
        finally:
            asyncio.run(drop_pg_database(args.pg_admin_url, BENCH_DATABASE))
            asyncio.run(flush_redis(args.redis_url))
    lite_dir = data_dir / "embedded"
    lite_dir.mkdir()
    sqlite_url = f"sqlite://{lite_dir / 'etour.sqlite3'}"
    # ETOUR_ENV=test: the servers leave the embedding model cold (its warm-up takes the CPU).
    env = server_environment(lite_dir, sqlite_url, None, ETOUR_ENV="test")
    results.append(
        storm_layout(env, lite_dir, sqlite_url, 1, "SQLite + in-process Redis, 1 process", args)
    )
    return results


def results_table(results: list[StormResult]) -> str:
    rows = [
        "| layout | attempts | 201 | 409 slot_full | other | wall s | attempts/s | p50 ms "
        "| p99 ms | sold out after s | /healthz req/s | storm vs /healthz | DB booked / "
        "reservations / tickets |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        other = {k: v for k, v in r.outcomes.items() if k not in ("201", "409 slot_full")}
        cut = " (time budget hit)" if r.storm.stopped_by_time else ""
        rows.append(
            f"| {r.label}{cut} | {r.storm.done} | {r.outcomes['201']} "
            f"| {r.outcomes['409 slot_full']} | {json.dumps(other) if other else 0} "
            f"| {r.storm.seconds:.1f} | {r.storm.done / r.storm.seconds:.0f} "
            f"| {r.storm.latency_percentile_ms(50):.0f} | {r.storm.latency_percentile_ms(99):.0f} "
            f"| {r.sold_out_seconds:.1f} | {r.baseline.per_second:.0f} | {r.ratio:.2f} "
            f"| {' / '.join(str(v) for v in r.counts.values())} |"
        )
    return "\n".join(rows)


def results_body(results: list[StormResult], args: argparse.Namespace, at: datetime) -> str:
    return f"""## {BENCH_NAME}: {args.attempts} visitors at once for {args.places} places

- date (UTC): {at:%Y-%m-%d %H:%M}
- commit: {current_commit()}
- machine: {machine_line(postgres=not args.no_postgres)}, shared with other work
- command: `{invoked_command()}`
- load: {args.attempts} reservation attempts, each a different visitor booking one new person \
into one slot of {args.places} places, from {args.in_flight} keep-alive connections per server \
process (the bench's light HTTP/1.1 client, in the bench process on the same 2 cores); \
PostgreSQL layout: two `etour serve` on their own ports, database `{BENCH_DATABASE}` (created \
and dropped) and Redis db 2 (flushed); embedded layout: one `etour serve` (SQLite file, \
in-process Redis: one process only)
- baseline: {args.attempts} `GET /healthz` over the same connections just before the storm; \
"storm vs /healthz" is attempts/s over /healthz req/s; latencies cover every answer (201 and \
409 alike); "sold out after" is when the last of the {args.places} bookings was answered
- checked: exactly {args.places} answers 201 and the rest 409 slot_full, and the database's \
own counts equal {args.places}

{results_table(results)}
"""


def main(argv: list[str] | None = None) -> int:
    """Run both layouts, print the table, record it when every promise held."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    results = run_in_temp_dir(
        BENCH_NAME,
        lambda data_dir: run_benchmark(args, data_dir),
        prefix="etour-bench-storm-",
        stopped="the servers were stopped",
    )
    print(results_table(results))
    problems = [p for r in results for p in r.problems(args.places, args.attempts)]
    if problems:
        return results_unchanged(BENCH_NAME, str(problems))
    return record_results(BENCH_NAME, results_body(results, args, started_at))


if __name__ == "__main__":
    sys.exit(main())
