"""Benchmark reservation creates over HTTP next to the raw PostgreSQL cost of the same transaction.

Usage: .venv/bin/python bench/reservations.py [--requests N] [--clients C] [--seconds S] [--pool P]

One run, on a PostgreSQL database it creates and drops (etour_bench) and Redis db 14 (flushed):
1. raw: C asyncio tasks share an asyncpg pool of P connections and run the reserve transaction
   with no framework (BEGIN; conditional UPDATE of the slot; INSERT reservation,
   person_day_claim, ticket; COMMIT);
2. http: two server processes answer C concurrent clients in this process, each booking one new
   person per request (POST /api/v1/reservations, 201 expected): first `etour serve --workers 2`
   on one port, then two `etour serve` on their own ports with the clients split evenly.
The figure to compare between runs and commits is the ratio http/raw (target: at least 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import SimpleNamespace
from typing import IO

import asyncpg
import httpx
from redis.asyncio import Redis

from server import db
from server.accounts.models import Visitor
from server.auth import VISITOR, Principal, issue_session_token
from server.clock import local_now
from server.config import load_settings
from server.personal_data import FieldCipher
from server.reservations.models import TimeSlot
from server.signing import TokenSigner
from server.venues.models import OpeningHours, Venue, VenueKind

BENCH_NAME = "reservations"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
ETOUR = PROJECT_ROOT / ".venv" / "bin" / "etour"
RESULTS_FILE = PROJECT_ROOT / "bench" / "RESULTS.md"
BENCH_DATABASE = "etour_bench"
# 48 characters, fixed so runs are repeatable; it signs nothing outside the bench database.
SECRET_KEY = "bench-only-secret-key-fixed-for-repeatable-runs!"  # noqa: S105
SERVER_WORKERS = 2
SLOTS_PER_PHASE = 10  # bookings go round the slots: ten rows share the UPDATEs, as on a busy day
HEALTH_WAIT_SECONDS = 60.0
SETTLE_WAIT_SECONDS = 240.0
SETTLED_ANSWERS = 8
SETUP_TIMEOUT_SECONDS = 300.0
REQUEST_TIMEOUT_SECONDS = 30.0
SERVER_STOP_SECONDS = 20.0
TARGET_RATIO = 0.5
FIRST_BIRTHDAY = date(1950, 1, 1)
RESULTS_HEADER = """# Benchmark results

Figures are measured on a shared 2-core machine, so absolute times vary from run to run: read
each endpoint's **ratio** to the baseline measured in the same run, under the same load, not its
raw requests/s. Each benchmark keeps its own section below (see bench/README.md); rerunning one
replaces only its section.
"""


class BenchError(Exception):
    """The benchmark could not run to the end; the message says why."""


@dataclass(frozen=True)
class Layout:
    """How the HTTP phase runs its two server processes: `etour serve` options, one per port."""

    label: str
    servers: tuple[tuple[str, ...], ...]


HTTP_LAYOUTS = (
    # What the issue names: one command, Sanic's two workers share one listening socket.
    Layout(f"etour serve --workers {SERVER_WORKERS}", (("--workers", str(SERVER_WORKERS)),)),
    # The same two processes, but each on its own port and the clients split evenly between them:
    # a shared socket can hand every new connection to one worker (see README).
    Layout("2 x etour serve, own ports", ((), ())),
)


@dataclass
class LoadRun:
    """What one phase produced: latencies of successes, errors by kind, wall time."""

    label: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stopped_by_time: bool = False
    connections_per_worker: list[int] = field(default_factory=list)  # HTTP phases, when known
    embeddings: str = ""  # HTTP phases: the model's state /healthz showed before measuring

    @property
    def succeeded(self) -> int:
        return len(self.latencies_ms)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def per_second(self) -> float:
        """Successful creates per second of wall time."""
        return self.succeeded / self.seconds if self.seconds > 0 else 0.0

    def latency_percentile_ms(self, percent: int) -> float:
        """The `percent`th percentile latency of successes in ms (0 when nothing was measured)."""
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[percent - 1]

    def count_error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line: load size, concurrency, time budget, pool size, where the stores are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="most creates per phase")
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients / tasks")
    parser.add_argument("--seconds", type=float, default=30.0, help="time budget per phase")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured creates per phase")
    parser.add_argument(
        "--pool",
        type=int,
        default=20,
        help="raw phase's asyncpg pool size (default: the servers' 2 workers x 10 connections)",
    )
    parser.add_argument(
        "--idempotency-keys",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send a fresh Idempotency-Key with each create, as the mini-program does",
    )
    parser.add_argument(
        "--pg-admin-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help=f"a PostgreSQL URL allowed to create and drop the {BENCH_DATABASE} database",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="flushed!")
    args = parser.parse_args(argv)
    if min(args.requests, args.clients, args.pool) < 1 or args.warmup < 0 or args.seconds <= 0:
        parser.error("--requests, --clients, --pool >= 1, --warmup >= 0, --seconds > 0")
    return args


def bench_database_url(admin_url: str) -> str:
    """The admin URL with the bench database's name in place of its own."""
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{BENCH_DATABASE}"


