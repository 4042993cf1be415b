"""Benchmark reservation creates over HTTP next to the raw PostgreSQL cost of the same transaction.

Usage: .venv/bin/python bench/reservations.py [--requests N] [--clients C] [--seconds S] [--pool P]
                                             [--rounds R]

One run, on a PostgreSQL database it creates and drops (etour_bench) and Redis db 1 (flushed),
is R rounds (3) of these two phases back to back:
1. raw: C asyncio tasks share an asyncpg pool of P connections and run the reserve transaction
   with no framework (BEGIN; conditional UPDATE of the slot; INSERT reservation,
   person_day_claim, ticket; COMMIT);
2. http: two `etour serve` processes, each on its own port, answer C concurrent clients in this
   process (split evenly over the two ports), each booking one new person per request
   (POST /api/v1/reservations, 201 expected). With --shared-socket, also `etour serve
   --workers 2` on one port (the kernel and Sanic split connections unevenly there).
The figure to compare between runs and commits is the ratio http/raw of the median round
(target: at least 0.5): on this shared machine one round's ratio swings by a third.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import SimpleNamespace

from common import (
    SECRET_KEY,
    TRANSPORT_ERRORS,
    BenchError,
    CpuMeter,
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

from server.config import Settings, load_settings

BENCH_NAME = "reservations"
BENCH_DATABASE = "etour_bench"
SLOTS_PER_PHASE = 10  # bookings go round the slots: ten rows share the UPDATEs, as on a busy day
TARGET_RATIO = 0.5
FIRST_BIRTHDAY = date(1950, 1, 1)


@dataclass(frozen=True)
class Layout:
    """How an HTTP phase runs its two server processes: `etour serve` options, one per port."""

    label: str
    servers: tuple[tuple[str, ...], ...]


OWN_PORTS = Layout("2 x etour serve, own ports", ((), ()))
# What one command gives: Sanic's two workers share one listening socket (uneven split).
SHARED_SOCKET = Layout("etour serve --workers 2", (("--workers", "2"),))


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line: load size, concurrency, time budget, pool size, where the stores are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="most creates per phase")
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients / tasks")
    parser.add_argument("--seconds", type=float, default=30.0, help="time budget per phase")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured creates per phase")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="rounds of raw then HTTP phases; the ratio reported is the median round's",
    )
    parser.add_argument(
        "--pool",
        type=int,
        default=20,
        help="raw phase's asyncpg pool size (default: the servers' 2 processes x 10 connections)",
    )
    parser.add_argument(
        "--idempotency-keys",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send a fresh Idempotency-Key with each create, as the mini-program does",
    )
    parser.add_argument(
        "--shared-socket",
        action="store_true",
        help="also measure `etour serve --workers 2` on one port",
    )
    add_store_arguments(parser, database=BENCH_DATABASE, redis_db=1)
    args = parser.parse_args(argv)
    if (
        min(args.requests, args.clients, args.pool, args.rounds) < 1
        or args.warmup < 0
        or args.seconds <= 0
    ):
        parser.error("--requests, --clients, --pool, --rounds >= 1, --warmup >= 0, --seconds > 0")
    return args


# --- people, visitors, venues ---------------------------------------------------------------------


def id_number(n: int) -> str:
    """The `n`th distinct valid resident ID number (GB 11643 check character computed here)."""
    birthday = FIRST_BIRTHDAY + timedelta(days=n // 1000)
    first17 = f"330302{birthday:%Y%m%d}{n % 1000:03d}"
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


async def make_venue(code: str, **changes: object) -> int:
    """A reservable museum open 08:00-22:00 every day with a price and two age rules; its id."""
    from server.venues.models import OpeningHours, Venue, VenueKind

    venue = await Venue.create(
        code=code,
        kind=VenueKind.MUSEUM,
        name={"zh-CN": f"压测馆-{code}", "en": f"Bench hall ({code})"},
        latitude=28.0,
        longitude=120.6,
        reservable=True,
        booking_days_ahead=30,
        booking_opens_at=clock_time(0, 0),
        prices=[{"name": {"zh-CN": "成人票", "en": "Adult"}, "price_cents": 5000}],
        free_rules=[
            {"rule": "age_at_least", "value": 60, "discount": "half", "note": {}},
            {"rule": "age_under", "value": 6, "discount": "free", "note": {}},
        ],
        **changes,
    )
    await OpeningHours.bulk_create(
        [
            OpeningHours(venue=venue, weekday=d, opens_at=clock_time(0), closes_at=clock_time(23))
            for d in range(7)
        ]
    )
    return venue.id


def settings_for(database_url: str) -> Settings:
    """The servers' settings (same secret key, so the same signer and cipher)."""
    return load_settings(database_url=database_url, secret_key=SECRET_KEY, log_level="WARNING")


