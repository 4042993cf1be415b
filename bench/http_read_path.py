"""Benchmark the HTTP read path (catalogue, one venue, its slots) against /healthz, on loopback.

Usage: .venv/bin/python bench/http_read_path.py [--requests N] [--concurrency C] [--seconds S]

A real `etour serve` process (one worker, SQLite file + in-process Redis, demo data) answers a
bounded asyncio client in this process. Figures are ratios against /healthz measured in the same
run, because the machine is shared: absolute times say little on their own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from common import (
    TRANSPORT_ERRORS,
    BenchError,
    KeepAliveClient,
    LoadRun,
    Servers,
    drive,
    invoked_command,
    machine_line,
    record_results,
    results_unchanged,
    run_etour,
    run_in_temp_dir,
    server_environment,
)
from common import (
    commit as current_commit,
)

BENCH_NAME = "http_read_path"
MUSEUM_CODE = "wenzhou-museum"
WENZHOU_TZ = ZoneInfo("Asia/Shanghai")  # the service judges days in local Wenzhou time
TUESDAY = 1
WARMUP_REQUESTS = 50


@dataclass(frozen=True)
class Endpoint:
    """One GET request to load: a label for the table, a path and its query."""

    label: str
    path: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """The path with its query string, as sent."""
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path


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


def next_tuesday(today: date) -> date:
    """The first Tuesday strictly after `today`."""
    return today + timedelta(days=(TUESDAY - today.weekday() - 1) % 7 + 1)


async def get_json(client: KeepAliveClient, endpoint: Endpoint) -> Any:
    """The decoded answer of one GET; BenchError unless it is 2xx."""
    try:
        status, answer = await client.request("GET", endpoint.target)
    except TRANSPORT_ERRORS as problem:
        raise BenchError(f"GET {endpoint.target} failed: {problem!r}") from None
    if not 200 <= status < 300:
        raise BenchError(f"GET {endpoint.target} answered {status}: {answer[:200]!r}")
    return json.loads(answer)


async def read_path_endpoints(client: KeepAliveClient, day: date) -> tuple[list[Endpoint], int]:
    """The baseline first, then the read path (labels show the exact request); slots listed."""
    catalogue = Endpoint("GET /api/v1/venues?lang=en", "/api/v1/venues", {"lang": "en"})
    museum_id = next(
        (v["id"] for v in await get_json(client, catalogue) if v["code"] == MUSEUM_CODE), None
    )
    if museum_id is None:
        raise BenchError(f"no venue with code {MUSEUM_CODE!r} in the catalogue")
    venue = f"/api/v1/venues/{museum_id}"
    slots = Endpoint(f"GET {venue}/slots?date={day}", f"{venue}/slots", {"date": str(day)})
    endpoints = [
        Endpoint("GET /healthz (baseline)", "/healthz"),
        catalogue,
        Endpoint(f"GET {venue}?lang=en", venue, {"lang": "en"}),
        slots,
    ]
    return endpoints, len(await get_json(client, slots))


async def measure(servers: Servers, args: argparse.Namespace) -> tuple[list[LoadRun], int]:
    """Warm up and load each endpoint in turn, one keep-alive connection per request in flight."""
    clients = [KeepAliveClient(*servers.addresses[0]) for _ in range(args.concurrency)]
    try:
        day = next_tuesday(datetime.now(WENZHOU_TZ).date())
        endpoints, slots_listed = await read_path_endpoints(clients[0], day)
        if slots_listed == 0:
            raise BenchError(f"the museum lists no slots on {day}: nothing to measure")
        print(f"serving on {servers.urls[0]}; loading {len(endpoints)} endpoints...", flush=True)
        runs = []
        for endpoint in endpoints:

            async def one(worker: int, n: int, endpoint: Endpoint = endpoint) -> str | None:
                try:
                    status, _ = await clients[worker].request("GET", endpoint.target)
                except TRANSPORT_ERRORS as problem:
                    return type(problem).__name__
                return None if 200 <= status < 300 else str(status)

            await drive(LoadRun("warm-up"), args.concurrency, 0, WARMUP_REQUESTS, args.seconds, one)
            run = LoadRun(endpoint.label)
            runs.append(await drive(run, args.concurrency, 0, args.requests, args.seconds, one))
            print(f"  measured {endpoint.label}", flush=True)
    finally:
        for client in clients:
            await client.close()
    return runs, slots_listed


def results_table(runs: list[LoadRun]) -> str:
    """A Markdown table of the runs, with each requests/s as a ratio to the first (baseline)."""
    baseline = runs[0].per_second
    rows = [
        "| endpoint | requests | errors | req/s | p50 ms | p99 ms | req/s vs baseline |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        ratio = run.per_second / baseline if baseline else 0.0
        cut_short = " (time budget hit)" if run.stopped_by_time else ""
        rows.append(
            f"| `{run.label}`{cut_short} | {run.done} | {run.error_count} "
            f"| {run.per_second:.0f} | {run.latency_percentile_ms(50):.1f} "
            f"| {run.latency_percentile_ms(99):.1f} | {ratio:.2f} |"
        )
    return "\n".join(rows)


def results_section(
    runs: list[LoadRun], args: argparse.Namespace, slots_listed: int, started_at: datetime
) -> str:
    """This benchmark's section of RESULTS.md (without the markers)."""
    return f"""## {BENCH_NAME}: the HTTP read path against /healthz

- date (UTC): {started_at:%Y-%m-%d %H:%M}
- commit: {current_commit()}
- machine: {machine_line()}
- command: `{invoked_command()}`
- load: at most {args.requests} requests per endpoint, {args.concurrency} in flight (one \
keep-alive connection each), {args.seconds:g} s budget, after {WARMUP_REQUESTS} warm-up \
requests; a minimal HTTP/1.1 client in the bench process (bench/common.py), one `etour serve` \
worker on loopback, SQLite file + in-process Redis, demo data (the museum's slots day lists \
{slots_listed} slots)

{results_table(runs)}
"""


def run_benchmark(args: argparse.Namespace, data_dir: Path) -> tuple[list[LoadRun], int]:
    """Prepare, serve, measure each endpoint; return the runs and the slots listed."""
    env = server_environment(data_dir)
    print("preparing the database (init-db, seed-demo)...", flush=True)
    run_etour(env, data_dir, "init-db")
    run_etour(env, data_dir, "seed-demo")
    with Servers(env, data_dir) as servers:
        return asyncio.run(measure(servers, args))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, record it in RESULTS.md when error-free."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    runs, slots_listed = run_in_temp_dir(
        BENCH_NAME,
        lambda data_dir: run_benchmark(args, data_dir),
        stopped="the server was stopped",
    )
    print(results_table(runs))
    errors = sum(run.error_count for run in runs)
    if errors:
        return results_unchanged(BENCH_NAME, f"{errors} errors")
    return record_results(BENCH_NAME, results_section(runs, args, slots_listed, started_at))


if __name__ == "__main__":
    sys.exit(main())