# --- people, visitors, slots ----------------------------------------------------------------------


def id_number(n: int) -> str:
    """The `n`th distinct valid resident ID number (GB 11643 check character computed here)."""
    birthday = FIRST_BIRTHDAY + timedelta(days=n // 1000)
    first17 = f"330302{birthday:%Y%m%d}{n % 1000:03d}"
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


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
    settings = load_settings(database_url=database_url, secret_key=SECRET_KEY, log_level="WARNING")
    await db.open_database(settings)
    try:
        day = local_now().date() + timedelta(days=1)
        venues, slot_ids = [], []
        for phase in ("http", "raw"):
            venue = await Venue.create(
                code=f"bench-{phase}",
                kind=VenueKind.MUSEUM,
                name={"zh-CN": f"压测馆-{phase}", "en": f"Bench hall ({phase})"},
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
            )
            await OpeningHours.bulk_create(
                [
                    OpeningHours(
                        venue=venue, weekday=d, opens_at=clock_time(8), closes_at=clock_time(22)
                    )
                    for d in range(7)
                ]
            )
            slots = [
                await TimeSlot.create(
                    venue=venue,
                    date=day,
                    starts_at=clock_time(8 + n),
                    ends_at=clock_time(9 + n),
                    capacity=capacity,
                )
                for n in range(SLOTS_PER_PHASE)
            ]
            venues.append(venue.id)
            slot_ids.append([slot.id for slot in slots])
        await Visitor.bulk_create([Visitor(openid=f"bench-{n}") for n in range(clients)])
        visitor_ids = list(
            await Visitor.filter(openid__startswith="bench-")
            .order_by("id")
            .values_list("id", flat=True)
        )
    finally:
        await db.close_database()
    # The servers derive their signing key from the same ETOUR_SECRET_KEY: they accept these.
    signing_app = SimpleNamespace(
        ctx=SimpleNamespace(signer=TokenSigner(settings.secret()), settings=settings)
    )
    tokens = [
        issue_session_token(signing_app, Principal(role=VISITOR, user_id=visitor_id))
        for visitor_id in visitor_ids
    ]
    return Fixture(venues[0], slot_ids[0], venues[1], slot_ids[1], visitor_ids, tokens, day)


# --- the phases -----------------------------------------------------------------------------------


async def drive(
    run: LoadRun,
    workers: int,
    first: int,
    count: int,
    seconds: float,
    one: Callable[[int, int], Awaitable[str | None]],
) -> None:
    """Run `one(worker, n)` for n in first..first+count-1 on `workers` tasks, within `seconds`.

    `one` returns None on success or a short error kind; successes' latencies are recorded.
    """
    numbers = iter(range(first, first + count))  # shared: each create takes the next person
    started = time.monotonic()
    deadline = started + seconds

    async def worker(index: int) -> None:
        for n in numbers:
            if time.monotonic() >= deadline:
                run.stopped_by_time = True
                return
            began = time.perf_counter()
            problem = await one(index, n)
            if problem is None:
                run.latencies_ms.append((time.perf_counter() - began) * 1000)
            else:
                run.count_error(problem)

    try:
        async with asyncio.timeout(seconds + REQUEST_TIMEOUT_SECONDS):  # hard stop, even if hung
            await asyncio.gather(*(worker(index) for index in range(workers)))
    except TimeoutError:
        run.stopped_by_time = True
    run.seconds = time.monotonic() - started


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


async def raw_phase(database_url: str, fixture: Fixture, args: argparse.Namespace) -> LoadRun:
    """The reserve transaction straight on asyncpg: `--clients` tasks over a `--pool` pool."""
    # Ciphertexts as long as the service's, made once: this phase measures the database only.
    cipher = FieldCipher(SECRET_KEY.encode())
    name_encrypted, number_encrypted = cipher.encrypt("游客1"), cipher.encrypt(id_number(1))
    fare = json.dumps({"discount": None, "rule": None, "note": {}, "price_cents": 5000})
    slots, venue_id, day = fixture.raw_slot_ids, fixture.raw_venue_id, fixture.slot_date

    async def reserve(connection: asyncpg.Connection, worker: int, n: int) -> str | None:
        slot_id = slots[n % len(slots)]
        number = id_number(n)
        number_hash = hashlib.sha256(number.encode()).hexdigest()
        async with connection.transaction():
            claimed = await connection.execute(RAW_RESERVE_SQL["claim_places"], slot_id, 1)
            if claimed != "UPDATE 1":
                return "slot full"  # the transaction is rolled back on leaving this block
            reservation_id = await connection.fetchval(
                RAW_RESERVE_SQL["reservation"],
                fixture.visitor_ids[worker],
                venue_id,
                slot_id,
                day,
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

        await drive(LoadRun("warm-up"), args.clients, 0, args.warmup, args.seconds, one)
        run = LoadRun("raw asyncpg transaction")
        await drive(run, args.clients, args.warmup, args.requests, args.seconds, one)
    finally:
        await pool.close()
    return run


class KeepAliveClient:
    """One client's HTTP/1.1 keep-alive connection, with just enough HTTP for JSON POSTs.

    The load generator shares the 2 cores with the servers and PostgreSQL. httpx spends about
    8 ms of CPU per request with 100 connections open (3 ms with one), which would be taken from
    the servers under test; this client spends a fraction of that. Sanic answers with
    Content-Length, so no chunked decoding is needed.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """The status and body of one POST; reconnects when the server closed the connection."""
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self.writer.write("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        status = int(head[9:12])
        length = re.search(r"\r\ncontent-length: *(\d+)", head)
        if length is None:
            raise ConnectionError("answer without Content-Length")
        answer = await self.reader.readexactly(int(length.group(1)))
        if "\r\nconnection: close" in head:
            await self.close()
        return status, answer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def http_phase(
    layout: Layout, base_urls: list[str], fixture: Fixture, args: argparse.Namespace, first: int
) -> LoadRun:
    """POST /api/v1/reservations from `--clients` concurrent clients, one new person each time.

    Client i talks to base_urls[i % len(base_urls)]; people are numbered from `first` on.
    """
    addresses = [url.removeprefix("http://").rsplit(":", 1) for url in base_urls]
    clients = [
        KeepAliveClient(host, int(port))
        for host, port in (addresses[i % len(addresses)] for i in range(args.clients))
    ]
    slots = fixture.http_slot_ids

    async def one(worker: int, n: int) -> str | None:
        headers = {"Authorization": f"Bearer {fixture.tokens[worker]}", "Accept-Language": "en"}
        if args.idempotency_keys:
            headers["Idempotency-Key"] = f"bench-{n}"
        body = {
            "slot_id": slots[n % len(slots)],
            "visitors": [{"name": f"游客{n}", "id_number": id_number(n)}],
        }
        client = clients[worker]
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                status, answer = await client.post_json(
                    "/api/v1/reservations", json.dumps(body, ensure_ascii=False).encode(), headers
                )
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ValueError,  # a status line that is not HTTP
        ) as problem:
            await client.close()
            return type(problem).__name__
        if status == 201:
            return None
        try:
            code = json.loads(answer)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = "?"
        return f"{status} {code}"

    try:
        await drive(LoadRun("warm-up"), args.clients, first, args.warmup, args.seconds, one)
        run = LoadRun(f"POST /api/v1/reservations: {layout.label}")
        await drive(run, args.clients, first + args.warmup, args.requests, args.seconds, one)
        run.connections_per_worker = connections_per_process(base_urls, SERVER_WORKERS)
    finally:
        for client in clients:
            await client.close()
    return run


async def check_database(database_url: str, fixture: Fixture) -> dict[str, int]:
    """Counts that must agree after the run: booked places, reservations and tickets per phase."""
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


# --- stores and the server ------------------------------------------------------------------------


async def recreate_database(admin_url: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        await connection.close()


async def drop_database(admin_url: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    finally:
        await connection.close()


async def flush_redis(redis_url: str) -> None:
    redis = Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


def server_environment(data_dir: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """This environment minus DATABASE_URL, REDIS_URL and ETOUR_*, plus the bench's own."""
    dropped = {"DATABASE_URL", "REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("ETOUR_")}
    env.update(
        ETOUR_DATA_DIR=str(data_dir),
        ETOUR_SECRET_KEY=SECRET_KEY,
        ETOUR_LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
    )
    return env


def run_etour(env: dict[str, str], data_dir: Path, *args: str) -> None:
    """Run one `etour` command to completion; BenchError with its output if it fails."""
    try:
        done = subprocess.run(
            [str(ETOUR), *args],
            env=env,
            cwd=data_dir,
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(
            f"etour {' '.join(args)} took over {SETUP_TIMEOUT_SECONDS:.0f} s"
        ) from None
    if done.returncode != 0:
        raise BenchError(f"etour {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    env: dict[str, str], data_dir: Path, port: int, options: tuple[str, ...], log: IO[bytes]
) -> subprocess.Popen:
    """`etour serve` in its own session (Ctrl-C here reaches only the bench)."""
    return subprocess.Popen(
        [str(ETOUR), "serve", "--port", str(port), *options],
        env=env,
        cwd=data_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def connections_per_process(base_urls: list[str], processes: int) -> list[int]:
    """Established connections to the servers per serving process, most first (Linux `ss`).

    Processes holding none count as 0. An empty list when `ss` is not there: the figure is a
    diagnosis, not a measurement.
    """
    ports = " or ".join(f"sport = :{url.rsplit(':', 1)[1]}" for url in base_urls)
    try:
        listed = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( {ports} )"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    per_process: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", listed):
        per_process[pid] = per_process.get(pid, 0) + 1
    counts = sorted(per_process.values(), reverse=True)
    return counts + [0] * (processes - len(counts))


def wait_until_healthy(server: subprocess.Popen, base_url: str) -> None:
    deadline = time.monotonic() + HEALTH_WAIT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"the server exited with code {server.returncode} while starting")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise BenchError(f"GET /healthz did not answer 200 within {HEALTH_WAIT_SECONDS:.0f} s")


def wait_until_settled(base_url: str) -> str:
    """Wait until the server's embedding model is no longer warming; return its last state.

    Each server process loads the recommendation model in a background thread after start
    (seconds of CPU-bound imports that hold the GIL): measuring before it is done would measure
    the warm-up. /healthz says "warming" until then; with several workers behind one port a
    request reaches any of them, so the state must hold for several fresh connections in a row.
    """
    deadline = time.monotonic() + SETTLE_WAIT_SECONDS
    settled_in_a_row, state = 0, "unknown"
    while time.monotonic() < deadline:
        try:
            state = httpx.get(f"{base_url}/healthz", timeout=10.0).json().get("embeddings", "-")
        except (httpx.HTTPError, ValueError):
            state = "no answer"
        settled_in_a_row = settled_in_a_row + 1 if state not in ("warming", "no answer") else 0
        if settled_in_a_row >= SETTLED_ANSWERS:
            return state
        time.sleep(0.5)
    raise BenchError(f"{base_url}: embeddings still {state!r} after {SETTLE_WAIT_SECONDS:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    """Stop the server's main process; if it does not stop in time, kill its session's group."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=SERVER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)  # our own session: the main process and workers
        server.wait(timeout=SERVER_STOP_SECONDS)


def print_server_log(log_path: Path, lines: int = 40) -> None:
    if log_path.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-lines:]
        print("--- server output (last lines) ---", *tail, sep="\n", file=sys.stderr)


# --- the run and its record -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The raw baseline, one HTTP run per layout, and what the database and servers showed."""

    raw: LoadRun
    http: list[LoadRun]
    counts: dict[str, int]
    server_log_problems: list[str]

    def ratio(self, run: LoadRun) -> float:
        return run.per_second / self.raw.per_second if self.raw.per_second else 0.0

    @property
    def error_count(self) -> int:
        return self.raw.error_count + sum(run.error_count for run in self.http)


def serve_and_load(
    layout: Layout, env: dict[str, str], data_dir: Path, fixture: Fixture, args: argparse.Namespace,
    first: int,
) -> tuple[LoadRun, str]:  # fmt: skip
    """Start the layout's servers, load them, stop them; the run and the servers' output."""
    ports = [free_port() for _ in layout.servers]
    if len(set(ports)) != len(ports):
        raise BenchError("the OS offered the same free port twice; run again")
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    logs = [data_dir / f"serve-{port}.log" for port in ports]
    servers: list[subprocess.Popen] = []
    try:
        for port, options, log_path in zip(ports, layout.servers, logs, strict=True):
            with log_path.open("wb") as log:  # the child keeps its own descriptor
                servers.append(start_server(env, data_dir, port, options, log))
        for server, url in zip(servers, urls, strict=True):
            wait_until_healthy(server, url)
        print(f"waiting for {layout.label} to settle (embedding model) ...", flush=True)
        embeddings = {wait_until_settled(url) for url in urls}
        print(f"http phase: {args.clients} clients, {layout.label} ...", flush=True)
        run = asyncio.run(http_phase(layout, urls, fixture, args, first))
        run.embeddings = ", ".join(sorted(embeddings))
    except BenchError:
        for log_path in logs:
            print_server_log(log_path)
        raise
    finally:
        for server in servers:
            stop_server(server)
    return run, "\n".join(path.read_text(errors="replace") for path in logs)


def run_benchmark(args: argparse.Namespace, data_dir: Path) -> Outcome:
    """Create the stores, measure the raw phase then each HTTP layout, always clean up."""
    database_url = bench_database_url(args.pg_admin_url)
    per_phase = args.warmup + args.requests
    # Enough places that no slot fills: every create succeeds, or it is an error.
    capacity = len(HTTP_LAYOUTS) * per_phase
    print(f"creating database {BENCH_DATABASE}, flushing {args.redis_url} ...", flush=True)
    try:
        asyncio.run(recreate_database(args.pg_admin_url))
        asyncio.run(flush_redis(args.redis_url))
    except (OSError, asyncpg.PostgresError) as problem:
        raise BenchError(f"PostgreSQL or Redis unavailable: {problem!r}") from None
    try:
        env = server_environment(data_dir, database_url, args.redis_url)
        run_etour(env, data_dir, "init-db")
        fixture = asyncio.run(make_fixture(database_url, args.clients, capacity))
        print(f"raw phase: {args.clients} tasks, asyncpg pool of {args.pool} ...", flush=True)
        raw = asyncio.run(raw_phase(database_url, fixture, args))
        http, output = [], ""
        for number, layout in enumerate(HTTP_LAYOUTS, start=1):
            # Each phase books its own people (the raw phase took the first ones).
            run, logged = serve_and_load(layout, env, data_dir, fixture, args, number * per_phase)
            http.append(run)
            output += logged
        counts = asyncio.run(check_database(database_url, fixture))
        problems = sorted(set(re.findall(r"^\S+Error: .*$|^Traceback.*$", output, re.MULTILINE)))
        return Outcome(raw, http, counts, problems)
    finally:
        asyncio.run(drop_database(args.pg_admin_url))
        asyncio.run(flush_redis(args.redis_url))


def results_table(outcome: Outcome) -> str:
    rows = [
        "| path | creates | errors | creates/s | p50 ms | p99 ms | vs raw "
        "| connections per worker |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in (outcome.raw, *outcome.http):
        cut_short = " (time budget hit)" if run.stopped_by_time else ""
        errors = ", ".join(f"{kind}: {n}" for kind, n in sorted(run.errors.items()))
        spread = " / ".join(str(n) for n in run.connections_per_worker) or "-"
        rows.append(
            f"| {run.label}{cut_short} | {run.succeeded} | {run.error_count}"
            f"{f' ({errors})' if errors else ''} | {run.per_second:.0f} "
            f"| {run.latency_percentile_ms(50):.1f} | {run.latency_percentile_ms(99):.1f} "
            f"| {outcome.ratio(run):.2f} | {spread} |"
        )
    return "\n".join(rows)


def command_output(*command: str) -> str:
    """A short read-only command's first line of output, or 'unknown'."""
    try:
        done = subprocess.run(
            command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else "unknown"


def invoked_command() -> str:
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(PROJECT_ROOT) if script.is_relative_to(PROJECT_ROOT) else script
    return shlex.join([".venv/bin/python", str(shown), *sys.argv[1:]])


def ratios_line(outcome: Outcome) -> str:
    """Each HTTP layout's ratio to raw, and whether it meets the target."""
    return "; ".join(
        f"{run.label.removeprefix('POST /api/v1/reservations: ')} **{outcome.ratio(run):.2f}** "
        f"({'meets' if outcome.ratio(run) >= TARGET_RATIO else 'below'} the {TARGET_RATIO} target)"
        for run in outcome.http
    )


def settled(outcome: Outcome) -> str:
    return "; ".join(
        f"{run.label.removeprefix('POST /api/v1/reservations: ')}: {run.embeddings or '?'}"
        for run in outcome.http
    )


def results_section(outcome: Outcome, args: argparse.Namespace, started_at: datetime) -> str:
    keys = "a fresh `Idempotency-Key` on each create" if args.idempotency_keys else "no keys"
    return f"""<!-- bench:{BENCH_NAME} -->
## {BENCH_NAME}: reservation creates over HTTP against the raw SQL transaction

- date (UTC): {started_at:%Y-%m-%d %H:%M}
- commit: {command_output("git", "rev-parse", "--short", "HEAD")}
- machine: {platform.platform()}, nproc {command_output("nproc")}, \
Python {platform.python_version()}, {command_output("psql", "--version")}, shared with other work
- command: `{invoked_command()}`
- load: {args.clients} concurrent clients, at most {args.requests} creates per phase after \
{args.warmup} warm-up creates, {args.seconds:g} s budget per phase; one new person per create \
(1-person reservations), round {SLOTS_PER_PHASE} slots with room to spare; PostgreSQL database \
`{BENCH_DATABASE}` (created and dropped by the run), Redis db 14 (flushed)
- raw: {args.clients} asyncio tasks, asyncpg pool of {args.pool}: BEGIN; conditional UPDATE \
time_slot; INSERT reservation, person_day_claim, ticket; COMMIT
- http: two server processes on loopback, PostgreSQL + Redis, in two layouts one after the \
other: `etour serve --workers {SERVER_WORKERS}` (one port), then two `etour serve` on their own \
ports with the clients split evenly; each client one keep-alive HTTP/1.1 connection from the \
bench process (which shares the 2 cores), {keys}; "connections per worker" is what `ss` showed \
at the end of the phase
- each HTTP phase starts once /healthz shows the servers' embedding model no longer warming \
(the model loads in a background thread after start): {settled(outcome)}

{results_table(outcome)}

Ratio HTTP/raw: {ratios_line(outcome)}. Database after the run: \
{", ".join(f"{k} {v}" for k, v in outcome.counts.items())}.
<!-- /bench:{BENCH_NAME} -->
"""


def update_results_file(section: str) -> None:
    """Replace this benchmark's section in RESULTS.md (append it if absent; create the file)."""
    text = RESULTS_FILE.read_text() if RESULTS_FILE.exists() else RESULTS_HEADER
    pattern = re.compile(
        rf"<!-- bench:{BENCH_NAME} -->.*?<!-- /bench:{BENCH_NAME} -->\n?", re.DOTALL
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = f"{text.rstrip()}\n\n{section}"
    RESULTS_FILE.write_text(text)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, record it in RESULTS.md when error-free."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    try:
        with tempfile.TemporaryDirectory(prefix="etour-bench-") as data_dir:
            outcome = run_benchmark(args, Path(data_dir))
    except BenchError as problem:
        print(f"{BENCH_NAME}: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{BENCH_NAME}: interrupted; the server was stopped", file=sys.stderr)
        return 130
    print(results_table(outcome))
    print(f"ratio http/raw: {ratios_line(outcome)}".replace("**", ""))
    failures = outcome.error_count
    if failures or outcome.server_log_problems:
        print(
            f"{BENCH_NAME}: {failures} errors, server log: {outcome.server_log_problems}; "
            "RESULTS.md left unchanged",
            file=sys.stderr,
        )
        return 1
    update_results_file(results_section(outcome, args, started_at))
    print(f"recorded in {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
