"""Benchmark the HTTP read path (catalogue, one venue, its slots) against /healthz, on loopback.

Usage: .venv/bin/python bench/http_read_path.py [--requests N] [--concurrency C] [--seconds S]

A real `etour serve` process (one worker, SQLite file + in-process Redis, demo data) answers a
bounded asyncio client in this process. Figures are ratios against /healthz measured in the same
run, because the machine is shared: absolute times say little on their own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import httpx

BENCH_NAME = "http_read_path"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
ETOUR = PROJECT_ROOT / ".venv" / "bin" / "etour"
RESULTS_FILE = PROJECT_ROOT / "bench" / "RESULTS.md"
# 48 characters, fixed so runs are repeatable; it signs nothing outside the temporary database.
SECRET_KEY = "bench-only-secret-key-fixed-for-repeatable-runs!"  # noqa: S105
MUSEUM_CODE = "wenzhou-museum"
WENZHOU_TZ = ZoneInfo("Asia/Shanghai")  # the service judges days in local Wenzhou time
TUESDAY = 1
WARMUP_REQUESTS = 50
HEALTH_WAIT_SECONDS = 60.0
SETUP_TIMEOUT_SECONDS = 300.0
REQUEST_TIMEOUT_SECONDS = 10.0
SERVER_STOP_SECONDS = 20.0
RESULTS_HEADER = """# Benchmark results

