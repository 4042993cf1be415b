"""What the benchmarks share: stores, server processes, a bounded load client, RESULTS.md.

Stable API (other bench scripts import it; add, do not rename):
- BenchError; PROJECT_ROOT, ETOUR, RESULTS_FILE, SECRET_KEY
- stores: pg_database_url(admin_url, name), recreate_pg_database(admin_url, name),
  drop_pg_database(admin_url, name), flush_redis(url), add_store_arguments(parser, database,
  redis_db) (--pg-admin-url, --redis-url)
- processes: server_environment(data_dir, database_url=None, redis_url=None, **extra),
  run_etour(env, data_dir, *args), free_ports(n), Servers (start N `etour serve` on their own
  ports, wait for /healthz and optionally for the embedding model to settle, stop them all)
- load: LoadRun (latencies, errors by kind, rate, percentile), percentile(values, p),
  drive(run, workers, first, count, seconds, one), KeepAliveClient (light HTTP/1.1 client)
- record: machine_line(), commit(), invoked_command(), update_results_file(name, body)
- a script's main: run_in_temp_dir(name, run, prefix, stopped) (BenchError and Ctrl-C end the
  script with a message), record_results(name, body), results_unchanged(name, problem)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import itertools
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
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:  # run as `python bench/x.py`: the project is importable
    sys.path.insert(0, str(PROJECT_ROOT))

ETOUR = PROJECT_ROOT / ".venv" / "bin" / "etour"
RESULTS_FILE = PROJECT_ROOT / "bench" / "RESULTS.md"
# 48 characters, fixed so runs are repeatable; it signs nothing outside the bench's own stores.
SECRET_KEY = "bench-only-secret-key-fixed-for-repeatable-runs!"  # noqa: S105
SETUP_TIMEOUT_SECONDS = 300.0
HEALTH_WAIT_SECONDS = 60.0
SETTLE_WAIT_SECONDS = 240.0
SETTLED_ANSWERS = 8
SERVER_STOP_SECONDS = 20.0
REQUEST_TIMEOUT_SECONDS = 30.0
# The servers close a keep-alive connection idle for 15 s: a client reconnects before that.
IDLE_RECONNECT_SECONDS = 10.0
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379"  # each bench adds the number of the db it flushes
RESULTS_HEADER = """# Benchmark results

