"""The day planner: order the places a visitor picked into a route that respects opening hours.

A travelling-salesman problem with time windows, small enough (a day's places) for a heuristic:
a nearest-neighbour start (nearest in time: the place whose visit can begin soonest), then local
search with 2-opt segment reversals and single-place moves, until no move improves the plan or
the time budget is spent. A plan is better when it leaves fewer places out, then when it ends
earlier, then when it travels less. Times are minutes after midnight of the planned day.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from server.tours.geo import haversine_m, travel_minutes

SEARCH_BUDGET_SECONDS = 0.05  # local search stops here with the best plan found so far


@dataclass(frozen=True)
class Session:
    """One opening window of a place on the day: enter at `opens` or later, until `last_entry`
    (None: any time), and leave by `closes`."""

    opens: int
    closes: int
    last_entry: int | None = None


@dataclass(frozen=True)
class Place:
    """A place to visit: where, how long to stay, and when it is open on the day (empty: closed)."""

    key: str
    latitude: float
    longitude: float
    minutes: int
    sessions: tuple[Session, ...]


class Reason(StrEnum):
    """Why a place is left out of the plan."""

    CLOSED_THAT_DAY = "closed_that_day"
    NOT_OPEN_IN_TIME = "not_open_in_time"  # even going there first, the hours do not allow it
    BEYOND_DAY_END = "beyond_day_end"  # even going there first, the visit ends too late
    NO_TIME_LEFT = "no_time_left"  # it fits alone, but not with the other places


@dataclass(frozen=True)
class Visit:
    """One place of the plan: the trip there, arrival, the visit itself."""

    place: Place
    travel_m: float
    travel_minutes: int
    arrive: int
    start: int
    leave: int

    @property
    def wait_minutes(self) -> int:
        """Minutes waiting for the place to open after arriving."""
        return self.start - self.arrive


@dataclass(frozen=True)
class Unplaced:
    """A place the plan could not include, and why."""

    place: Place
    reason: Reason


@dataclass(frozen=True)
class DayPlan:
    """The ordered visits, the places left out, and the totals."""

    visits: list[Visit]
    unplaced: list[Unplaced]
    start: int

    @property
    def finish(self) -> int:
        """When the last visit ends (the start time when nothing was placed)."""
        return self.visits[-1].leave if self.visits else self.start

    @property
    def travel_m(self) -> float:
        """Total distance travelled, in metres (straight lines between places)."""
        return sum(visit.travel_m for visit in self.visits)

    @property
    def travel_minutes(self) -> int:
        """Total minutes travelling."""
        return sum(visit.travel_minutes for visit in self.visits)


def _earliest_start(place: Place, arrive: int, day_end: int) -> int | None:
    """When the visit can begin if one arrives at `arrive`, or None if it cannot fit."""
    for session in place.sessions:
        begin = max(arrive, session.opens)
        latest = session.closes if session.last_entry is None else session.last_entry
        if begin <= latest and begin + place.minutes <= min(session.closes, day_end):
            return begin
    return None


class _Planner:
    """Travel times between all points, computed once; node 0 is the start, place i is node i+1."""

    def __init__(
        self, start: tuple[float, float], places: Sequence[Place], speed_kmh: float, day: tuple
    ) -> None:
        self.places = list(places)
        self.start_minute, self.end_minute = day
        points = [start, *((p.latitude, p.longitude) for p in self.places)]
        self.metres = [[haversine_m(*a, *b) for b in points] for a in points]
        self.minutes = [[travel_minutes(m, speed_kmh) for m in row] for row in self.metres]

    def simulate(self, order: Sequence[int]) -> tuple[tuple[int, int, float], list, list[int]]:
        """Walk the places in `order`, skipping those that cannot fit when their turn comes.

        Returns the cost (places skipped, finish time, metres travelled), the visits as
        (place index, arrive, start, leave, from node) and the skipped place indices.
        """
        node, now, travelled = 0, self.start_minute, 0.0
        visits, skipped = [], []
        for index in order:
            arrive = now + self.minutes[node][index + 1]
            begin = _earliest_start(self.places[index], arrive, self.end_minute)
            if begin is None:
                skipped.append(index)
                continue
            travelled += self.metres[node][index + 1]
            leave = begin + self.places[index].minutes
            visits.append((index, arrive, begin, leave, node))
            node, now = index + 1, leave
        return (len(skipped), now, travelled), visits, skipped

    def nearest_neighbour(self) -> list[int]:
        """Greedy order: next, the place whose visit can begin soonest (then the closest)."""
        remaining = set(range(len(self.places)))
        order, node, now = [], 0, self.start_minute
        while remaining:
            best = None
            for index in remaining:
                arrive = now + self.minutes[node][index + 1]
                begin = _earliest_start(self.places[index], arrive, self.end_minute)
                if begin is not None:
                    rank = (begin, self.metres[node][index + 1], index)
                    if best is None or rank < best[0]:
                        best = (rank, index, begin)
            if best is None:
                break
            _, index, begin = best
            order.append(index)
            remaining.discard(index)
            node, now = index + 1, begin + self.places[index].minutes
        return order + sorted(remaining)

    def improve(self, order: list[int], deadline: float) -> list[int]:
        """2-opt reversals and single-place moves, first improvement, until none helps."""
        best_cost = self.simulate(order)[0]
        size = len(order)
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            for i in range(size - 1):
                for j in range(i + 1, size):
                    for candidate in (
                        [*order[:i], *order[i : j + 1][::-1], *order[j + 1 :]],  # 2-opt
                        [*order[:i], *order[i + 1 : j + 1], order[i], *order[j + 1 :]],  # i later
                        [*order[:i], order[j], *order[i:j], *order[j + 1 :]],  # j earlier
                    ):
                        cost = self.simulate(candidate)[0]
                        if cost < best_cost:
                            order, best_cost, improved = candidate, cost, True
                if time.perf_counter() >= deadline:
                    break
        return order

    def reason_for(self, index: int) -> Reason:
        """Why a place left out did not fit: its own hours, the day's end, or the other places."""
        place = self.places[index]
        if not place.sessions:
            return Reason.CLOSED_THAT_DAY
        arrive = self.start_minute + self.minutes[0][index + 1]
        if _earliest_start(place, arrive, self.end_minute) is not None:
            return Reason.NO_TIME_LEFT
        if _earliest_start(place, arrive, 10 * 24 * 60) is not None:
            return Reason.BEYOND_DAY_END
        return Reason.NOT_OPEN_IN_TIME


def plan_route(
    *,
    start: tuple[float, float],
    start_minute: int,
    end_minute: int,
    places: Sequence[Place],
    speed_kmh: float,
    budget_seconds: float = SEARCH_BUDGET_SECONDS,
) -> DayPlan:
    """Order `places` into a day from `start` (lat, lng) at `start_minute`, done by `end_minute`."""
    deadline = time.perf_counter() + budget_seconds
    planner = _Planner(start, places, speed_kmh, (start_minute, end_minute))
    order = planner.improve(planner.nearest_neighbour(), deadline)
    _, visits, skipped = planner.simulate(order)
    return DayPlan(
        visits=[
            Visit(
                place=planner.places[index],
                travel_m=planner.metres[origin][index + 1],
                travel_minutes=planner.minutes[origin][index + 1],
                arrive=arrive,
                start=begin,
                leave=leave,
            )
            for index, arrive, begin, leave, origin in visits
        ],
        unplaced=[Unplaced(planner.places[index], planner.reason_for(index)) for index in skipped],
        start=start_minute,
    )