Figures are measured on a shared 2-core machine, so absolute times vary from run to run: read
each endpoint's **ratio** to the baseline measured in the same run, under the same load, not its
raw requests/s. Each benchmark keeps its own section below (see bench/README.md); rerunning one
replaces only its section.
"""


class BenchError(Exception):
    """The benchmark could not run to the end; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    """One GET request to load: a label for the table, a path and its query."""

    label: str
    path: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadRun:
    """What one endpoint's load run produced: latencies of answered requests, errors, duration."""

    endpoint: Endpoint
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    stopped_by_time: bool = False

    @property
    def done(self) -> int:
        """Requests that finished, successfully or not."""
        return len(self.latencies_ms) + self.errors

    @property
    def requests_per_second(self) -> float:
        """Finished requests per second of wall time."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def latency_percentile_ms(self, percent: int) -> float:
        """The `percent`th percentile latency in ms (0 when nothing was measured)."""
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        cut_points = statistics.quantiles(self.latencies_ms, n=100, method="inclusive")
        return cut_points[percent - 1]


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line: request count, concurrency and time budget per endpoint."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="max requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--seconds", type=float, default=30.0, help="time budget per endpoint")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or args.seconds <= 0:
        parser.error("--requests and --concurrency must be >= 1, --seconds > 0")
    return args


def server_environment(data_dir: Path) -> dict[str, str]:
    """This environment minus DATABASE_URL, REDIS_URL and ETOUR_*, plus the bench's own data."""
    dropped = {"DATABASE_URL", "REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("ETOUR_")}
    env.update(ETOUR_DATA_DIR=str(data_dir), ETOUR_SECRET_KEY=SECRET_KEY, ETOUR_LOG_LEVEL="WARNING")
    return env


def run_etour(env: dict[str, str], data_dir: Path, *args: str) -> None:
    """Run one `etour` command to completion; raise BenchError with its output if it fails."""
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
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    env: dict[str, str], data_dir: Path, port: int, log_file: IO[bytes]
) -> subprocess.Popen:
    """Start `etour serve` in its own session (Ctrl-C here reaches only the bench)."""
    return subprocess.Popen(
        [str(ETOUR), "serve", "--port", str(port)],
        env=env,
        cwd=data_dir,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_healthy(server: subprocess.Popen, base_url: str) -> None:
    """Poll GET /healthz until it answers 200; BenchError after the bounded wait or on exit."""
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


def stop_server(server: subprocess.Popen) -> None:
    """Terminate the server and wait for it; kill it if it does not stop in time."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=SERVER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=SERVER_STOP_SECONDS)


def next_tuesday(today: date) -> date:
    """The first Tuesday strictly after `today`."""
    return today + timedelta(days=(TUESDAY - today.weekday() - 1) % 7 + 1)


def get_json(base_url: str, path: str, params: dict[str, str]) -> Any:
    """The decoded answer of one GET; BenchError unless it is 2xx."""
    try:
        answer = httpx.get(f"{base_url}{path}", params=params, timeout=REQUEST_TIMEOUT_SECONDS)
    except httpx.TransportError as problem:
        raise BenchError(f"GET {path} failed: {problem!r}") from None
    if not answer.is_success:
        raise BenchError(f"GET {path} answered {answer.status_code}: {answer.text[:200]}")
    return answer.json()


def find_museum_id(base_url: str) -> int:
    """The id of the venue whose code is the museum's, read from the catalogue."""
    for venue in get_json(base_url, "/api/v1/venues", {"lang": "en"}):
        if venue["code"] == MUSEUM_CODE:
            return venue["id"]
    raise BenchError(f"no venue with code {MUSEUM_CODE!r} in the catalogue")


def count_slots(base_url: str, slots: Endpoint) -> int:
    """How many slots the slots endpoint lists (so we know it measures a non-empty day)."""
    return len(get_json(base_url, slots.path, slots.params))


def read_path_endpoints(museum_id: int, day: date) -> list[Endpoint]:
    """The baseline first, then the read path; labels show the exact request."""
    venue = f"/api/v1/venues/{museum_id}"
    return [
        Endpoint("GET /healthz (baseline)", "/healthz"),
        Endpoint("GET /api/v1/venues?lang=en", "/api/v1/venues", {"lang": "en"}),
        Endpoint(f"GET {venue}?lang=en", venue, {"lang": "en"}),
        Endpoint(f"GET {venue}/slots?date={day}", f"{venue}/slots", {"date": str(day)}),
    ]


async def send_requests(
    client: httpx.AsyncClient, run: LoadRun, tickets: Iterator[int], deadline: float
) -> None:
    """One worker: take tickets until none are left or the deadline passes, recording each."""
    for _ in tickets:
        if time.monotonic() >= deadline:
            run.stopped_by_time = True
            return
        started = time.perf_counter()
        try:
            answer = await client.get(run.endpoint.path, params=run.endpoint.params)
        except httpx.TransportError:
            run.errors += 1
            continue
        if answer.is_success:
            run.latencies_ms.append((time.perf_counter() - started) * 1000)
        else:
            run.errors += 1


async def load(
    client: httpx.AsyncClient, endpoint: Endpoint, requests: int, concurrency: int, seconds: float
) -> LoadRun:
    """Send at most `requests` requests, `concurrency` at a time, for at most `seconds`."""
    run = LoadRun(endpoint)
    tickets = iter(range(requests))  # shared by the workers: each request takes one
    started = time.monotonic()
    deadline = started + seconds
    workers = [send_requests(client, run, tickets, deadline) for _ in range(concurrency)]
    try:
        async with asyncio.timeout(seconds):  # the hard stop, even if a request hangs
            await asyncio.gather(*workers)
    except TimeoutError:
        run.stopped_by_time = True
    run.seconds = time.monotonic() - started
    return run


async def measure(
    base_url: str, endpoints: list[Endpoint], args: argparse.Namespace
) -> list[LoadRun]:
    """Warm up and load each endpoint in turn over one pooled client."""
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    runs = []
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS
    ) as client:
        for endpoint in endpoints:
            await load(client, endpoint, WARMUP_REQUESTS, args.concurrency, args.seconds)
            runs.append(await load(client, endpoint, args.requests, args.concurrency, args.seconds))
            print(f"  measured {endpoint.label}", flush=True)
    return runs