Figures are measured on a shared 2-core machine, so absolute times vary from run to run: read
each endpoint's **ratio** to the baseline measured in the same run, under the same load, not its
raw requests/s. Each benchmark keeps its own section below (see bench/README.md); rerunning one
replaces only its section.
"""


class BenchError(Exception):
    """The benchmark could not run to the end; the message says why."""


# --- stores ---------------------------------------------------------------------------------------


def pg_database_url(admin_url: str, name: str) -> str:
    """The admin URL with database `name` in place of its own."""
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


async def recreate_pg_database(admin_url: str, name: str) -> str:
    """Drop (forcing out sessions) and create database `name`; return its URL."""
    import asyncpg

    connection = await asyncpg.connect(admin_url, timeout=10)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return pg_database_url(admin_url, name)


async def drop_pg_database(admin_url: str, name: str) -> None:
    """Drop database `name` if it exists, forcing out its sessions."""
    import asyncpg

    connection = await asyncpg.connect(admin_url, timeout=10)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def flush_redis(url: str) -> None:
    """Empty the Redis database of `url` (the bench's own db number)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


def add_store_arguments(parser: argparse.ArgumentParser, *, database: str, redis_db: int) -> None:
    """--pg-admin-url, allowed to create and drop `database`, and --redis-url (db `redis_db`,
    flushed): the PostgreSQL and Redis of this machine by default."""
    parser.add_argument(
        "--pg-admin-url",
        default=PG_ADMIN_URL,
        help=f"a PostgreSQL URL allowed to create and drop the {database} database",
    )
    parser.add_argument("--redis-url", default=f"{REDIS_URL}/{redis_db}", help="flushed!")


# --- processes ------------------------------------------------------------------------------------


def server_environment(
    data_dir: Path, database_url: str | None = None, redis_url: str | None = None, **extra: str
) -> dict[str, str]:
    """This environment minus DATABASE_URL, REDIS_URL and ETOUR_*, plus the bench's own.

    Without `database_url` / `redis_url` the servers use the SQLite file in `data_dir` and the
    in-process Redis. `extra` adds variables (e.g. ETOUR_SOMETHING="1").
    """
    dropped = {"DATABASE_URL", "REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("ETOUR_")}
    env.update(ETOUR_DATA_DIR=str(data_dir), ETOUR_SECRET_KEY=SECRET_KEY, ETOUR_LOG_LEVEL="WARNING")
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def run_etour(
    env: dict[str, str], data_dir: Path, *args: str, timeout: float = SETUP_TIMEOUT_SECONDS
) -> subprocess.CompletedProcess:
    """Run one `etour` command to completion; BenchError with its output if it fails."""
    try:
        done = subprocess.run(
            [str(ETOUR), *args],
            env=env,
            cwd=data_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"etour {' '.join(args)} took over {timeout:.0f} s") from None
    if done.returncode != 0:
        raise BenchError(f"etour {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on loopback right now (all held open while choosing)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class Servers:
    """N `etour serve` processes, each on its own loopback port, stopped on leaving the block.

    `options` has one tuple of extra `etour serve` arguments per process. On entering, each is
    started in its own session (Ctrl-C reaches only the bench) and awaited on GET /healthz;
    with `settle=True` also until /healthz no longer says the embedding model is warming.
    On a BenchError inside the block the end of each server's output is printed.
    """

    def __init__(
        self,
        env: dict[str, str],
        data_dir: Path,
        options: Sequence[tuple[str, ...]] = ((),),
        *,
        settle: bool = False,
    ) -> None:
        self.env, self.data_dir, self.options, self.settle = env, data_dir, options, settle
        self.ports = free_ports(len(options))
        self.urls = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.log_paths = [data_dir / f"serve-{port}.log" for port in self.ports]
        self.processes: list[subprocess.Popen] = []
        self.embeddings: list[str] = []  # per process, when settle=True

    def __enter__(self) -> Servers:
        try:
            for port, options, log_path in zip(
                self.ports, self.options, self.log_paths, strict=True
            ):
                with log_path.open("wb") as log:  # the child keeps its own descriptor
                    self.processes.append(
                        subprocess.Popen(
                            [str(ETOUR), "serve", "--port", str(port), *options],
                            env=self.env,
                            cwd=self.data_dir,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )
            for process, url in zip(self.processes, self.urls, strict=True):
                wait_until_healthy(process, url)
            if self.settle:
                self.embeddings = [wait_until_settled(url) for url in self.urls]
        except BaseException as problem:
            self.__exit__(type(problem), problem, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, problem: object, trace: object) -> None:
        for process in self.processes:
            stop_server(process)
        if kind is not None and issubclass(kind, BenchError):
            for log_path in self.log_paths:
                print_server_log(log_path)

    def pids(self) -> list[int]:
        """The started processes' ids (to sample one with py-spy while it serves)."""
        return [process.pid for process in self.processes]

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of each process, for KeepAliveClient."""
        return [("127.0.0.1", port) for port in self.ports]

    def output(self) -> str:
        """Everything the servers wrote so far."""
        return "\n".join(p.read_text(errors="replace") for p in self.log_paths if p.exists())

    def log_problems(self) -> list[str]:
        """Tracebacks and `...Error:` lines in the servers' output (a clean run has none)."""
        found = re.findall(r"^\S+Error: .*$|^Traceback.*$", self.output(), re.MULTILINE)
        return sorted(set(found))

    def connections_per_process(self) -> list[int]:
        """Established client connections per serving process, most first (Linux `ss`).

        Processes holding none count as 0; an empty list when `ss` is not there (a diagnosis,
        not a measurement).
        """
        ports = " or ".join(f"sport = :{port}" for port in self.ports)
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
        return counts + [0] * (len(self.ports) - len(counts))


def wait_until_healthy(server: subprocess.Popen, base_url: str) -> None:
    """Poll GET /healthz until it answers 200; BenchError after the bounded wait or on exit."""
    import httpx

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
    """Wait until the server's embedding model and chatbot are no longer warming; return the
    model's last state.

    Each server process loads the recommendation model in a background thread after start
    (seconds of CPU-bound imports holding the GIL), then fits the chatbot's classifier unless an
    earlier start kept the fit: measuring before it is done would measure the warm-up. With
    several workers behind one port a request reaches any of them, so the state must hold for
    several fresh connections in a row.
    """
    import httpx

    deadline = time.monotonic() + SETTLE_WAIT_SECONDS
    settled_in_a_row, state = 0, "unknown"
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"{base_url}/healthz", timeout=10.0).json()
            state = health.get("embeddings", "-")
            if health.get("chat") == "warming":
                state = "warming"  # the chatbot's fit: seconds of CPU in each process
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
    """The end of one server's output, to explain a failure."""
    if log_path.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {log_path.name} (last lines) ---", *tail, sep="\n", file=sys.stderr)


# --- load -----------------------------------------------------------------------------------------


def percentile(values: Sequence[float], percent: int) -> float:
    """The `percent`th percentile of `values` (0 for none, the value itself for one)."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


@dataclass
class LoadRun:
    """What one load phase produced: latencies of successes, errors by kind, wall time."""

    label: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stopped_by_time: bool = False
    notes: dict[str, str] = field(default_factory=dict)  # free per-phase facts for the table
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CpuMeter.per_operation_ms, if read

    @property
    def succeeded(self) -> int:
        return len(self.latencies_ms)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def done(self) -> int:
        """Operations that finished, successfully or not."""
        return self.succeeded + self.error_count

    @property
    def per_second(self) -> float:
        """Successes per second of wall time."""
        return self.succeeded / self.seconds if self.seconds > 0 else 0.0

    def latency_percentile_ms(self, percent: int) -> float:
        """The `percent`th percentile latency of successes in ms."""
        return percentile(self.latencies_ms, percent)

    def count_error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def first_cells(self) -> str:
        """A results row's first cells: label, successes, errors, rate, p50 and p99 in ms."""
        cut_short = " (time budget hit)" if self.stopped_by_time else ""
        errors = f" ({self.errors_text()})" if self.errors else ""
        return (
            f"| {self.label}{cut_short} | {self.succeeded} | {self.error_count}{errors} "
            f"| {self.per_second:.0f} | {self.latency_percentile_ms(50):.1f} "
            f"| {self.latency_percentile_ms(99):.1f}"
        )

    def errors_text(self) -> str:
        """`kind: n, ...` (empty when there were none)."""
        return ", ".join(f"{kind}: {n}" for kind, n in sorted(self.errors.items()))


def _running_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


class CpuMeter:
    """CPU seconds the service's processes, the stores and this load client used over a phase.

    Read from /proc (utime + stime) before and after. On a shared, CPU-bound machine the rates
    swing with the neighbours' load, while the CPU each request costs holds still: the ratio of
    CPU per operation is the steadier measure of how much work a path does.

    With `every` (seconds), a thread also reads the processes found at the start that often,
    and those started since (a database pool growing), so `used_until` tells what each group
    had used by any moment of the phase.
    """

    GROUPS = ("servers", "PostgreSQL", "Redis", "load client")

    def __init__(self, server_pids: Sequence[int] = (), *, every: float | None = None) -> None:
        self.server_pids = set(server_pids)
        self.seconds: dict[str, float] = {}
        self._before: dict[str, float] = {}
        self._every = every
        self._pids: dict[int, str] = {}  # the traced processes' groups
        self._untraced: set[int] = set()  # processes of none of the groups
        self._trace: list[tuple[float, dict[str, float]]] = []  # (Unix time, used so far)
        self._stop = threading.Event()
        self._tracer: threading.Thread | None = None

    def _group_of(self, pid: int, command: str) -> str | None:
        if pid in self.server_pids:
            return "servers"
        if pid == os.getpid():
            return "load client"
        if Path(command.split(" ", 1)[0]).name.startswith("postgres"):  # the server, its backends
            return "PostgreSQL"
        if command.startswith("redis-server") or "/redis-server" in command:
            return "Redis"
        return None

    @staticmethod
    def _used_by(pid: int, ticks: int) -> float | None:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None  # gone meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    def _group_at(self, pid: int) -> str | None:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            return None  # gone meanwhile
        return self._group_of(pid, command.decode(errors="replace"))

    def _snapshot(self) -> dict[str, float]:
        self._find_new()
        return self._traced()

    def _find_new(self) -> None:
        # Processes started since the last look join the trace with all they used: they were
        # started within the phase. (Traced only from the start, a PostgreSQL pool growing in
        # the phase left its new connections' CPU out: a third to two thirds of the database's
        # in bench/flash_crowd.py's first baseline.) A process gone meanwhile counts nothing.
        for pid in _running_pids():
            if pid in self._pids or pid in self._untraced:
                continue
            group = self._group_at(pid)
            if group is None:
                self._untraced.add(pid)
            else:
                self._pids[pid] = group

    def _traced(self) -> dict[str, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        used = dict.fromkeys(self.GROUPS, 0.0)
        for pid, group in self._pids.items():
            used[group] += self._used_by(pid, ticks) or 0.0
        return used

    def _follow(self) -> None:
        while not self._stop.wait(self._every):
            self._find_new()
            self._trace.append((time.time(), self._traced()))

    def __enter__(self) -> CpuMeter:
        self._before = self._snapshot()
        if self._every:
            self._trace = [(time.time(), self._traced())]
            self._tracer = threading.Thread(target=self._follow, daemon=True)
            self._tracer.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._tracer is not None:
            self._stop.set()
            self._tracer.join()
        after = self._snapshot()
        self.seconds = {group: after[group] - self._before[group] for group in self.GROUPS}

    def used_until(self, unix_time: float) -> dict[str, float]:
        """Each group's CPU seconds from the start until `unix_time` (traced with `every`;
        interpolated between the readings around it, a process gone meanwhile not counted)."""
        first = self._trace[0][1]
        for (before_at, before), (after_at, after) in itertools.pairwise(self._trace):
            if after_at >= unix_time:
                share = max(unix_time - before_at, 0.0) / (after_at - before_at)
                return {
                    group: before[group] - first[group] + share * (after[group] - before[group])
                    for group in self.GROUPS
                }
        last = self._trace[-1][1]
        return {group: last[group] - first[group] for group in self.GROUPS}

    def per_operation_ms(self, operations: int) -> dict[str, float]:
        """Each group's CPU milliseconds per operation, and their "total"."""
        if not operations:
            return {}
        shares = {group: 1000 * used / operations for group, used in self.seconds.items()}
        return {**shares, "total": sum(shares.values())}


async def drive(
    run: LoadRun,
    workers: int,
    first: int,
    count: int,
    seconds: float,
    one: Callable[[int, int], Awaitable[str | None]],
) -> LoadRun:
    """Run `one(worker, n)` for n in first..first+count-1 on `workers` tasks, within `seconds`.

    `one` returns None on success (its latency is recorded) or a short error kind (counted).
    The numbers are shared: each call takes the next one. A hard stop `REQUEST_TIMEOUT_SECONDS`
    after the budget ends a hung phase.
    """
    numbers = iter(range(first, first + count))
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
        async with asyncio.timeout(seconds + REQUEST_TIMEOUT_SECONDS):
            await asyncio.gather(*(worker(index) for index in range(workers)))
    except TimeoutError:
        run.stopped_by_time = True
    run.seconds = time.monotonic() - started
    return run


TRANSPORT_ERRORS = (
    OSError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
    TimeoutError,
    ValueError,  # a status line that is not HTTP
)


class KeepAliveClient:
    """One HTTP/1.1 keep-alive connection with just enough HTTP for JSON requests.

    The load generator shares the 2 cores with the servers and PostgreSQL. httpx spends about
    8 ms of CPU per request with 100 connections open (3 ms with one), CPU taken from the
    servers under test; this client spends a fraction of that. Sanic answers with
    Content-Length, so no chunked decoding is needed.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0
        self.head = ""  # the last answer's status line and headers, lowercased

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        limit_seconds: float = REQUEST_TIMEOUT_SECONDS,
    ) -> tuple[int, bytes]:
        """The status and body of one request (`body` sent as JSON unless None or bytes).

        Reconnects when the server closed the connection; on a transport error the connection
        is closed and the error raised (see TRANSPORT_ERRORS).
        """
        if body is None or isinstance(body, bytes):
            payload = body or b""
        else:
            payload = json.dumps(body, ensure_ascii=False).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        try:
            async with asyncio.timeout(limit_seconds):
                await self.connect()
                self.writer.write("\r\n".join(lines).encode() + b"\r\n\r\n" + payload)
                head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                status = int(head[9:12])
                length = re.search(r"\r\ncontent-length: *(\d+)", head)
                if length is None:
                    raise ValueError("answer without Content-Length")
                answer = await self.reader.readexactly(int(length.group(1)))
        except TRANSPORT_ERRORS:
            await self.close()
            raise
        if "\r\nconnection: close" in head:
            await self.close()
        self.last_used, self.head = time.monotonic(), head
        return status, answer

    async def connect(self) -> None:
        """Open the connection unless it is open and was used lately (else reopen it)."""
        if time.monotonic() - self.last_used > IDLE_RECONNECT_SECONDS:
            await self.close()  # the server may be closing it as idle right now
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.last_used = time.monotonic()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def error_code(status: int, answer: bytes | dict) -> str:
    """`status code` of an error answer in the service's one JSON error shape (its body, or
    that body already parsed)."""
    try:
        code = (json.loads(answer) if isinstance(answer, bytes) else answer)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = "?"
    return f"{status} {code}"


# --- record ---------------------------------------------------------------------------------------


def command_output(*command: str) -> str:
    """A short read-only command's first line of output, or 'unknown'."""
    try:
        done = subprocess.run(
            command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else "unknown"


def commit() -> str:
    """The checked-out commit, read from .git without running git."""
    git = PROJECT_ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:7]
        ref = head.removeprefix("ref: ")
        if (git / ref).exists():
            return (git / ref).read_text().strip()[:7]
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(f" {ref}"):
                return line.split()[0][:7]
    except OSError:
        pass
    return "unknown"


def machine_line(postgres: bool = False) -> str:
    """Platform, processors, Python (the PostgreSQL client's version when asked), and the load.

    The load average when the line is written (at the end of a run) says how much other work
    shared the machine: ratios from one run are comparable, raw rates across runs are not.
    """
    parts = [platform.platform(), f"nproc {os.cpu_count()}", f"Python {platform.python_version()}"]
    if postgres:
        parts.append(command_output("psql", "--version"))
    one, five, _ = os.getloadavg()
    parts.append(f"load average {one:.1f} (1 min), {five:.1f} (5 min) at the end of the run")
    return ", ".join(parts)


def invoked_command() -> str:
    """The command line as typed from the project root."""
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(PROJECT_ROOT) if script.is_relative_to(PROJECT_ROOT) else script
    return shlex.join([".venv/bin/python", str(shown), *sys.argv[1:]])


def update_results_file(name: str, body: str) -> None:
    """Replace benchmark `name`'s section of RESULTS.md with `body` between its markers.

    Appends the section when absent and creates the file when missing; other sections are
    left as they are.
    """
    section = f"<!-- bench:{name} -->\n{body.strip()}\n<!-- /bench:{name} -->\n"
    text = RESULTS_FILE.read_text() if RESULTS_FILE.exists() else RESULTS_HEADER
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->\n?", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = f"{text.rstrip()}\n\n{section}"
    RESULTS_FILE.write_text(text)


# --- a script's main ------------------------------------------------------------------------------

Measured = TypeVar("Measured")


@contextlib.contextmanager
def _only_run(name: str) -> Iterator[None]:
    # Two runs of one benchmark would share its database and Redis db: each would drop the
    # other's data, and one's servers would take the other's queued requests (slot_not_found).
    with open(Path(tempfile.gettempdir()) / f"etour-bench-{name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BenchError("another run of this benchmark is in progress") from None
        yield


def run_in_temp_dir(
    name: str, run: Callable[[Path], Measured], *, prefix: str = "etour-bench-", stopped: str = ""
) -> Measured:
    """`run(data_dir)` in a temporary directory, removed afterwards, and what it returns.

    A BenchError or Ctrl-C ends the script here, said on stderr (exit status 1 or 130);
    `stopped` says what the run had stopped by then, e.g. "the servers were stopped".
    """
    try:
        with _only_run(name), tempfile.TemporaryDirectory(prefix=prefix) as data_dir:
            return run(Path(data_dir))
    except BenchError as problem:
        print(f"{name}: {problem}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print(f"{name}: interrupted" + (f"; {stopped}" if stopped else ""), file=sys.stderr)
        raise SystemExit(130) from None


def record_results(name: str, body: str) -> int:
    """Record `body` as benchmark `name`'s section of RESULTS.md; the exit status (0)."""
    update_results_file(name, body)
    print("recorded in bench/RESULTS.md")
    return 0


def results_unchanged(name: str, problem: str) -> int:
    """Say why the run is not recorded (RESULTS.md stays as it was); the exit status (1)."""
    print(f"{name}: {problem}; RESULTS.md left unchanged", file=sys.stderr)
    return 1
