"""The cockpit's figures (一屏掌控), each computed by SQL aggregates in the database.

Nothing here loads rows to count them in Python: every figure is a GROUP BY (through the ORM, or
raw SQL where an hour of local time has to be taken out of a timestamp, which each database
spells differently). Figures of other modules (card entries, chat, complaints) come from their
own service functions when those modules are installed.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import F
from tortoise.functions import Count, Sum

from i18n import pick
from server.admin.errors import RangeTooLong
from server.admin.models import UsageCount
from server.clock import LOCAL_TZ
from server.reservations.models import Reservation, ReservationStatus, TimeSlot
from server.tickets.models import OccupancyWarning, VenueOccupancy
from server.tickets.service import crowd_level
from server.venues.models import Venue

log = logging.getLogger("etour.cockpit")

FOOD_SEARCH = "food_search"
MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 7
RECENT_WARNINGS = 20
# Figures of other modules, each `async def NAME(start: date, end: date) -> dict`.
PROVIDERS = {
    "card": ("server.card.service", "card_figures"),
    "chat": ("bots.service", "chat_figures"),
    "complaints": ("server.supervision.service", "complaint_figures"),
}
Provider = Callable[[date, date], Awaitable[dict]]


def provider(name: str) -> Provider | None:
    """Another module's figures function, or None while that module does not provide it."""
    module_name, function_name = PROVIDERS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, function_name, None)


def day_range(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """The asked range, a week up to today by default; refused beyond a year."""
    end = end or today
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise RangeTooLong(max_days=MAX_RANGE_DAYS)
    return start, end


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(0), LOCAL_TZ),
        datetime.combine(end + timedelta(days=1), time(0), LOCAL_TZ),
    )


async def _raw(sql: dict[str, str], params: list[Any]) -> list[dict[str, Any]]:
    """Run the query written for the current database's dialect."""
    connection = connections.get("default")
    dialect = connection.capabilities.dialect
    text = sql[dialect]
    if dialect == "postgres":
        for number in range(1, len(params) + 1):
            text = text.replace("?", f"${number}", 1)
    return await connection.execute_query_dict(text, params)


# Entries at the gate per venue and local hour. Timestamps are stored with their UTC offset;
# Wenzhou has no daylight saving, so local time is UTC+8 on SQLite's side.
_ENTRIES_BY_HOUR = {
    "postgres": (
        "SELECT venue_id, CAST(EXTRACT(HOUR FROM scanned_at AT TIME ZONE 'Asia/Shanghai') AS INT)"
        " AS hour, COUNT(*) AS entries FROM gate_scan WHERE admitted AND direction = 'entry'"
        " AND scanned_at >= ? AND scanned_at < ? GROUP BY 1, 2"
    ),
    "sqlite": (
        "SELECT venue_id, CAST(strftime('%H', scanned_at, '+8 hours') AS INTEGER) AS hour,"
        " COUNT(*) AS entries FROM gate_scan WHERE admitted AND direction = 'entry'"
        " AND julianday(scanned_at) >= julianday(?) AND julianday(scanned_at) < julianday(?)"
        " GROUP BY 1, 2"
    ),
}


def _level(count: int, capacity: int | None) -> str | None:
    return None if not capacity else crowd_level(count, capacity).value


async def venue_table(*, day: date, language: str) -> list[dict[str, Any]]:
    """Every shown venue on `day`: reservations, booked vs slot capacity, people inside vs caps."""
    venues = (
        await Venue.filter(hidden=False)
        .order_by("id")
        .values("id", "code", "name", "reservable", "daily_capacity", "instant_capacity")
    )
    reservations = {
        row["venue_id"]: row
        for row in await Reservation.filter(date=day, status=ReservationStatus.CONFIRMED)
        .annotate(reservations=Count("id"), people=Sum("party_size"))
        .group_by("venue_id")
        .values("venue_id", "reservations", "people")
    }
    slots = {
        row["venue_id"]: row
        for row in await TimeSlot.filter(date=day)
        .annotate(booked=Sum("booked"), capacity=Sum("capacity"))
        .group_by("venue_id")
        .values("venue_id", "booked", "capacity")
    }
    occupancy = {
        row["venue_id"]: row
        for row in await VenueOccupancy.filter(date=day).values(
            "venue_id", "inside", "entered", "exited"
        )
    }
    warnings = dict(
        await OccupancyWarning.filter(date=day)
        .annotate(count=Count("id"))
        .group_by("venue_id")
        .values_list("venue_id", "count")
    )
    table = []
    for venue in venues:
        booked = reservations.get(venue["id"], {})
        slot = slots.get(venue["id"], {})
        inside = occupancy.get(venue["id"], {})
        people_inside = int(inside.get("inside") or 0)
        booked_people = int(slot.get("booked") or 0)
        slot_capacity = int(slot.get("capacity") or 0)
        table.append(
            {
                "venue_id": venue["id"],
                "code": venue["code"],
                "name": pick(venue["name"], language),
                "reservable": venue["reservable"],
                "reservations": int(booked.get("reservations") or 0),
                "reserved_people": int(booked.get("people") or 0),
                "slot_booked": booked_people,
                "slot_capacity": slot_capacity,
                "daily_capacity": venue["daily_capacity"],
                "entered": int(inside.get("entered") or 0),
                "exited": int(inside.get("exited") or 0),
                "occupancy": people_inside,
                "instant_capacity": venue["instant_capacity"],
                "occupancy_percent": people_inside * 100 // venue["instant_capacity"]
                if venue["instant_capacity"]
                else None,
                "level": _level(people_inside, venue["instant_capacity"]),
                "booking_level": _level(booked_people, slot_capacity),
                "warnings": int(warnings.get(venue["id"], 0)),
            }
        )
    return table