def results_table(runs: list[LoadRun]) -> str:
    """A Markdown table of the runs, with each requests/s as a ratio to the first (baseline)."""
    baseline = runs[0].requests_per_second
    rows = [
        "| endpoint | requests | errors | req/s | p50 ms | p99 ms | req/s vs baseline |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        ratio = run.requests_per_second / baseline if baseline else 0.0
        cut_short = " (time budget hit)" if run.stopped_by_time else ""
        rows.append(
            f"| `{run.endpoint.label}`{cut_short} | {run.done} | {run.errors} "
            f"| {run.requests_per_second:.0f} | {run.latency_percentile_ms(50):.1f} "
            f"| {run.latency_percentile_ms(99):.1f} | {ratio:.2f} |"
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
    """The command line as typed from the project root."""
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(PROJECT_ROOT) if script.is_relative_to(PROJECT_ROOT) else script
    return shlex.join([".venv/bin/python", str(shown), *sys.argv[1:]])


def results_section(
    runs: list[LoadRun], args: argparse.Namespace, slots_listed: int, started_at: datetime
) -> str:
    """This benchmark's section of RESULTS.md, between its markers."""
    return f"""<!-- bench:{BENCH_NAME} -->
## {BENCH_NAME}: the HTTP read path against /healthz

- date (UTC): {started_at:%Y-%m-%d %H:%M}
- commit: {command_output("git", "rev-parse", "--short", "HEAD")}
- machine: {platform.platform()}, nproc {command_output("nproc")}, \
Python {platform.python_version()}
- command: `{invoked_command()}`
- load: at most {args.requests} requests per endpoint, {args.concurrency} in flight, \
{args.seconds:g} s budget, after {WARMUP_REQUESTS} warm-up requests; httpx client in the bench \
process, one `etour serve` worker on loopback, SQLite file + in-process Redis, demo data \
(the museum's slots day lists {slots_listed} slots)

{results_table(runs)}
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


def print_server_log(log_path: Path, lines: int = 30) -> None:
    """The end of the server's output, to explain a failure."""
    if log_path.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-lines:]
        print("--- server output (last lines) ---", *tail, sep="\n", file=sys.stderr)


def run_benchmark(args: argparse.Namespace, data_dir: Path) -> tuple[list[LoadRun], int]:
    """Prepare, serve, measure each endpoint; return the runs and the slots listed."""
    env = server_environment(data_dir)
    print("preparing the database (init-db, seed-demo)...", flush=True)
    run_etour(env, data_dir, "init-db")
    run_etour(env, data_dir, "seed-demo")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log_file:
        server = start_server(env, data_dir, port, log_file)
        try:
            wait_until_healthy(server, base_url)
            day = next_tuesday(datetime.now(WENZHOU_TZ).date())
            endpoints = read_path_endpoints(find_museum_id(base_url), day)
            slots_listed = count_slots(base_url, endpoints[-1])
            if slots_listed == 0:
                raise BenchError(f"the museum lists no slots on {day}: nothing to measure")
            print(f"serving on {base_url}; loading {len(endpoints)} endpoints...", flush=True)
            return asyncio.run(measure(base_url, endpoints, args)), slots_listed
        except BenchError:
            print_server_log(log_path)
            raise
        finally:
            stop_server(server)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, record it in RESULTS.md when error-free."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    try:
        with tempfile.TemporaryDirectory(prefix="etour-bench-") as data_dir:
            runs, slots_listed = run_benchmark(args, Path(data_dir))
    except BenchError as problem:
        print(f"{BENCH_NAME}: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{BENCH_NAME}: interrupted; the server was stopped", file=sys.stderr)
        return 130
    print(results_table(runs))
    errors = sum(run.errors for run in runs)
    if errors:
        print(f"{BENCH_NAME}: {errors} errors; RESULTS.md left unchanged", file=sys.stderr)
        return 1
    update_results_file(results_section(runs, args, slots_listed, started_at))
    print(f"recorded in {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