def signed_token(settings: Settings, principal: object) -> str:
    """A session token the servers accept (they derive their signer from the same secret)."""
    from server.auth import issue_session_token
    from server.signing import TokenSigner

    signing_app = SimpleNamespace(
        ctx=SimpleNamespace(signer=TokenSigner(settings.secret()), settings=settings)
    )
    return issue_session_token(signing_app, principal)


@dataclass(frozen=True)
class Fixture:
    """What the phases book into: slot ids, the venue ids, the visitors' ids and tokens."""

    http_venue_id: int
    http_slot_ids: list[int]
    raw_venue_id: int
    raw_slot_ids: list[int]
    visitor_ids: list[int]
    tokens: list[str]
    slot_date: date


async def make_fixture(database_url: str, clients: int, capacity: int) -> Fixture:
    """Two reservable venues (one per phase) with slots tomorrow, and one visitor per client."""
    from server import db
    from server.accounts.models import Visitor
    from server.auth import VISITOR, Principal
    from server.clock import local_now
    from server.reservations.models import TimeSlot

    settings = settings_for(database_url)
    await db.open_database(settings)
    try:
        day = local_now().date() + timedelta(days=1)
        venues, slot_ids = [], []
        for phase in ("http", "raw"):
            venue_id = await make_venue(f"bench-{phase}")
            slots = [
                await TimeSlot.create(
                    venue_id=venue_id,
                    date=day,
                    starts_at=clock_time(8 + n),
                    ends_at=clock_time(9 + n),
                    capacity=capacity,
                )
                for n in range(SLOTS_PER_PHASE)
            ]
            venues.append(venue_id)
            slot_ids.append([slot.id for slot in slots])
        await Visitor.bulk_create([Visitor(openid=f"bench-{n}") for n in range(clients)])
        visitor_ids = list(
            await Visitor.filter(openid__startswith="bench-")
            .order_by("id")
            .values_list("id", flat=True)
        )
    finally:
        await db.close_database()
    tokens = [signed_token(settings, Principal(role=VISITOR, user_id=v)) for v in visitor_ids]
    return Fixture(venues[0], slot_ids[0], venues[1], slot_ids[1], visitor_ids, tokens, day)


# --- the phases -----------------------------------------------------------------------------------

RAW_RESERVE_SQL = {
    "claim_places": (
        "UPDATE time_slot SET booked = booked + $2 WHERE id = $1 AND booked <= capacity - $2"
    ),
    "reservation": (
        "INSERT INTO reservation (visitor_id, venue_id, slot_id, date, party_size, status, "
        "created_at) VALUES ($1, $2, $3, $4, 1, 'confirmed', now()) RETURNING id"
    ),
    "claim_person": (
        "INSERT INTO person_day_claim (venue_id, date, id_number_hash, reservation_id) "
        "VALUES ($1, $2, $3, $4)"
    ),
    "ticket": (
        "INSERT INTO ticket (reservation_id, venue_id, slot_id, date, holder_name_encrypted, "
        "holder_name_masked, id_number_encrypted, id_number_hash, id_number_masked, fare, "
        "price_cents, status, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'valid', now())"
    ),
}


