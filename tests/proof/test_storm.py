"""The oversell storm: 2,000 visitors at once for the 100 places of one slot, on real processes.

Services backend: two `etour serve` processes sharing PostgreSQL and Redis. Embedded backend:
one `etour serve` process, because the in-process Redis lives inside one process (several
processes would each have their own; `etour serve --workers 2` refuses to start without
REDIS_URL). Either way the database alone decides who gets a place, and its own counts must
agree with the slot's counter afterwards. The canary that shows this audit catches an oversell
is test_canary_without_the_capacity_guard_the_same_race_oversells in tests/concurrency.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from concurrency.test_oversell import (
    answered_reservation_ids,
    audit_slot,
    bookings_for,
    confirmed_reservation_ids,
    most_in_flight,
    tally,
)
from conftest import BACKEND
from factories import make_reservable_venue, make_slot

from proof.processes import (
    RunningProcesses,
    book_bounded,
    database_counts,
    serve_processes,
    signing_app_for,
    storm_environment,
)
from server.config import Settings

pytestmark = [pytest.mark.storm, pytest.mark.slow]

ATTEMPTS = 2000
PLACES = 100
PROCESSES = 2 if BACKEND == "services" else 1
IN_FLIGHT_PER_PROCESS = 200
BUDGET_SECONDS = 240


@pytest.fixture
def storm_servers(settings: Settings, tmp_path: Path) -> Iterator[RunningProcesses]:
    """The storm's server processes on this test's fresh database (and Redis)."""
    with serve_processes(storm_environment(settings), PROCESSES, tmp_path) as servers:
        yield servers


async def test_2000_attempts_for_100_places_sell_exactly_100_and_the_counts_agree(
    storm_servers: RunningProcesses, database: Settings
):
    slot = await make_slot(await make_reservable_venue(), capacity=PLACES)
    bookings = await bookings_for(signing_app_for(database), [1] * ATTEMPTS)

    started = time.monotonic()
    answers = await book_bounded(
        storm_servers.urls,
        slot.id,
        bookings,
        in_flight_per_server=IN_FLIGHT_PER_PROCESS,
        budget_seconds=BUDGET_SECONDS,
    )
    seconds = time.monotonic() - started

    output = storm_servers.output()
    outcomes = tally(answers)
    assert "Traceback" not in output, output[-5000:]
    assert outcomes == {"201": PLACES, "409 slot_full": ATTEMPTS - PLACES}, (outcomes, seconds)
    # Proof the clients raced: nearly all the client's connections were in flight together.
    assert most_in_flight(answers) >= 0.8 * IN_FLIGHT_PER_PROCESS * PROCESSES
    assert await audit_slot(slot.id) == []
    assert await database_counts(slot.id) == {
        "booked": PLACES,
        "confirmed_places": PLACES,
        "confirmed_reservations": PLACES,
        "tickets": PLACES,
        "claims": PLACES,
    }
    assert await confirmed_reservation_ids(slot.id) == answered_reservation_ids(answers)
