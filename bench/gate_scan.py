"""Benchmark gate scans over HTTP next to the raw PostgreSQL cost of consuming a ticket.

Usage: .venv/bin/python bench/gate_scan.py [--requests N] [--clients C] [--seconds S] [--pool P]

One run, on a PostgreSQL database it creates and drops (etour_bench_gate) and Redis db 1
(flushed), with one venue per phase holding enough valid tickets for today:
1. raw: C asyncio tasks (gates) share an asyncpg pool of P connections and consume one ticket
   each time with no framework: BEGIN; INSERT gate_scan; UPDATE ticket SET status = 'used'
   WHERE id = $1 AND status = 'valid'; UPDATE venue_occupancy SET inside = inside + 1 ...
   RETURNING inside; COMMIT (the writes an admission makes);
2. http: two `etour serve` processes on their own ports; C gate clients (split evenly over the
   ports), each a venue_staff account of the venue on its own keep-alive connection, POST
   /api/v1/gate/scan with a fresh ticket's QR text and their gate name; only "admitted" counts.
3. http, paced: the same, but the clients together send --paced-rate scans per second (an open
   loop, as gates at a busy entrance do), so the latency shows the scan, not a queue.
The figures to compare: http/raw scans per second (target at least 0.5) and the scan p99
(target under 20 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
from common import (
    commit as current_commit,
)
from reservations import id_number, make_venue, settings_for, signed_token

BENCH_NAME = "gate_scan"
BENCH_DATABASE = "etour_bench_gate"
TICKETS_PER_RESERVATION = 5
TARGET_RATIO = 0.5
TARGET_P99_MS = 20.0
# Far above any count the run reaches: the capped UPDATE is exercised, no warning is crossed.
INSTANT_CAPACITY = 10_000_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line: load size, gates, time budget, pool size, pacing, where the stores are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="most scans per phase")
    parser.add_argument("--clients", type=int, default=20, help="concurrent gates / tasks")
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget per phase")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured scans per phase")
    parser.add_argument(
        "--pool",
        type=int,
        default=20,
        help="raw phase's asyncpg pool size (default: the servers' 2 processes x 10 connections)",
    )
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=200.0,
        help="scans per second all gates together send in the paced phase (0: skip it)",
    )
    add_store_arguments(parser, database=BENCH_DATABASE, redis_db=1)
    args = parser.parse_args(argv)
    if min(args.requests, args.clients, args.pool) < 1 or args.warmup < 0 or args.seconds <= 0:
        parser.error("--requests, --clients, --pool >= 1, --warmup >= 0, --seconds > 0")
    if args.paced_rate < 0:
        parser.error("--paced-rate >= 0")
    return args


@dataclass(frozen=True)
class Phase:
    """One phase's venue, slot and tickets (in the order they are scanned)."""

    venue_id: int
    slot_id: int
    ticket_ids: list[int]


@dataclass(frozen=True)
class Fixture:
    """The venues, today's date, and the gate staff's tokens (of the HTTP venue)."""

    raw: Phase
    raw_paced: Phase
    http: Phase
    paced: Phase
    day: date
    staff_ids: list[int]
    tokens: list[str]


