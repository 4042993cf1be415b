"""Benchmark the food map's nearby search at 50,000 restaurants against a full-scan baseline.

Usage: .venv/bin/python bench/food_nearby.py [--restaurants N] [--queries Q] [--no-postgres]

In a temporary SQLite file (and in a PostgreSQL database it creates and drops, when the server
at --postgres-url answers), the schema is migrated and N synthetic restaurants are inserted
around Wenzhou. Each query then runs in this process through the service function the API uses
(`server.food.service.nearby_restaurants`: a bounding box on the indexed latitude/longitude,
then exact haversine), next to a baseline measured in the same run on the same points: fetch
every row's position, haversine over all of them, sort, load the page. The bench checks that
both give the same restaurants, and also times the day planner on 15 places.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from common import (
    BenchError,
    drop_pg_database,
    invoked_command,
    machine_line,
    percentile,
    record_results,
    recreate_pg_database,
    run_in_temp_dir,
)
from common import (
    commit as current_commit,
)
from tortoise import connections

from server import db
from server.clock import LOCAL_TZ
from server.config import load_settings
from server.food import service as food
from server.food.models import Restaurant
from server.tours.geo import bounding_box, haversine_m
from server.tours.planner import Place, Session, plan_route

BENCH_NAME = "food_nearby"
WUMA = (28.0172, 120.6553)  # Wuma Street, the old city's centre
URBAN_SPREAD_DEGREES = 0.08  # the dense part: about ±9 km round the old city
PREFECTURE = ((27.0, 28.6), (119.6, 121.3))  # the rest: anywhere in Wenzhou's prefecture
URBAN_SHARE = 0.6
FISH_BALL_SHARE = 0.1  # restaurants whose search terms hold 鱼丸
WARMUP_QUERIES = 10
PAGE = 50
BENCH_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=LOCAL_TZ)
PLANNER_PLACES = 15
PLANNER_RUNS = 200


@dataclass
class Timing:
    """Latencies of one kind of query on one backend."""

    backend: str
    label: str
    latencies_ms: list[float] = field(default_factory=list)
    found: list[int] = field(default_factory=list)

    def percentile(self, percent: int) -> float:
        """The `percent`th percentile latency in ms."""
        return percentile(self.latencies_ms, percent)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restaurants", type=int, default=50_000, help="synthetic restaurants")
    parser.add_argument("--queries", type=int, default=200, help="measured queries per kind")
    parser.add_argument("--radius-m", type=float, default=1500, help="radius of the main query")
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (and a database to connect to) where a bench database may be "
        "created and dropped",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args(argv)
    if args.restaurants < 100 or args.queries < 5 or not 0 < args.radius_m <= food.MAX_RADIUS_M:
        parser.error("--restaurants >= 100, --queries >= 5, 0 < --radius-m <= 50000")
    return args


def synthetic_restaurants(count: int, rng: random.Random) -> list[Restaurant]:
    """`count` restaurants: most in and around the old city, the rest across the prefecture."""
    rows = []
    for number in range(count):
        if rng.random() < URBAN_SHARE:
            lat = WUMA[0] + rng.uniform(-URBAN_SPREAD_DEGREES, URBAN_SPREAD_DEGREES)
            lng = WUMA[1] + rng.uniform(-URBAN_SPREAD_DEGREES, URBAN_SPREAD_DEGREES)
        else:
            lat, lng = rng.uniform(*PREFECTURE[0]), rng.uniform(*PREFECTURE[1])
        terms = " 鱼丸 温州鱼丸 fish ball " if rng.random() < FISH_BALL_SHARE else " 面 noodle "
        rows.append(
            Restaurant(
                code=f"bench-{number}",
                name={"zh-CN": f"餐厅{number}", "en": f"Restaurant {number}"},
                county="lucheng",
                latitude=lat,
                longitude=lng,
                price_level=rng.randint(1, 4),
                certified=rng.random() < 0.2,
                search_terms=terms,
            )
        )
    return rows


def query_points(count: int, rng: random.Random) -> list[tuple[float, float]]:
    """Where visitors search from: in the urban area, where restaurants are densest."""
    return [
        (
            WUMA[0] + rng.uniform(-URBAN_SPREAD_DEGREES / 2, URBAN_SPREAD_DEGREES / 2),
            WUMA[1] + rng.uniform(-URBAN_SPREAD_DEGREES / 2, URBAN_SPREAD_DEGREES / 2),
        )
        for _ in range(count)
    ]


async def full_scan(lat: float, lng: float, radius_m: float) -> list[int]:
    """The baseline: every row's position, haversine over all, nearest first, the page loaded."""
    everything = await Restaurant.filter(hidden=False).values_list("id", "latitude", "longitude")
    in_radius = sorted(
        (distance, rid)
        for rid, r_lat, r_lng in everything
        if (distance := haversine_m(lat, lng, r_lat, r_lng)) <= radius_m
    )[:PAGE]
    ids = [rid for _, rid in in_radius]
    page = Restaurant.filter(id__in=ids).prefetch_related("hours", "menu__dish")
    loaded = {r.id: r for r in await page}
    return [loaded[rid].id for rid in ids]


