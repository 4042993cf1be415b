"""Benchmark the chatbot: POST /api/v1/chat for single-turn questions, next to the bare embedder.

Usage: .venv/bin/python bench/chat.py [--requests N] [--concurrency C] [--seconds S]

In a temporary data directory (SQLite file, in-process Redis, the demo data) it starts one
`etour serve`, waits for its embedding model to settle and warms the chat path, then measures,
in the same run on the same texts:
- the baseline: the bare embedder's `encode` of one text at a time, in this process (every chat
  message is encoded once to classify it, so this is the floor of the chat's own work);
- POST /api/v1/chat, anonymous single-turn questions (hours, prices, crowds, food, routes,
  greetings, unclear ones), each on a fresh session, one at a time and then C at once.
Figures go to bench/RESULTS.md between the chat markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from common import (
    BenchError,
    KeepAliveClient,
    LoadRun,
    Servers,
    commit,
    drive,
    error_code,
    invoked_command,
    machine_line,
    record_results,
    run_etour,
    run_in_temp_dir,
    server_environment,
)

BENCH_NAME = "chat"
WARMUP = 30
TARGET_P99_MS = 100.0
QUESTIONS = (
    "江心屿几点开门", "温州博物馆今天开放吗", "雁荡山门票多少钱", "楠溪江要门票吗",
    "江心屿现在人多吗", "明天温州博物馆还有名额吗", "江心屿附近有什么好吃的", "哪里吃鱼丸",
    "怎么去雁荡山", "五马街怎么走", "你好", "谢谢", "给我讲个笑话", "塘河夜游几点开始",
    "百丈漈票价", "洞头人多不多", "南塘街附近的餐厅", "温州大剧院在哪里", "有什么夜游路线",
    "when does Wenzhou Museum open", "how much is Yandang Mountain", "is Jiangxin Islet busy",
    "where can I eat near Wuma Street", "how do I get to Nanxi River", "hello", "thanks",
    "what's the weather like", "opening hours of the library", "is the museum free",
    "tickets left for tomorrow at Jiangxin Islet",
)  # fmt: skip


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="chat requests per phase")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--seconds", type=float, default=120.0, help="time budget per phase")
    return parser.parse_args(argv)


def measure_encoder(rounds: int) -> LoadRun:
    """The bare embedder encoding the same texts one at a time, in this process."""
    from recommend.embedder import DEFAULT_MODEL, embedder_for

    embedder = embedder_for(DEFAULT_MODEL)
    embedder.load()
    for text in QUESTIONS:
        embedder.encode([text])
    run = LoadRun("embedder encode, 1 text")
    started = time.monotonic()
    for n in range(rounds):
        began = time.perf_counter()
        embedder.encode([QUESTIONS[n % len(QUESTIONS)]])
        run.latencies_ms.append((time.perf_counter() - began) * 1000)
    run.seconds = time.monotonic() - started
    return run


async def measure_chat(servers: Servers, args: argparse.Namespace, workers: int) -> LoadRun:
    host, port = servers.addresses[0]
    clients = [KeepAliveClient(host, port) for _ in range(workers)]
    label = f"POST /api/v1/chat, {workers} in flight"
    run = LoadRun(label)

    async def one(worker: int, n: int) -> str | None:
        body = {"session_id": f"bench-{workers}-{n:08d}", "text": QUESTIONS[n % len(QUESTIONS)]}
        try:
            status, answer = await clients[worker].request("POST", "/api/v1/chat", body)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
            return "transport"
        if status != 200:
            return error_code(status, answer)
        return None if json.loads(answer).get("intent") else "no intent"

    try:
        await drive(run, workers, 0, args.requests, args.seconds, one)
    finally:
        for client in clients:
            await client.close()
    return run


async def warm_up(servers: Servers) -> None:
    host, port = servers.addresses[0]
    client = KeepAliveClient(host, port)
    try:
        for n in range(WARMUP):
            body = {"session_id": f"warm-up-{n:04d}", "text": QUESTIONS[n % len(QUESTIONS)]}
            status, answer = await client.request("POST", "/api/v1/chat", body, limit_seconds=120)
            if status != 200:
                raise BenchError(f"warm-up chat answered {error_code(status, answer)}")
    finally:
        await client.close()


def row(run: LoadRun, baseline: LoadRun) -> str:
    p50, p99 = run.latency_percentile_ms(50), run.latency_percentile_ms(99)
    ratio = p99 / baseline.latency_percentile_ms(99) if baseline.latencies_ms else 0.0
    errors = run.errors_text() or "none"
    budget = " (time budget hit)" if run.stopped_by_time else ""
    return (
        f"| {run.label}{budget} | {run.succeeded} | {run.per_second:.1f} | {p50:.1f} | "
        f"{p99:.1f} | {ratio:.1f}x | {errors} |"
    )


def results_section(runs: list[LoadRun], baseline: LoadRun, args: argparse.Namespace) -> str:
    chat_p99 = max(run.latency_percentile_ms(99) for run in runs[:1])
    verdict = "met" if chat_p99 < TARGET_P99_MS else "not met"
    return "\n".join(
        [
            "## chat: POST /api/v1/chat, single-turn questions",
            "",
            f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}",
            f"- machine: {machine_line()}, shared with other work",
            f"- command: `{invoked_command()}`",
            f"- {len(QUESTIONS)} questions (zh and en: hours, prices, crowds, food, routes,"
            " greetings, unclear), each on a fresh anonymous session; one `etour serve` on the"
            " embedded defaults with the demo data",
            f"- target p99 < {TARGET_P99_MS:.0f} ms one at a time: {verdict} ({chat_p99:.1f} ms)",
            "",
            "| phase | answers | per s | p50 ms | p99 ms | p99 / encode p99 | errors |",
            "|---|---|---|---|---|---|---|",
            row(baseline, baseline),
            *(row(run, baseline) for run in runs),
        ]
    )


def run_benchmark(
    args: argparse.Namespace, data_dir: Path
) -> tuple[list[LoadRun], LoadRun, list[str]]:
    """The chat one at a time and C at once, the bare encoder, and the server log's problems."""
    env = server_environment(data_dir)
    run_etour(env, data_dir, "init-db")
    run_etour(env, data_dir, "seed-demo")
    with Servers(env, data_dir, settle=True) as servers:
        asyncio.run(warm_up(servers))
        runs = [
            asyncio.run(measure_chat(servers, args, 1)),
            asyncio.run(measure_chat(servers, args, args.concurrency)),
        ]
        problems = servers.log_problems()
    return runs, measure_encoder(args.requests), problems


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    runs, baseline, problems = run_in_temp_dir(
        BENCH_NAME,
        lambda data_dir: run_benchmark(args, data_dir),
        prefix="etour-bench-chat-",
        stopped="the server was stopped",
    )
    if problems:
        print("server log problems:\n" + "\n".join(problems), file=sys.stderr)
    section = results_section(runs, baseline, args)
    print(section)
    return record_results(BENCH_NAME, section)


if __name__ == "__main__":
    sys.exit(main())