async def make_phase(code: str, day: date, tickets: int) -> Phase:
    """A venue with one all-day slot today and `tickets` valid tickets in it."""
    from server.reservations.models import Reservation, ReservationStatus, TimeSlot
    from server.tickets.models import Ticket

    venue_id = await make_venue(code, instant_capacity=INSTANT_CAPACITY)
    slot = await TimeSlot.create(
        venue_id=venue_id,
        date=day,
        starts_at=clock_time(0, 0),
        ends_at=clock_time(23, 59),
        capacity=tickets,
        booked=tickets,
    )
    from server.accounts.models import Visitor

    visitor = await Visitor.create(openid=f"bench-gate-{code}")
    count = -(-tickets // TICKETS_PER_RESERVATION)
    await Reservation.bulk_create(
        [
            Reservation(
                visitor_id=visitor.id,
                venue_id=venue_id,
                slot_id=slot.id,
                date=day,
                party_size=TICKETS_PER_RESERVATION,
                status=ReservationStatus.CONFIRMED,
            )
            for _ in range(count)
        ]
    )
    reservation_ids = (
        await Reservation.filter(slot_id=slot.id).order_by("id").values_list("id", flat=True)
    )
    fare = {"discount": None, "rule": None, "note": {}, "price_cents": 5000}
    rows = []
    for n in range(tickets):
        number = id_number(n)
        rows.append(
            Ticket(
                reservation_id=reservation_ids[n // TICKETS_PER_RESERVATION],
                venue_id=venue_id,
                slot_id=slot.id,
                date=day,
                holder_name_encrypted="v1:bench",
                holder_name_masked="游*",
                id_number_encrypted="v1:bench",
                id_number_hash=f"bench-{code}-{n}",
                id_number_masked=number[:4] + "*" * 10 + number[-4:],
                fare=fare,
                price_cents=5000,
            )
        )
    await Ticket.bulk_create(rows, batch_size=1000)
    ticket_ids = await Ticket.filter(slot_id=slot.id).order_by("id").values_list("id", flat=True)
    return Phase(venue_id, slot.id, list(ticket_ids))


async def make_fixture(database_url: str, gates: int, tickets: int) -> Fixture:
    """Three venues (raw, HTTP, paced HTTP) with today's tickets; gate staff of the HTTP ones."""
    from server import db
    from server.accounts.models import Role, StaffUser
    from server.auth import Principal
    from server.clock import local_now

    settings = settings_for(database_url)
    await db.open_database(settings)
    try:
        day = local_now().date()
        raw = await make_phase("gate-raw", day, tickets)
        raw_paced = await make_phase("gate-raw-paced", day, tickets)
        http = await make_phase("gate-http", day, tickets)
        paced = await make_phase("gate-paced", day, tickets)
        staff = []
        for phase in (http, paced):
            for n in range(gates):
                staff.append(
                    await StaffUser.create(
                        username=f"bench-gate-{phase.venue_id}-{n}",
                        password_hash="!",  # noqa: S106 - no password: these accounts use minted tokens
                        role=Role.VENUE_STAFF,
                        venue_id=phase.venue_id,
                    )
                )
    finally:
        await db.close_database()
    tokens = [
        signed_token(settings, Principal(role=Role.VENUE_STAFF, user_id=s.id, venue_id=s.venue_id))
        for s in staff
    ]
    return Fixture(raw, raw_paced, http, paced, day, [s.id for s in staff], tokens)


def sign_qrs(database_url: str, ticket_ids: list[int], phase: Phase) -> list[str]:
    """Fresh QR texts (valid for a minute) of the tickets, as the mini-program shows them."""
    from types import SimpleNamespace

    from server.signing import TokenSigner
    from server.tickets.service import qr_text

    signer = TokenSigner(settings_for(database_url).secret())
    now = time.time()
    return [
        qr_text(
            signer, SimpleNamespace(id=t, venue_id=phase.venue_id, slot_id=phase.slot_id), now=now
        )[0]
        for t in ticket_ids
    ]


# --- the phases -----------------------------------------------------------------------------------

RAW_SCAN_SQL = {
    "record": (
        "INSERT INTO gate_scan (venue_id, ticket_id, staff_id, direction, admitted, reason, "
        "gate, scanned_at, recorded_at) "
        "VALUES ($1, $2, NULL, 'entry', TRUE, 'admitted', $3, now(), now())"
    ),
    "consume": (
        "UPDATE ticket SET status = 'used', admitted_at = now() WHERE id = $1 AND status = 'valid'"
    ),
    "count_in": (
        "UPDATE venue_occupancy SET inside = inside + 1, entered = entered + 1 "
        "WHERE venue_id = $1 AND date = $2 AND inside < $3 RETURNING inside"
    ),
}


async def paced(rate: float | None, started: float, n: int) -> None:
    """With a `rate`, wait until operation n's moment on the fixed schedule begun at `started`."""
    if rate:
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))