async def hourly(*, day: date) -> dict[str, Any]:
    """Booked places by slot start hour and gate entries by hour, per venue and in total."""
    booked_rows = (
        await TimeSlot.filter(date=day)
        .annotate(booked=Sum("booked"), capacity=Sum("capacity"))
        .group_by("venue_id", "starts_at")
        .values("venue_id", "starts_at", "booked", "capacity")
    )
    first, after = _day_bounds(day, day)
    entry_rows = await _raw(_ENTRIES_BY_HOUR, [first, after])
    hours = list(range(24))
    total_booked = [0] * 24
    total_entries = [0] * 24
    by_venue: dict[int, dict[str, list[int]]] = {}

    def venue_series(venue_id: int) -> dict[str, list[int]]:
        return by_venue.setdefault(venue_id, {"booked": [0] * 24, "entries": [0] * 24})

    for row in booked_rows:
        # starts_at is local wall-clock text "HH:MM:SS": its hour is the first two characters.
        hour = int(str(row["starts_at"])[:2])
        booked = int(row["booked"] or 0)
        total_booked[hour] += booked
        venue_series(row["venue_id"])["booked"][hour] += booked
    for row in entry_rows:
        hour, entries = int(row["hour"]), int(row["entries"])
        total_entries[hour] += entries
        venue_series(row["venue_id"])["entries"][hour] += entries
    return {
        "date": day.isoformat(),
        "hours": hours,
        "booked": total_booked,
        "entries": total_entries,
        "by_venue": [{"venue_id": key, **value} for key, value in sorted(by_venue.items())],
    }


async def warnings(*, start: date, end: date, language: str) -> dict[str, Any]:
    """Crowd warnings in the range: how many per venue, and the latest few."""
    in_range = OccupancyWarning.filter(date__gte=start, date__lte=end)
    per_venue = (
        await in_range.annotate(count=Count("id"))
        .group_by("venue_id")
        .order_by("venue_id")
        .values("venue_id", "count")
    )
    latest = (
        await in_range.order_by("-id")
        .limit(RECENT_WARNINGS)
        .values(
            "id",
            "venue_id",
            "venue__name",
            "date",
            "threshold_percent",
            "occupancy",
            "capacity",
            "created_at",
        )
    )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "total": sum(row["count"] for row in per_venue),
        "by_venue": per_venue,
        "latest": [
            {
                "id": row["id"],
                "venue_id": row["venue_id"],
                "venue": pick(row["venue__name"], language),
                "date": str(row["date"]),
                "threshold_percent": row["threshold_percent"],
                "occupancy": row["occupancy"],
                "capacity": row["capacity"],
                "at": row["created_at"].astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
            }
            for row in latest
        ],
    }


def _by_day(rows: list[dict[str, Any]], key: str = "date") -> dict[str, dict[str, Any]]:
    return {str(row[key])[:10]: row for row in rows}


