"""Time slots: generated from a venue's weekly template, listed with the places left."""

from __future__ import annotations

from datetime import date, timedelta

from server.db import replace_rows
from server.reservations.models import SlotTemplate, TimeSlot
from server.venues import service as venues


async def generate_slots(*, venue_id: int, first_day: date, days: int) -> int:
    """Create the dated slots of `days` days from the venue's template; return how many are new.

    Days the venue is closed (no hours that weekday, or a closing day) get no slots; slots that
    already exist are left as they are, so running it again changes nothing.
    """
    venue = await venues.get_venue(venue_id=venue_id, include_hidden=True)
    templates = await SlotTemplate.filter(venue_id=venue_id)
    last_day = first_day + timedelta(days=days - 1)
    existing = set(
        await TimeSlot.filter(
            venue_id=venue_id, date__gte=first_day, date__lte=last_day
        ).values_list("date", "starts_at")
    )
    new_slots = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if not venues.hours_on(venue, day).is_open_day:
            continue
        for template in templates:
            if template.weekday == day.weekday() and (day, template.starts_at) not in existing:
                new_slots.append(
                    TimeSlot(
                        venue_id=venue_id,
                        date=day,
                        starts_at=template.starts_at,
                        ends_at=template.ends_at,
                        capacity=template.capacity,
                    )
                )
    # Two generators racing (two workers at start) may both try a slot; the unique key keeps one.
    await TimeSlot.bulk_create(new_slots, ignore_conflicts=True)
    return len(new_slots)


async def list_slots(*, venue_id: int, day: date) -> list[TimeSlot]:
    """A visible venue's slots on `day`, earliest first."""
    await venues.get_venue(venue_id=venue_id)
    return await TimeSlot.filter(venue_id=venue_id, date=day).order_by("starts_at")


async def replace_slot_templates(*, venue_id: int, windows: list[dict]) -> bool:
    """Make the venue's weekly template exactly `windows`; return True if anything changed.

    Each window is {"weekdays": [0..6], "starts_at": time, "ends_at": time, "capacity": int}.
    Slots already generated keep their capacity: a template change applies to new days.
    """
    wanted = {
        (weekday, window["starts_at"], window["ends_at"], window["capacity"])
        for window in windows
        for weekday in window["weekdays"]
    }
    return await replace_rows(
        SlotTemplate,
        owner={"venue_id": venue_id},
        fields=("weekday", "starts_at", "ends_at", "capacity"),
        wanted=wanted,
    )