async def raw_phase(
    database_url: str,
    phase: Phase,
    day: date,
    args: argparse.Namespace,
    rate: float | None,
    label: str,
) -> LoadRun:
    """Consuming tickets straight on asyncpg: `--clients` tasks over a `--pool` pool.

    With `rate`, paced as the HTTP phase is (see http_phase).
    """
    import asyncpg

    started = time.monotonic()
    service_times: list[float] = []
    pool = await asyncpg.create_pool(database_url, min_size=args.pool, max_size=args.pool)
    try:
        await pool.execute(
            "INSERT INTO venue_occupancy (venue_id, date, inside, entered, exited) "
            "VALUES ($1, $2, 0, 0, 0)",
            phase.venue_id,
            day,
        )

        async def one(worker: int, n: int) -> str | None:
            await paced(rate, started, n)
            began = time.perf_counter()
            try:
                async with pool.acquire() as connection, connection.transaction():
                    await connection.execute(
                        RAW_SCAN_SQL["record"], phase.venue_id, phase.ticket_ids[n], f"g{worker}"
                    )
                    if (
                        await connection.execute(RAW_SCAN_SQL["consume"], phase.ticket_ids[n])
                        != "UPDATE 1"
                    ):
                        raise BenchError("already used")  # rolls back; never expected here
                    inside = await connection.fetchval(
                        RAW_SCAN_SQL["count_in"], phase.venue_id, day, INSTANT_CAPACITY
                    )
                    if inside is None:
                        raise BenchError("venue full")
            except (asyncpg.PostgresError, OSError, BenchError) as problem:
                return str(problem) if isinstance(problem, BenchError) else type(problem).__name__
            service_times.append((time.perf_counter() - began) * 1000)
            return None

        await drive(LoadRun("warm-up"), args.clients, 0, args.warmup, args.seconds, one)
        service_times.clear()
        started = time.monotonic() - args.warmup / rate if rate else started
        run = LoadRun(label)
        await drive(run, args.clients, args.warmup, args.requests, args.seconds, one)
        if rate:
            run.latencies_ms = service_times  # the transaction's own time, not its wait
    finally:
        await pool.close()
    return run


async def http_phase(
    label: str,
    servers: Servers,
    phase: Phase,
    tokens: list[str],
    qrs: list[str],
    args: argparse.Namespace,
    rate: float | None,
) -> LoadRun:
    """POST /api/v1/gate/scan from `--clients` gates, a fresh ticket each time.

    With `rate`, the gates together start that many scans per second (each gate its share,
    on a fixed schedule; a late answer does not delay the next start beyond it).
    """
    addresses = servers.addresses
    clients = [KeepAliveClient(*addresses[i % len(addresses)]) for i in range(args.clients)]
    started = time.monotonic()

    async def one(worker: int, n: int) -> str | None:
        # Scan n is due at its own moment of the schedule, whichever gate takes it.
        await paced(rate, started, n)
        headers = {"Authorization": f"Bearer {tokens[worker]}", "Accept-Language": "en"}
        body = {"qr": qrs[n], "gate": f"gate-{worker}"}
        began = time.perf_counter()
        try:
            status, answer = await clients[worker].request(
                "POST", "/api/v1/gate/scan", body, headers
            )
        except TRANSPORT_ERRORS as problem:
            return type(problem).__name__
        if status != 200:
            return error_code(status, answer)
        verdict = json.loads(answer)
        if not verdict.get("admitted") or verdict.get("gate") != f"gate-{worker}":
            return f"refused {verdict.get('reason')}"
        service_times.append((time.perf_counter() - began) * 1000)
        return None

    service_times: list[float] = []
    try:
        await drive(LoadRun("warm-up"), args.clients, 0, args.warmup, args.seconds, one)
        service_times.clear()
        started = time.monotonic() - args.warmup / rate if rate else started
        run = LoadRun(label)
        await drive(run, args.clients, args.warmup, args.requests, args.seconds, one)
        if rate:
            # Paced: the latency is the request's own, not the wait for its turn.
            run.latencies_ms = service_times
        run.notes["connections"] = " / ".join(map(str, servers.connections_per_process()))
    finally:
        for client in clients:
            await client.close()
    return run