async def daily_figures(*, start: date, end: date) -> list[dict[str, Any]]:
    """One row per day of the range: reservations, people, cancellations, entries, warnings,
    food-map searches."""
    confirmed = _by_day(
        await Reservation.filter(date__gte=start, date__lte=end, status=ReservationStatus.CONFIRMED)
        .annotate(reservations=Count("id"), people=Sum("party_size"))
        .group_by("date")
        .values("date", "reservations", "people")
    )
    cancelled = _by_day(
        await Reservation.filter(date__gte=start, date__lte=end, status=ReservationStatus.CANCELLED)
        .annotate(cancelled=Count("id"))
        .group_by("date")
        .values("date", "cancelled")
    )
    gates = _by_day(
        await VenueOccupancy.filter(date__gte=start, date__lte=end)
        .annotate(entered=Sum("entered"), exited=Sum("exited"))
        .group_by("date")
        .values("date", "entered", "exited")
    )
    crowd = _by_day(
        await OccupancyWarning.filter(date__gte=start, date__lte=end)
        .annotate(warnings=Count("id"))
        .group_by("date")
        .values("date", "warnings")
    )
    searches = _by_day(
        await UsageCount.filter(name=FOOD_SEARCH, date__gte=start, date__lte=end)
        .annotate(searches=Sum("count"))
        .group_by("date")
        .values("date", "searches")
    )
    rows = []
    day = start
    while day <= end:
        key = day.isoformat()
        rows.append(
            {
                "date": key,
                "reservations": int(confirmed.get(key, {}).get("reservations") or 0),
                "reserved_people": int(confirmed.get(key, {}).get("people") or 0),
                "cancelled": int(cancelled.get(key, {}).get("cancelled") or 0),
                "entered": int(gates.get(key, {}).get("entered") or 0),
                "exited": int(gates.get(key, {}).get("exited") or 0),
                "warnings": int(crowd.get(key, {}).get("warnings") or 0),
                "food_searches": int(searches.get(key, {}).get("searches") or 0),
            }
        )
        day += timedelta(days=1)
    return rows


async def food_searches(*, start: date, end: date) -> dict[str, Any]:
    """Food-map searches in the range, in total and by local hour of day."""
    rows = (
        await UsageCount.filter(name=FOOD_SEARCH, date__gte=start, date__lte=end)
        .annotate(searches=Sum("count"))
        .group_by("hour")
        .values("hour", "searches")
    )
    by_hour = [0] * 24
    for row in rows:
        by_hour[row["hour"]] = int(row["searches"] or 0)
    return {"total": sum(by_hour), "by_hour": by_hour}


def _summarized(result: Any) -> Any:
    """A module's figures as plain JSON; rows (a list) get `totals` of their counts beside them."""
    plain = json.loads(json.dumps(result, default=str, ensure_ascii=False))
    if not isinstance(plain, list):
        return plain
    totals: dict[str, int] = {}
    for row in plain:
        for key, value in row.items():
            if isinstance(value, int) and not isinstance(value, bool) and not key.endswith("_id"):
                totals[key] = totals.get(key, 0) + value
    return {"rows": plain, "totals": totals}


async def other_modules(*, start: date, end: date) -> dict[str, Any]:
    """Card, chat and complaint figures from their modules; a module not installed (or failing)
    is left out and named in `unavailable`."""
    figures: dict[str, Any] = {}
    unavailable = []
    for name in PROVIDERS:
        figures_of = provider(name)
        if figures_of is None:
            unavailable.append(name)
            continue
        try:
            figures[name] = _summarized(await figures_of(start, end))
        except Exception:
            # One module's failure must not blank the whole cockpit; it is logged and named.
            log.exception("%s figures failed", name)
            unavailable.append(name)
    figures["unavailable"] = unavailable
    return figures


async def overview(*, start: date, end: date, today: date, language: str) -> dict[str, Any]:
    """The cockpit's one screen: today's venue table and hours, the range's figures by day,
    warnings, food-map searches and the other modules' figures."""
    return {
        "today": today.isoformat(),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "venues": await venue_table(day=today, language=language),
        "hourly": await hourly(day=today),
        "daily": await daily_figures(start=start, end=end),
        "warnings": await warnings(start=start, end=end, language=language),
        "food_searches": await food_searches(start=start, end=end),
        **await other_modules(start=start, end=end),
    }


async def count_usage(name: str, *, at: datetime) -> None:
    """Count one event of `name` in its local hour (an upsert, safe across workers).

    A lost count only makes a cockpit figure a little low, so a failure is logged, not raised:
    callers run this beside the answer they give.
    """
    local = at.astimezone(LOCAL_TZ)
    key = {"name": name, "date": local.date(), "hour": local.hour}
    try:
        await UsageCount.bulk_create([UsageCount(**key)], ignore_conflicts=True)
        await UsageCount.filter(**key).update(count=F("count") + 1)
    except Exception:
        log.warning("counting %s failed", name, exc_info=True)


_counting: set[asyncio.Task] = set()  # strong references: the loop keeps only weak ones


def count_usage_soon(name: str, *, at: datetime) -> None:
    """Count one event of `name` in the background, so the caller's answer does not wait."""
    task = asyncio.get_running_loop().create_task(count_usage(name, at=at))
    _counting.add(task)
    task.add_done_callback(_counting.discard)