async def raw_phase(
    label: str, database_url: str, fixture: Fixture, args: argparse.Namespace, first: int
) -> LoadRun:
    """The reserve transaction straight on asyncpg: `--clients` tasks over a `--pool` pool,
    people numbered from `first` on."""
    import asyncpg

    from server.personal_data import FieldCipher

    # Ciphertexts as long as the service's, made once: this phase measures the database only.
    cipher = FieldCipher(SECRET_KEY.encode())
    name_encrypted, number_encrypted = cipher.encrypt("游客1"), cipher.encrypt(id_number(1))
    fare = json.dumps({"discount": None, "rule": None, "note": {}, "price_cents": 5000})
    slots, venue_id, day = fixture.raw_slot_ids, fixture.raw_venue_id, fixture.slot_date

    async def reserve(connection: asyncpg.Connection, worker: int, n: int) -> str | None:
        slot_id = slots[n % len(slots)]
        number = id_number(n)
        number_hash = cipher.lookup_hash(number)
        async with connection.transaction():
            claimed = await connection.execute(RAW_RESERVE_SQL["claim_places"], slot_id, 1)
            if claimed != "UPDATE 1":
                return "slot full"  # the transaction is rolled back on leaving this block
            reservation_id = await connection.fetchval(
                RAW_RESERVE_SQL["reservation"], fixture.visitor_ids[worker], venue_id, slot_id, day
            )
            await connection.execute(
                RAW_RESERVE_SQL["claim_person"], venue_id, day, number_hash, reservation_id
            )
            await connection.execute(
                RAW_RESERVE_SQL["ticket"],
                reservation_id,
                venue_id,
                slot_id,
                day,
                name_encrypted,
                "游*",
                number_encrypted,
                number_hash,
                number[:4] + "*" * 10 + number[-4:],
                fare,
                5000,
            )
        return None

    pool = await asyncpg.create_pool(database_url, min_size=args.pool, max_size=args.pool)
    try:

        async def one(worker: int, n: int) -> str | None:
            try:
                async with pool.acquire() as connection:
                    return await reserve(connection, worker, n)
            except (asyncpg.PostgresError, OSError) as problem:
                return type(problem).__name__

        await drive(LoadRun("warm-up"), args.clients, first, args.warmup, args.seconds, one)
        run = LoadRun(label)
        with CpuMeter() as cpu:
            await drive(run, args.clients, first + args.warmup, args.requests, args.seconds, one)
        run.cpu_ms = cpu.per_operation_ms(run.succeeded)
    finally:
        await pool.close()
    return run


async def http_phase(
    label: str, servers: Servers, fixture: Fixture, args: argparse.Namespace, first: int
) -> LoadRun:
    """POST /api/v1/reservations from `--clients` concurrent clients, one new person each time.

    Client i talks to the servers' port i mod the number of ports; people are numbered from
    `first` on.
    """
    addresses = servers.addresses
    clients = [KeepAliveClient(*addresses[i % len(addresses)]) for i in range(args.clients)]
    slots = fixture.http_slot_ids

    async def one(worker: int, n: int) -> str | None:
        headers = {"Authorization": f"Bearer {fixture.tokens[worker]}", "Accept-Language": "en"}
        if args.idempotency_keys:
            headers["Idempotency-Key"] = f"bench-{n}"
        body = {
            "slot_id": slots[n % len(slots)],
            "visitors": [{"name": f"游客{n}", "id_number": id_number(n)}],
        }
        try:
            status, answer = await clients[worker].request(
                "POST", "/api/v1/reservations", body, headers
            )
        except TRANSPORT_ERRORS as problem:
            return type(problem).__name__
        return None if status == 201 else error_code(status, answer)

    try:
        await drive(LoadRun("warm-up"), args.clients, first, args.warmup, args.seconds, one)
        run = LoadRun(label)
        with CpuMeter(servers.pids()) as cpu:
            await drive(run, args.clients, first + args.warmup, args.requests, args.seconds, one)
        run.cpu_ms = cpu.per_operation_ms(run.succeeded)
        run.notes["connections"] = " / ".join(map(str, servers.connections_per_process()))
    finally:
        for client in clients:
            await client.close()
    return run


async def check_database(database_url: str, fixture: Fixture) -> dict[str, int]:
    """Counts that must agree after the run: booked places, reservations and tickets per phase."""
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        counts = {}
        for phase, venue_id in (("http", fixture.http_venue_id), ("raw", fixture.raw_venue_id)):
            for what, sql in (
                ("booked", "SELECT coalesce(sum(booked), 0) FROM time_slot WHERE venue_id = $1"),
                ("reservations", "SELECT count(*) FROM reservation WHERE venue_id = $1"),
                ("tickets", "SELECT count(*) FROM ticket WHERE venue_id = $1"),
            ):
                counts[f"{phase} {what}"] = await connection.fetchval(sql, venue_id)
    finally:
        await connection.close()
    for phase in ("http", "raw"):
        values = {counts[f"{phase} {what}"] for what in ("booked", "reservations", "tickets")}
        if len(values) != 1:
            raise BenchError(
                f"the database disagrees with itself after the {phase} phase: {counts}"
            )
    return counts