async def bbox_search(
    lat: float, lng: float, radius_m: float, text: str | None = None
) -> list[int]:
    """The service's nearby search, as the API calls it."""
    found = await food.nearby_restaurants(
        lat=lat, lng=lng, radius_m=radius_m, now=BENCH_NOW, text=text, limit=PAGE
    )
    return [n.restaurant.id for n in found]


async def timed(
    timing: Timing, points: list[tuple[float, float]], search: Callable[..., Awaitable[list[int]]]
) -> list[list[int]]:
    """Run `search` at each point after a warm-up, recording latencies; return the answers."""
    for lat, lng in points[:WARMUP_QUERIES]:
        await search(lat, lng)
    answers = []
    for lat, lng in points:
        started = time.perf_counter()
        answer = await search(lat, lng)
        timing.latencies_ms.append((time.perf_counter() - started) * 1000)
        timing.found.append(len(answer))
        answers.append(answer)
    return answers


async def query_plan(lat: float, lng: float, radius_m: float) -> str:
    """The database's plan for the bounding-box query (to show the index is used)."""
    box = bounding_box(lat, lng, radius_m)
    (west, east) = box.lng_ranges[0]
    sql = (
        Restaurant.filter(
            hidden=False,
            latitude__gte=box.min_lat,
            latitude__lte=box.max_lat,
            longitude__gte=west,
            longitude__lte=east,
        )
        .values_list("id", "latitude", "longitude")
        .sql(params_inline=True)
    )
    explain = "EXPLAIN QUERY PLAN " if db.is_sqlite() else "EXPLAIN "
    rows = await connections.get("default").execute_query_dict(explain + sql)
    lines = [str(row.get("detail") or row.get("QUERY PLAN") or "") for row in rows]
    return "; ".join(line.strip() for line in lines if line.strip())


async def measure_backend(
    backend: str, database_url: str, data_dir: Path, args: argparse.Namespace
) -> tuple[list[Timing], str]:
    """Migrate, fill, analyse, then time each kind of query; BenchError if answers differ."""
    settings = load_settings(
        env="test", data_dir=data_dir, database_url=database_url, log_level="WARNING"
    )
    await db.migrate_database(settings)
    await db.close_database()
    await db.open_database(settings)
    try:
        rng = random.Random(args.seed)
        print(f"  {backend}: inserting {args.restaurants} restaurants...", flush=True)
        await Restaurant.bulk_create(synthetic_restaurants(args.restaurants, rng), batch_size=2000)
        # Statistics for the query planner, and (PostgreSQL) the visibility map that lets the
        # box be answered from the index: what a table at rest has after autovacuum.
        analyse = "ANALYZE" if db.is_sqlite() else "VACUUM ANALYZE restaurant"
        await connections.get("default").execute_script(analyse)
        points = query_points(args.queries, rng)
        plan = await query_plan(*points[0], args.radius_m)
        kinds: list[tuple[str, Callable[..., Awaitable[list[int]]]]] = [
            (f"full scan, radius {args.radius_m:g} m (baseline)",
             lambda la, ln: full_scan(la, ln, args.radius_m)),
            (f"bbox + haversine, radius {args.radius_m:g} m",
             lambda la, ln: bbox_search(la, ln, args.radius_m)),
            ("bbox + haversine, radius 5000 m", lambda la, ln: bbox_search(la, ln, 5000)),
            ("bbox + haversine + q=鱼丸, radius 5000 m",
             lambda la, ln: bbox_search(la, ln, 5000, "鱼丸")),
        ]  # fmt: skip
        timings, answers = [], []
        for label, search in kinds:
            timing = Timing(backend, label)
            answers.append(await timed(timing, points, search))
            timings.append(timing)
            print(f"  {backend}: measured {label}", flush=True)
        if answers[0] != answers[1]:
            wrong = sum(a != b for a, b in zip(answers[0], answers[1], strict=True))
            raise BenchError(f"{backend}: bbox search and full scan differ on {wrong} queries")
        return timings, plan
    finally:
        await db.close_database()


async def postgres_database(admin_url: str) -> tuple[str, Callable[[], Awaitable[None]]] | None:
    """A fresh database on the server at `admin_url` and a function dropping it; None if down."""
    import asyncpg

    name = f"etour_bench_{uuid.uuid4().hex[:8]}"
    try:
        url = await recreate_pg_database(admin_url, name)
    except (OSError, asyncpg.PostgresError, TimeoutError) as problem:
        print(f"  PostgreSQL at {admin_url} not reachable ({problem!r}): skipped", flush=True)
        return None

    async def drop() -> None:
        await drop_pg_database(admin_url, name)

    return url, drop