async def check_database(database_url: str, fixture: Fixture) -> dict[str, int]:
    """After the run: per venue, used tickets = admitted scans = people counted in."""
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        counts = {}
        for name, phase in (
            ("raw", fixture.raw),
            ("raw paced", fixture.raw_paced),
            ("http", fixture.http),
            ("paced", fixture.paced),
        ):
            for what, sql in (
                ("used", "SELECT count(*) FROM ticket WHERE venue_id = $1 AND status = 'used'"),
                ("admitted", "SELECT count(*) FROM gate_scan WHERE venue_id = $1 AND admitted"),
                (
                    "inside",
                    "SELECT coalesce(sum(inside), 0) FROM venue_occupancy WHERE venue_id = $1",
                ),
            ):
                counts[f"{name} {what}"] = await connection.fetchval(sql, phase.venue_id)
    finally:
        await connection.close()
    for name in ("raw", "raw paced", "http", "paced"):
        values = {counts[f"{name} {what}"] for what in ("used", "admitted", "inside")}
        if len(values) != 1:
            raise BenchError(f"the database disagrees with itself after {name}: {counts}")
    return counts


RAW_SHOWN = (
    "BEGIN; INSERT gate_scan; UPDATE ticket SET status = 'used' WHERE id = $1 AND status = "
    "'valid'; UPDATE venue_occupancy SET inside = inside + 1 ... WHERE ... AND inside < cap "
    "RETURNING inside; COMMIT"
)


# --- the run and its record -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The raw baseline, the HTTP runs, and what the database and servers showed."""

    raw: LoadRun
    raw_paced: LoadRun | None
    http: list[LoadRun]  # closed loop, then paced
    counts: dict[str, int]
    server_log_problems: list[str]

    def ratio(self, run: LoadRun) -> float:
        return run.per_second / self.raw.per_second if self.raw.per_second else 0.0

    def runs(self) -> list[tuple[LoadRun, LoadRun]]:
        """Each run with the raw run it is compared with (closed loop or paced alike)."""
        pairs = [(self.raw, self.raw), (self.http[0], self.raw)]
        if self.raw_paced is not None:
            pairs[1:1] = [(self.raw_paced, self.raw_paced)]
            pairs += [(run, self.raw_paced) for run in self.http[1:]]
        return pairs

    @property
    def error_count(self) -> int:
        return sum(run.error_count for run, _ in self.runs())


def run_benchmark(args: argparse.Namespace, data_dir: Path) -> Outcome:
    """Create the stores, measure raw then HTTP (closed loop, then paced), always clean up."""
    tickets = args.warmup + args.requests
    print(f"creating database {BENCH_DATABASE}, flushing {args.redis_url} ...", flush=True)
    try:
        database_url = asyncio.run(recreate_pg_database(args.pg_admin_url, BENCH_DATABASE))
        asyncio.run(flush_redis(args.redis_url))
    except OSError as problem:
        raise BenchError(f"PostgreSQL or Redis unavailable: {problem!r}") from None
    try:
        env = server_environment(data_dir, database_url, args.redis_url)
        run_etour(env, data_dir, "init-db")
        fixture = asyncio.run(make_fixture(database_url, args.clients, tickets))
        print(f"raw phase: {args.clients} tasks, asyncpg pool of {args.pool} ...", flush=True)
        raw = asyncio.run(
            raw_phase(
                database_url, fixture.raw, fixture.day, args, None,
                "raw asyncpg (record, consume, count in), closed loop",
            )
        )  # fmt: skip
        raw_paced = None
        if args.paced_rate:
            raw_paced = asyncio.run(
                raw_phase(
                    database_url, fixture.raw_paced, fixture.day, args, args.paced_rate,
                    f"raw asyncpg, paced at {args.paced_rate:g}/s",
                )
            )  # fmt: skip
        http = []
        with Servers(env, data_dir, ((), ()), settle=True) as servers:
            print(f"servers ready (pids {servers.pids()}); loading ...", flush=True)
            phases = [("POST /api/v1/gate/scan, closed loop", fixture.http, None, 0)]
            if args.paced_rate:
                label = f"POST /api/v1/gate/scan, paced at {args.paced_rate:g}/s"
                phases.append((label, fixture.paced, args.paced_rate, args.clients))
            for label, phase, rate, first_token in phases:
                print(f"http phase: {args.clients} gates, {label} ...", flush=True)
                qrs = sign_qrs(database_url, phase.ticket_ids, phase)
                tokens = fixture.tokens[first_token : first_token + args.clients]
                http.append(asyncio.run(http_phase(label, servers, phase, tokens, qrs, args, rate)))
            problems = servers.log_problems()
        counts = asyncio.run(check_database(database_url, fixture))
        return Outcome(raw, raw_paced, http, counts, problems)
    finally:
        asyncio.run(drop_pg_database(args.pg_admin_url, BENCH_DATABASE))
        asyncio.run(flush_redis(args.redis_url))