# --- the run and its record -----------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    """One round: the raw phase, then one HTTP phase per layout, back to back."""

    raw: LoadRun
    http: list[LoadRun]

    def ratio(self, run: LoadRun) -> float:
        return run.per_second / self.raw.per_second if self.raw.per_second else 0.0


@dataclass(frozen=True)
class Outcome:
    """Every round, and what the database and servers showed after them."""

    rounds: list[Round]
    counts: dict[str, int]
    server_log_problems: list[str]

    def median_ratio(self, layout: int) -> float:
        """The median over the rounds of layout number `layout`'s ratio to its round's raw."""
        return statistics.median(r.ratio(r.http[layout]) for r in self.rounds)

    @property
    def error_count(self) -> int:
        return sum(r.raw.error_count + sum(h.error_count for h in r.http) for r in self.rounds)


def run_benchmark(args: argparse.Namespace, data_dir: Path) -> Outcome:
    """Create the stores; each round measures the raw phase then each HTTP layout (so a slow
    patch of a shared machine falls on both sides of a ratio); always clean up."""
    layouts = [OWN_PORTS, SHARED_SOCKET] if args.shared_socket else [OWN_PORTS]
    per_phase = args.warmup + args.requests
    # No slot fills: every create succeeds or is an error.
    capacity = args.rounds * len(layouts) * per_phase
    print(f"creating database {BENCH_DATABASE}, flushing {args.redis_url} ...", flush=True)
    try:
        database_url = asyncio.run(recreate_pg_database(args.pg_admin_url, BENCH_DATABASE))
        asyncio.run(flush_redis(args.redis_url))
    except OSError as problem:
        raise BenchError(f"PostgreSQL or Redis unavailable: {problem!r}") from None
    try:
        # Each client is one visitor booking dozens of times a minute: the anti-scalping limits
        # would stop that, and this bench measures the booking path, not them.
        env = server_environment(
            data_dir,
            database_url,
            args.redis_url,
            ETOUR_RESERVATIONS_PER_ACCOUNT_DAY="10000",
            ETOUR_BOOKING_RATE_PER_ACCOUNT="1000000",
        )
        run_etour(env, data_dir, "init-db")
        fixture = asyncio.run(make_fixture(database_url, args.clients, capacity))
        rounds, problems = [], []
        for number in range(1, args.rounds + 1):
            print(f"round {number}: raw phase, {args.clients} tasks, pool of {args.pool} ...")
            raw = asyncio.run(
                raw_phase(
                    f"raw asyncpg transaction, round {number}",
                    database_url,
                    fixture,
                    args,
                    (number - 1) * per_phase,
                )
            )
            http = []
            for index, layout in enumerate(layouts):
                print(f"round {number}: http phase, {layout.label} ...", flush=True)
                # The servers start afresh each phase (the chatbot's fit is kept by the first).
                with Servers(env, data_dir, layout.servers, settle=True) as servers:
                    # Each phase books its own people.
                    first = ((number - 1) * len(layouts) + index) * per_phase
                    run = asyncio.run(
                        http_phase(
                            f"POST /api/v1/reservations: {layout.label}, round {number}",
                            servers,
                            fixture,
                            args,
                            first,
                        )
                    )
                    run.notes["embeddings"] = ", ".join(sorted(set(servers.embeddings)))
                    problems += servers.log_problems()
                http.append(run)
            rounds.append(Round(raw, http))
        counts = asyncio.run(check_database(database_url, fixture))
        return Outcome(rounds, counts, sorted(set(problems)))
    finally:
        asyncio.run(drop_pg_database(args.pg_admin_url, BENCH_DATABASE))
        asyncio.run(flush_redis(args.redis_url))


