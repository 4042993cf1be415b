"""Loading the Wenzhou demo catalogue (`etour seed-demo`): idempotent, run it as often as needed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time

from tortoise.transactions import in_transaction

from server.db import replace_rows
from server.reservations import service as reservations
from server.venues.demo_data import DEMO_VENUES
from server.venues.models import ClosingDay, OpeningHours, Venue

_VENUE_FIELDS = (
    "kind", "a_level", "name", "description", "address", "county", "transport", "latitude",
    "longitude", "phone", "website", "photos", "tags", "prices", "free_rules", "reservable",
)  # fmt: skip


def _time(text: str | None) -> time | None:
    return time.fromisoformat(text) if text else None


async def _upsert_venue(entry: dict) -> tuple[Venue, bool]:
    values = {field: entry[field] for field in _VENUE_FIELDS}
    venue = await Venue.get_or_none(code=entry["code"])
    if venue is None:
        return await Venue.create(code=entry["code"], **values), True
    changed = [field for field, value in values.items() if getattr(venue, field) != value]
    if changed:
        venue.update_from_dict({field: values[field] for field in changed})
        await venue.save(update_fields=[*changed, "updated_at"])
    return venue, bool(changed)


async def _replace_hours(venue: Venue, entry: dict) -> bool:
    wanted = {
        (int(weekday), _time(opens), _time(closes), _time(last_entry))
        for weekday, (opens, closes, last_entry) in entry["opening_hours"].items()
    }
    return await replace_rows(
        OpeningHours,
        owner={"venue_id": venue.id},
        fields=("weekday", "opens_at", "closes_at", "last_entry_at"),
        wanted=wanted,
    )


async def _add_closing_days(venue: Venue, entry: dict) -> bool:
    changed = False
    for closing in entry.get("closing_days", []):
        _, created = await ClosingDay.get_or_create(
            venue=venue,
            date=date.fromisoformat(closing["date"]),
            defaults={"reason": closing["reason"]},
        )
        changed |= created
    return changed


async def load_demo_catalogue(
    *, today: date, days: int, progress: Callable[[str], None] = lambda _: None
) -> dict[str, int]:
    """Upsert the demo venues, their hours and slot templates, and slots for `days` days."""
    counts = {"venues_changed": 0, "slots_created": 0}
    for entry in DEMO_VENUES:
        async with in_transaction():
            venue, changed = await _upsert_venue(entry)
            changed |= await _replace_hours(venue, entry)
            changed |= await _add_closing_days(venue, entry)
            windows = [
                {
                    **window,
                    "starts_at": _time(window["starts_at"]),
                    "ends_at": _time(window["ends_at"]),
                }
                for window in entry["slot_templates"]
            ]
            changed |= await reservations.replace_slot_templates(venue_id=venue.id, windows=windows)
        counts["venues_changed"] += changed
        if venue.reservable:
            counts["slots_created"] += await reservations.generate_slots(
                venue_id=venue.id, first_day=today, days=days
            )
        progress(entry["code"])
    return counts