def planner_timing(rng: random.Random) -> Timing:
    """The day planner on 15 places spread over the old city, with varied opening hours."""
    timing = Timing("in process", f"day planner, {PLANNER_PLACES} places")
    for _ in range(PLANNER_RUNS):
        places = [
            Place(
                f"venue:{n}",
                WUMA[0] + rng.uniform(-0.03, 0.03),
                WUMA[1] + rng.uniform(-0.03, 0.03),
                rng.choice([30, 45, 60, 90]),
                (Session(rng.choice([0, 480, 540, 600]), rng.choice([1020, 1200, 1320])),),
            )
            for n in range(PLANNER_PLACES)
        ]
        started = time.perf_counter()
        plan = plan_route(
            start=WUMA, start_minute=480, end_minute=1320, places=places, speed_kmh=4.0
        )
        timing.latencies_ms.append((time.perf_counter() - started) * 1000)
        timing.found.append(len(plan.visits))
    return timing


def results_table(timings: list[Timing]) -> str:
    """A Markdown table: each backend's queries, with p50 as a speed-up over its full scan."""
    rows = [
        "| backend | query | queries | found (mean) | p50 ms | p99 ms "
        "| p50 speed-up vs full scan |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    baselines = {t.backend: t.percentile(50) for t in timings if "baseline" in t.label}
    for timing in timings:
        baseline = baselines.get(timing.backend)
        ratio = f"{baseline / timing.percentile(50):.1f}×" if baseline else "n/a"
        rows.append(
            f"| {timing.backend} | {timing.label} | {len(timing.latencies_ms)} "
            f"| {statistics.mean(timing.found):.1f} | {timing.percentile(50):.2f} "
            f"| {timing.percentile(99):.2f} | {ratio} |"
        )
    return "\n".join(rows)


def results_section(
    timings: list[Timing], plans: dict[str, str], args: argparse.Namespace, started_at: datetime
) -> str:
    """This benchmark's section of RESULTS.md (without the markers)."""
    plan_lines = "\n".join(f"- query plan ({backend}): `{plan}`" for backend, plan in plans.items())
    return f"""## {BENCH_NAME}: nearby restaurant search at {args.restaurants:,} restaurants

- date (UTC): {started_at:%Y-%m-%d %H:%M}
- commit: {current_commit()}
- machine: {machine_line()}
- command: `{invoked_command()}`
- data: {args.restaurants:,} synthetic restaurants, {URBAN_SHARE:.0%} within \
±{URBAN_SPREAD_DEGREES}° of Wuma Street and the rest across the prefecture, \
{FISH_BALL_SHARE:.0%} serving fish balls; \
{args.queries} queries per row from random points in the old city, after {WARMUP_QUERIES} \
warm-up queries; one query at a time in the bench process through \
`server.food.service.nearby_restaurants` (up to {PAGE} restaurants, page loaded with hours and \
menus). The full scan reads every row's position, runs haversine over all of them and loads \
the same page; the run stops if its answers differ from the bounding-box search's.
{plan_lines}

{results_table(timings)}
"""


def measure_in_process(
    backend: str, database_url: str, data_dir: Path, args: argparse.Namespace
) -> tuple[list[Timing], str]:
    """measure_backend in a process of its own: the ORM caches SQL per connection name, so one
    process must not switch from SQLite to PostgreSQL."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as worker:
        return worker.submit(_measure_sync, backend, database_url, data_dir, args).result()


def _measure_sync(
    backend: str, database_url: str, data_dir: Path, args: argparse.Namespace
) -> tuple[list[Timing], str]:
    return asyncio.run(measure_backend(backend, database_url, data_dir, args))


def run_benchmark(args: argparse.Namespace, data_dir: Path) -> tuple[list, dict]:
    """Each backend in turn, then the planner."""
    timings: list[Timing] = []
    plans: dict[str, str] = {}
    sqlite_url = f"sqlite://{data_dir / 'bench.sqlite3'}"
    measured, plans["SQLite"] = measure_in_process("SQLite", sqlite_url, data_dir, args)
    timings += measured
    if not args.no_postgres:
        created = asyncio.run(postgres_database(args.postgres_url))
        if created is not None:
            url, drop = created
            try:
                measured, plans["PostgreSQL"] = measure_in_process(
                    "PostgreSQL", url, data_dir, args
                )
                timings += measured
            finally:
                asyncio.run(drop())
    timings.append(planner_timing(random.Random(args.seed)))
    return timings, plans


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, record it in RESULTS.md."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    timings, plans = run_in_temp_dir(
        BENCH_NAME, lambda data_dir: run_benchmark(args, data_dir), prefix="etour-bench-food-"
    )
    print(results_table(timings))
    return record_results(BENCH_NAME, results_section(timings, plans, args, started_at))


if __name__ == "__main__":
    sys.exit(main())