def results_table(outcome: Outcome) -> str:
    rows = [
        "| path | creates | errors | creates/s | p50 ms | p99 ms | vs raw (same round) "
        "| connections per process |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for one in outcome.rounds:
        for run in (one.raw, *one.http):
            rows.append(
                f"{run.first_cells()} | {one.ratio(run):.2f} "
                f"| {run.notes.get('connections') or '-'} |"
            )
    return "\n".join(rows)


def cpu_table(outcome: Outcome) -> str:
    """CPU milliseconds per create by process group, and each path's total against raw's."""
    groups = (*CpuMeter.GROUPS, "total")
    rows = [
        "| path | " + " | ".join(f"{group} ms" for group in groups) + " | CPU per create vs raw |",
        "|---|" + "---:|" * (len(groups) + 1),
    ]
    for one in outcome.rounds:
        raw_total = one.raw.cpu_ms.get("total", 0.0)
        for run in (one.raw, *one.http):
            shares = " | ".join(f"{run.cpu_ms.get(group, 0.0):.2f}" for group in groups)
            versus = raw_total / run.cpu_ms["total"] if run.cpu_ms.get("total") else 0.0
            rows.append(f"| {run.label} | {shares} | {versus:.2f} |")
    return "\n".join(rows)


def ratios_line(outcome: Outcome) -> str:
    """Each HTTP layout's median ratio to raw over the rounds, and whether it meets the target."""
    lines = []
    for index, layout in enumerate(outcome.rounds[0].http):
        ratio = outcome.median_ratio(index)
        each = ", ".join(f"{one.ratio(one.http[index]):.2f}" for one in outcome.rounds)
        label = layout.label.removeprefix("POST /api/v1/reservations: ").rsplit(", round", 1)[0]
        verdict = "meets" if ratio >= TARGET_RATIO else "below"
        lines.append(
            f"{label} **{ratio:.2f}** (rounds: {each}; {verdict} the {TARGET_RATIO} target)"
        )
    return "; ".join(lines)


def results_section(outcome: Outcome, args: argparse.Namespace, started_at: datetime) -> str:
    keys = "a fresh `Idempotency-Key` on each create" if args.idempotency_keys else "no keys"
    settled = ", ".join(
        sorted({run.notes.get("embeddings") or "?" for one in outcome.rounds for run in one.http})
    )
    return f"""## {BENCH_NAME}: reservation creates over HTTP against the raw SQL transaction

- date (UTC): {started_at:%Y-%m-%d %H:%M}
- commit: {current_commit()}
- machine: {machine_line(postgres=True)}, shared with other work
- command: `{invoked_command()}`
- rounds: {args.rounds}, each the raw phase then the HTTP phase back to back, so a slow patch \
of the shared machine falls on both sides of a round's ratio; the ratio reported is the median \
round's
- load: {args.clients} concurrent clients, at most {args.requests} creates per phase after \
{args.warmup} warm-up creates, {args.seconds:g} s budget per phase; one new person per create \
(1-person reservations), round {SLOTS_PER_PHASE} slots with room to spare; PostgreSQL database \
`{BENCH_DATABASE}` (created and dropped by the run), Redis `{args.redis_url}` (flushed)
- raw: {args.clients} asyncio tasks, asyncpg pool of {args.pool}: BEGIN; conditional UPDATE \
time_slot; INSERT reservation, person_day_claim, ticket; COMMIT
- http: two server processes on loopback (PostgreSQL + Redis), each `etour serve` on its own \
port with the clients split evenly between the ports\
{"; then `etour serve --workers 2` on one port" if args.shared_socket else ""}; each client one \
keep-alive HTTP/1.1 connection from the bench process (which shares the 2 cores), {keys}; \
"connections per process" is what `ss` showed at the end of the phase
- each HTTP phase starts once /healthz shows the servers' embedding model and chatbot no longer \
warming \
(the model loads in a background thread after start): {settled}

{results_table(outcome)}

Ratio HTTP/raw, median of the rounds: {ratios_line(outcome)}. Database after the run: \
{", ".join(f"{k} {v}" for k, v in outcome.counts.items())}.

CPU per create over each measured phase (utime + stime from /proc: the servers, every PostgreSQL \
process, Redis, and this load client): the work each path costs, steadier than the rates on a \
shared machine (but not steady either: the same code's servers measured 1.4 to 2.1 ms per \
create in runs an hour apart). "vs raw" is the round's raw total over the path's.

{cpu_table(outcome)}
"""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, record it in RESULTS.md when error-free."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    outcome = run_in_temp_dir(
        BENCH_NAME,
        lambda data_dir: run_benchmark(args, data_dir),
        stopped="the servers were stopped",
    )
    print(results_table(outcome))
    print(cpu_table(outcome))
    print(f"ratio http/raw: {ratios_line(outcome)}".replace("**", ""))
    if outcome.error_count or outcome.server_log_problems:
        problem = f"{outcome.error_count} errors, server log: {outcome.server_log_problems}"
        return results_unchanged(BENCH_NAME, problem)
    return record_results(BENCH_NAME, results_section(outcome, args, started_at))


if __name__ == "__main__":
    sys.exit(main())
