"""Never oversold: hundreds of visitors race over HTTP for the 20 places of one slot.

In the style of pretix's concurrency tests: real clients all at once against real servers (the
in-process test server, then two `etour serve` processes sharing the database), then an audit
of the database. A canary turns the capacity guard off and shows the same audit catches the
oversell, so a green run means the guard held, not that the race never happened.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from factories import make_id_number, make_reservable_venue, make_slot

from server.accounts.models import Visitor
from server.auth import VISITOR, Principal, issue_session_token
from server.config import Settings
from server.reservations import service as reservations
from server.reservations.models import PersonDayClaim, Reservation, ReservationStatus, TimeSlot
from server.signing import TokenSigner
from server.tickets.models import Ticket

CAPACITY = 20
CLIENTS = 200
BURST_BUDGET_SECONDS = 120  # the whole burst of requests; each request has its own timeout too
REQUEST_TIMEOUT_SECONDS = 60
SERVER_START_SECONDS = 60
SERVER_STOP_SECONDS = 20
ETOUR = [sys.executable, "-m", "server.cli"]
FIRST_BIRTHDAY = date(1960, 1, 1)
_people = itertools.count()  # every person made in this module is a different person


def new_party(size: int) -> list[dict]:
    """`size` people nobody else in these tests is: each has their own birthday."""
    party = []
    for _ in range(size):
        n = next(_people)
        birthday = FIRST_BIRTHDAY + timedelta(days=n)
        party.append({"name": f"游客{n}", "id_number": make_id_number(birthday, n % 1000)})
    return party


@dataclass(frozen=True)
class Booking:
    """One client's attempt: its visitor's token and the people it books."""

    token: str
    visitors: list[dict]


@dataclass(frozen=True)
class Answer:
    """What one client got back: an HTTP status and body, or no answer at all."""

    party_size: int
    status: int | None
    body: dict[str, Any] = field(default_factory=dict)
    problem: str = ""
    sent_at: float = 0.0
    answered_at: float = 0.0

    @property
    def outcome(self) -> str:
        """A short label: 201, 409 slot_full, 503 service_unavailable, no answer: ReadTimeout..."""
        if self.status is None:
            return f"no answer: {self.problem}"
        code = self.body.get("error", {}).get("code") if self.status >= 400 else None
        return f"{self.status} {code}" if code else str(self.status)


async def visitors_with_tokens(signing_app: Any, count: int) -> list[str]:
    """`count` distinct visitors and a session token each, as WeChat sign-in would give them."""
    await Visitor.bulk_create([Visitor(openid=f"racer-{n}") for n in range(count)])
    ids = await Visitor.filter(openid__startswith="racer-").values_list("id", flat=True)
    assert len(ids) == count
    return [issue_session_token(signing_app, Principal(role=VISITOR, user_id=i)) for i in ids]


async def bookings_for(signing_app: Any, party_sizes: list[int]) -> list[Booking]:
    """One booking per party size, each by its own visitor for people nobody else books."""
    tokens = await visitors_with_tokens(signing_app, len(party_sizes))
    return [
        Booking(token, new_party(size)) for token, size in zip(tokens, party_sizes, strict=True)
    ]


async def book_concurrently(
    base_urls: list[str], slot_id: int, bookings: list[Booking], other_slot_ids: list[int] = ()
) -> list[Answer]:
    """Send every booking at once, spread in turn over `base_urls`, within a time budget; each
    would also take `other_slot_ids` (服从调剂)."""
    others = {"other_slot_ids": list(other_slot_ids)} if other_slot_ids else {}
    # One connection per client, so every request is in flight together rather than queued.
    limits = httpx.Limits(max_connections=len(bookings), max_keepalive_connections=len(bookings))
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS)
            )
            for url in base_urls
        ]

        async def attempt(client: httpx.AsyncClient, booking: Booking) -> Answer:
            size, sent_at = len(booking.visitors), time.monotonic()
            try:
                answer = await client.post(
                    "/api/v1/reservations",
                    json={"slot_id": slot_id, "visitors": booking.visitors, **others},
                    headers={"Authorization": f"Bearer {booking.token}", "Accept-Language": "en"},
                )
            except httpx.HTTPError as problem:
                problem_name = type(problem).__name__
                return Answer(size, None, {}, problem_name, sent_at, time.monotonic())
            try:
                body = answer.json()
            except ValueError:
                body = {"text": answer.text[:500]}
            return Answer(size, answer.status_code, body, "", sent_at, time.monotonic())

        async with asyncio.timeout(BURST_BUDGET_SECONDS):
            return await asyncio.gather(
                *(attempt(clients[n % len(clients)], booking) for n, booking in enumerate(bookings))
            )


def most_in_flight(answers: list[Answer]) -> int:
    """The most requests sent and not yet answered at one moment: proof the clients raced."""
    events = sorted(
        [(a.sent_at, 1) for a in answers] + [(a.answered_at, -1) for a in answers],
        key=lambda event: (event[0], event[1]),  # an answer before a send at the same instant
    )
    in_flight = peak = 0
    for _, change in events:
        in_flight += change
        peak = max(peak, in_flight)
    return peak


def tally(answers: list[Answer]) -> Counter[str]:
    """How many answers had each outcome."""
    return Counter(answer.outcome for answer in answers)


async def audit_slot(slot_id: int) -> list[str]:
    """Everything the database shows wrong with the slot; empty when it is sound.

    Each problem starts with its kind: oversold (booked beyond capacity), miscounted (booked is
    not the places of the confirmed reservations), half-written (a reservation without all its
    tickets and per-person claims), orphaned (tickets or claims of no confirmed reservation).
    """
    slot = await TimeSlot.get(id=slot_id)
    booked_by = await Reservation.filter(slot_id=slot_id)
    tickets = Counter(await Ticket.filter(slot_id=slot_id).values_list("reservation_id", flat=True))
    claims = Counter(
        await PersonDayClaim.filter(reservation__slot_id=slot_id).values_list(
            "reservation_id", flat=True
        )
    )
    confirmed = [r for r in booked_by if r.status == ReservationStatus.CONFIRMED]
    problems = []
    if slot.booked > slot.capacity:
        problems.append(f"oversold: booked {slot.booked} > capacity {slot.capacity}")
    places = sum(r.party_size for r in confirmed)
    if slot.booked != places:
        problems.append(f"miscounted: booked {slot.booked} != {places} confirmed places")
    for r in confirmed:
        if tickets[r.id] != r.party_size or claims[r.id] != r.party_size:
            problems.append(
                f"half-written: reservation {r.id} for {r.party_size} people has "
                f"{tickets[r.id]} tickets and {claims[r.id]} claims"
            )
    orphans = (set(tickets) | set(claims)) - {r.id for r in confirmed}
    if orphans:
        problems.append(f"orphaned: tickets or claims of reservations {sorted(orphans)}")
    return problems


async def confirmed_reservation_ids(slot_id: int) -> set[int]:
    return set(
        await Reservation.filter(slot_id=slot_id, status=ReservationStatus.CONFIRMED).values_list(
            "id", flat=True
        )
    )


def answered_reservation_ids(answers: list[Answer]) -> set[int]:
    return {answer.body["id"] for answer in answers if answer.status == 201}


# --- one server, in this process ----------------------------------------------------------------


async def test_200_visitors_racing_for_20_places_get_exactly_20_reservations(server):
    slot = await make_slot(await make_reservable_venue(), capacity=CAPACITY)
    bookings = await bookings_for(server.app, [1] * CLIENTS)

    answers = await book_concurrently([server.url], slot.id, bookings)

    assert most_in_flight(answers) >= CLIENTS // 2
    assert tally(answers) == {"201": CAPACITY, "409 slot_full": CLIENTS - CAPACITY}
    assert await audit_slot(slot.id) == []
    assert (await TimeSlot.get(id=slot.id)).booked == CAPACITY
    assert await Ticket.filter(slot_id=slot.id).count() == CAPACITY
    assert await confirmed_reservation_ids(slot.id) == answered_reservation_ids(answers)
    assert all(len(a.body["tickets"]) == 1 for a in answers if a.status == 201)


async def test_mixed_parties_never_overfill_and_are_refused_only_when_they_do_not_fit(server):
    slot = await make_slot(await make_reservable_venue(), capacity=CAPACITY)
    draw = random.Random(11643)  # fixed: the same mix of parties on every run
    sizes = [draw.randint(1, 5) for _ in range(CLIENTS)]
    bookings = await bookings_for(server.app, sizes)

    answers = await book_concurrently([server.url], slot.id, bookings)

    assert set(tally(answers)) == {"201", "409 slot_full"}, tally(answers)
    assert await audit_slot(slot.id) == []
    booked = (await TimeSlot.get(id=slot.id)).booked
    assert booked <= CAPACITY
    assert booked == sum(a.party_size for a in answers if a.status == 201)
    assert await confirmed_reservation_ids(slot.id) == answered_reservation_ids(answers)
    # A party is refused only when it did not fit at that moment; places only fill up, so what is
    # left at the end is less than any refused party: no place went unsold to a party that fit.
    refused = [a for a in answers if a.status == 409]
    assert all(a.body["error"]["remaining"] < a.party_size for a in refused)
    assert CAPACITY - booked < min(a.party_size for a in refused)


async def test_racing_visitors_moving_on_between_two_slots_fill_both_and_no_more(server):
    venue = await make_reservable_venue()
    half = CAPACITY // 2
    first = await make_slot(venue, starts=clock(9), ends=clock(10), capacity=half)
    second = await make_slot(venue, starts=clock(10), ends=clock(11), capacity=half)
    bookings = await bookings_for(server.app, [1] * CLIENTS)

    # Everyone asks for the first slot and would take the second: half of those booked move on.
    answers = await book_concurrently([server.url], first.id, bookings, [second.id])

    assert most_in_flight(answers) >= CLIENTS // 2
    assert tally(answers) == {"201": CAPACITY, "409 slot_full": CLIENTS - CAPACITY}
    booked_in = Counter(a.body["slot"]["id"] for a in answers if a.status == 201)
    assert booked_in == {first.id: half, second.id: half}
    for slot in (first, second):
        assert await audit_slot(slot.id) == []
        assert (await TimeSlot.get(id=slot.id)).booked == half
    reserved = await confirmed_reservation_ids(first.id) | await confirmed_reservation_ids(
        second.id
    )
    assert reserved == answered_reservation_ids(answers)


@pytest.mark.parametrize("moving_on", [False, True], ids=["one slot", "moving on"])
async def test_canary_without_the_capacity_guard_the_same_race_oversells(
    server, monkeypatch, moving_on
):
    # pretix keeps such a canary too: if this one stopped failing the audit, a green run of the
    # tests above would prove nothing about the guard. Without the guard nothing else checks
    # capacity, so every client gets in (on SQLite's one serialising connection as well). Moving
    # on, some are sent to the other slot by the mirror's count, told after each commit, once
    # it shows the first full: by then the first is oversold.
    unguarded = partial(reservations.reserve, guard_capacity=False)
    monkeypatch.setattr(reservations, "reserve", unguarded)
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=CAPACITY)
    other = await make_slot(venue, starts=clock(13), ends=clock(14), capacity=CAPACITY)
    bookings = await bookings_for(server.app, [1] * CLIENTS)

    answers = await book_concurrently(
        [server.url], slot.id, bookings, [other.id] if moving_on else []
    )

    booked_here = sum(a.status == 201 and a.body["slot"]["id"] == slot.id for a in answers)
    assert booked_here > CAPACITY
    problems = await audit_slot(slot.id)
    assert [problem.split(":")[0] for problem in problems] == ["oversold"], problems
    assert (await TimeSlot.get(id=slot.id)).booked == booked_here


# --- two `etour serve` processes sharing the database ------------------------------------------


@dataclass(frozen=True)
class ServerProcesses:
    """`etour serve` processes started for a test: their base URLs and output files."""

    urls: list[str]
    logs: list[Path]

    def output(self) -> str:
        """Everything the processes have written so far, each under its URL."""
        return "\n".join(
            f"--- {url} ---\n{log.read_text(errors='replace')}"
            for url, log in zip(self.urls, self.logs, strict=True)
        )


def free_ports(count: int) -> list[int]:
    """`count` different loopback ports free right now (all probed at once, so no repeats)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def serve_environment(settings: Settings) -> dict[str, str]:
    """The environment of an `etour serve` on this test's database, Redis and secret."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ETOUR_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        ETOUR_DATA_DIR=str(settings.data_dir),
        ETOUR_SECRET_KEY=settings.secret_key,
        ETOUR_LOG_LEVEL="WARNING",
        DATABASE_URL=settings.effective_database_url,
    )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    # Without REDIS_URL each process has its own embedded Redis: fine here, the database is
    # the only thing that decides who gets a place.
    return env


def wait_until_healthy(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    last_answer = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"etour serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            # Never give up on an answer early: a request cancelled while tortoise opens its
            # first SQLite connection leaves the client's lock held, and the process then hangs
            # on every query (tortoise's ConnectionWrapper.__aenter__ does not release it).
            health = httpx.get(f"{url}/healthz", timeout=max(deadline - time.monotonic(), 1))
        except httpx.TransportError as problem:
            last_answer = repr(problem)
            time.sleep(0.2)
            continue
        if health.status_code == 200:
            return
        last_answer = f"{health.status_code} {health.text[:300]}"
        time.sleep(0.2)
    pytest.fail(
        f"{url}/healthz not healthy within {SERVER_START_SECONDS} s ({last_answer}):\n"
        f"{log.read_text()}"
    )


def stop(process: subprocess.Popen) -> None:
    """Terminate an `etour serve`; if it hangs, kill its whole session (manager and workers)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=SERVER_STOP_SECONDS)


