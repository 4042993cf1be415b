"""Real `etour serve` processes for the proof, fault and storm tests, and the database counts.

Built on the machinery of tests/concurrency/test_oversell.py (free ports, health wait, stop,
the booking clients and the slot audit), so there is one way to start servers and one audit.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from concurrency.test_oversell import (
    ETOUR,
    REQUEST_TIMEOUT_SECONDS,
    Answer,
    Booking,
    ServerProcesses,
    free_ports,
    serve_environment,
    stop,
    wait_until_healthy,
)
from tortoise import connections

from server.config import Settings
from server.signing import TokenSigner


@dataclass(frozen=True)
class RunningProcesses(ServerProcesses):
    """ServerProcesses that also keeps its Popen handles, so a test may kill one of them."""

    processes: list[subprocess.Popen] = field(default_factory=list)


def storm_environment(settings: Settings, **overrides: str) -> dict[str, str]:
    """serve_environment, with the embedding model left cold (it would take the 2 cores)."""
    env = serve_environment(settings)
    # "test" skips warming the model in the background, as the in-process test server does.
    env["ETOUR_ENV"] = "test"
    env.update(overrides)
    return env


def start_process(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """One `etour serve` on `port`, writing to `log`, in its own process group."""
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [*ETOUR, "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextmanager
def serve_processes(env: dict[str, str], count: int, log_dir: Path) -> Iterator[RunningProcesses]:
    """`count` `etour serve` processes with `env`, each on its own port, stopped at the end."""
    ports = free_ports(count)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    logs = [log_dir / f"serve-{port}.log" for port in ports]
    running = RunningProcesses(urls, logs, [])
    try:
        for port, log in zip(ports, logs, strict=True):
            running.processes.append(start_process(env, port, log))
        for process, url, log in zip(running.processes, urls, logs, strict=True):
            wait_until_healthy(process, url, log)
        yield running
    finally:
        for process in running.processes:
            stop(process)


def signing_app_for(settings: Settings) -> Any:
    """Enough of an app to sign session tokens the server processes accept (shared secret)."""
    return SimpleNamespace(
        ctx=SimpleNamespace(signer=TokenSigner(settings.secret()), settings=settings)
    )


async def database_counts(slot_id: int) -> dict[str, int]:
    """The database's own counts for a slot, in plain SQL: its counter and its rows."""
    connection = connections.get("default")
    counts = {}
    for name, sql in _COUNT_QUERIES.items():
        if connection.capabilities.dialect == "postgres":
            sql = sql.replace("?", "$1")
        rows = await connection.execute_query_dict(sql, [slot_id])
        counts[name] = int(rows[0]["n"])
    return counts


_COUNT_QUERIES = {
    "booked": "SELECT booked AS n FROM time_slot WHERE id = ?",
    "confirmed_places": "SELECT COALESCE(SUM(party_size), 0) AS n FROM reservation "
    "WHERE slot_id = ? AND status = 'confirmed'",
    "confirmed_reservations": "SELECT COUNT(*) AS n FROM reservation "
    "WHERE slot_id = ? AND status = 'confirmed'",
    "tickets": "SELECT COUNT(*) AS n FROM ticket WHERE slot_id = ?",
    "claims": "SELECT COUNT(*) AS n FROM person_day_claim c JOIN reservation r "
    "ON r.id = c.reservation_id WHERE r.slot_id = ?",
}


async def book_bounded(
    base_urls: list[str],
    slot_id: int,
    bookings: list[Booking],
    *,
    in_flight_per_server: int,
    budget_seconds: float,
    idempotency_keys: bool = False,
) -> list[Answer]:
    """Send every booking, spread in turn over `base_urls`, at most N in flight per server.

    The bounded form of test_oversell.book_concurrently: 2,000 connections opened at one
    instant overflow a listening socket's backlog (the kernel resets some), which would measure
    the loopback, not the service; nginx in front of the processes bounds them the same way.
    With `idempotency_keys` each request carries its own Idempotency-Key, as the mini-program
    sends, which puts Redis on the booking path.
    """
    limits = httpx.Limits(
        max_connections=in_flight_per_server, max_keepalive_connections=in_flight_per_server
    )
    # Waiting for a free connection is queueing in this client, not the server being slow.
    timeout = httpx.Timeout(REQUEST_TIMEOUT_SECONDS, pool=None)
    clients = [httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) for url in base_urls]
    gates = [asyncio.Semaphore(in_flight_per_server) for _ in base_urls]

    async def attempt(n: int, booking: Booking) -> Answer:
        client, gate = clients[n % len(clients)], gates[n % len(clients)]
        async with gate:
            size, sent_at = len(booking.visitors), time.monotonic()
            try:
                answer = await client.post(
                    "/api/v1/reservations",
                    json={"slot_id": slot_id, "visitors": booking.visitors},
                    headers={
                        "Authorization": f"Bearer {booking.token}",
                        "Accept-Language": "en",
                        **({"Idempotency-Key": f"booking-{n}"} if idempotency_keys else {}),
                    },
                )
            except httpx.HTTPError as problem:
                return Answer(size, None, {}, type(problem).__name__, sent_at, time.monotonic())
        try:
            body = answer.json()
        except ValueError:
            body = {"text": answer.text[:500]}
        return Answer(size, answer.status_code, body, "", sent_at, time.monotonic())

    try:
        async with asyncio.timeout(budget_seconds):
            return await asyncio.gather(*(attempt(n, b) for n, b in enumerate(bookings)))
    finally:
        for client in clients:
            await client.aclose()