def results_table(outcome: Outcome) -> str:
    rows = [
        "| path | scans | errors | scans/s | p50 ms | p99 ms | scans/s vs raw | p99 vs raw "
        "| connections per process |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run, raw in outcome.runs():
        rate = run.per_second / raw.per_second if raw.per_second else 0.0
        p99 = run.latency_percentile_ms(99) / (raw.latency_percentile_ms(99) or 1)
        rows.append(
            f"{run.first_cells()} | {rate:.2f} | {p99:.2f} "
            f"| {run.notes.get('connections') or '-'} |"
        )
    return "\n".join(rows)


def verdict_line(outcome: Outcome) -> str:
    """The throughput ratio and the p99s against their targets."""
    closed = outcome.http[0]
    parts = [
        f"scans/s HTTP/raw **{outcome.ratio(closed):.2f}** "
        f"({'meets' if outcome.ratio(closed) >= TARGET_RATIO else 'below'} the "
        f"{TARGET_RATIO} target)"
    ]
    for run in outcome.http:
        p99 = run.latency_percentile_ms(99)
        parts.append(
            f"p99 {run.label.removeprefix('POST /api/v1/gate/scan, ')} **{p99:.1f} ms** "
            f"({'under' if p99 < TARGET_P99_MS else 'over'} {TARGET_P99_MS:g} ms)"
        )
    return "; ".join(parts)


def results_section(outcome: Outcome, args: argparse.Namespace, started_at: datetime) -> str:
    paced = (
        f"; then paced: the gates together start {args.paced_rate:g} scans per second on a fixed "
        "schedule (open loop) and the latency is each request's own, from sending to the answer; "
        "the raw transaction is paced the same way, on a fourth venue, for comparison"
        if args.paced_rate
        else ""
    )
    return f"""## {BENCH_NAME}: gate scans over HTTP against the raw SQL of consuming a ticket

- date (UTC): {started_at:%Y-%m-%d %H:%M}
- commit: {current_commit()}
- machine: {machine_line(postgres=True)}, shared with other work
- command: `{invoked_command()}`
- load: {args.clients} gates, at most {args.requests} scans per phase after {args.warmup} \
warm-up scans, {args.seconds:g} s budget per phase; each scan a fresh valid ticket of today \
(entry, admitted once); PostgreSQL database `{BENCH_DATABASE}` (created and dropped by the run), \
Redis `{args.redis_url}` (flushed); the venue has an instantaneous cap far above the count \
(the capped UPDATE runs, no warning is crossed)
- raw: {args.clients} asyncio tasks, asyncpg pool of {args.pool}: {RAW_SHOWN}
- http: two `etour serve` processes (PostgreSQL + Redis), each on its own port, the gates \
split evenly; each gate a venue_staff account of the venue on one keep-alive HTTP/1.1 \
connection from the bench process (which shares the 2 cores), body `{{"qr", "gate"}}`; a scan \
counts when the answer says admitted and names the gate; first closed loop (each gate scans \
again as soon as answered){paced}
- the HTTP phases start once /healthz shows the servers' embedding model and chatbot no longer \
warming

{results_table(outcome)}

{verdict_line(outcome)}. Database after the run: \
{", ".join(f"{k} {v}" for k, v in outcome.counts.items())}.
"""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, record it in RESULTS.md when error-free."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    outcome = run_in_temp_dir(
        BENCH_NAME,
        lambda data_dir: run_benchmark(args, data_dir),
        prefix="etour-bench-gate-",
        stopped="the servers were stopped",
    )
    print(results_table(outcome))
    print(verdict_line(outcome).replace("**", ""))
    if outcome.error_count or outcome.server_log_problems:
        problem = f"{outcome.error_count} errors, server log: {outcome.server_log_problems}"
        return results_unchanged(BENCH_NAME, problem)
    return record_results(BENCH_NAME, results_section(outcome, args, started_at))


if __name__ == "__main__":
    sys.exit(main())