@pytest.fixture
def two_server_processes(settings: Settings, tmp_path: Path) -> Iterator[ServerProcesses]:
    """Two `etour serve` processes, one port each, on this test's fresh database."""
    env = serve_environment(settings)
    ports = free_ports(2)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    logs = [tmp_path / f"serve-{port}.log" for port in ports]
    processes: list[subprocess.Popen] = []
    try:
        for port, log in zip(ports, logs, strict=True):
            with log.open("wb") as output:  # the child keeps its own copy of the descriptor
                processes.append(
                    subprocess.Popen(
                        [*ETOUR, "serve", "--port", str(port)],
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own process group, for stop()
                    )
                )
        for process, url, log in zip(processes, urls, logs, strict=True):
            wait_until_healthy(process, url, log)
        yield ServerProcesses(urls, logs)
    finally:
        for process in processes:
            stop(process)


@pytest.mark.slow
async def test_two_server_processes_sharing_the_database_sell_exactly_20_places(
    two_server_processes: ServerProcesses, database: Settings
):
    slot = await make_slot(await make_reservable_venue(), capacity=CAPACITY)
    # The processes share ETOUR_SECRET_KEY, so a token signed here is theirs too.
    signing_app = SimpleNamespace(
        ctx=SimpleNamespace(signer=TokenSigner(database.secret()), settings=database)
    )
    bookings = await bookings_for(signing_app, [1] * CLIENTS)

    answers = await book_concurrently(two_server_processes.urls, slot.id, bookings)

    assert most_in_flight(answers) >= CLIENTS // 2
    outcomes = tally(answers)
    output = two_server_processes.output()
    assert "Traceback" not in output, output
    assert outcomes == {"201": CAPACITY, "409 slot_full": CLIENTS - CAPACITY}, (outcomes, output)
    assert await audit_slot(slot.id) == []
    assert (await TimeSlot.get(id=slot.id)).booked == CAPACITY
    assert await Ticket.filter(slot_id=slot.id).count() == CAPACITY
    assert await confirmed_reservation_ids(slot.id) == answered_reservation_ids(answers)
