"""Loading the demo guided tours (`etour seed-demo`): idempotent, run it as often as needed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from tortoise.models import Model
from tortoise.transactions import in_transaction

from server.tours.demo_data import DEMO_TOURS
from server.tours.models import Tour, TourStop
from server.venues import service as venues


async def _changed(row: Model, values: dict) -> bool:
    """Write the fields of `row` that differ from `values`; True if there were any."""
    changed = [field for field, value in values.items() if getattr(row, field) != value]
    if changed:
        row.update_from_dict({field: values[field] for field in changed})
        stamp = ["updated_at"] if "updated_at" in row._meta.fields_map else []
        await row.save(update_fields=[*changed, *stamp])
    return bool(changed)


async def _stop_values(entry: dict) -> dict:
    venue = await venues.get_venue_by_code(entry["venue"]) if entry.get("venue") else None
    latitude, longitude = entry.get("at") or (venue.latitude, venue.longitude)
    return {
        "venue_id": venue.id if venue else None,
        "name": entry["name"],
        "narration": entry["narration"],
        "latitude": latitude,
        "longitude": longitude,
        "audio_url": entry.get("audio_url", {}),
        "panorama_url": entry.get("panorama", ""),
        "minutes": entry["minutes"],
    }


async def _upsert_stops(tour: Tour, entries: list[dict]) -> bool:
    """Make the tour's stops those of `entries`, by position; visitors' progress is kept."""
    existing = {stop.position: stop for stop in await TourStop.filter(tour_id=tour.id)}
    changed = False
    for position, entry in enumerate(entries, start=1):
        values = await _stop_values(entry)
        stop = existing.get(position)
        if stop is None:
            await TourStop.create(tour=tour, position=position, **values)
            changed = True
        else:
            changed |= await _changed(stop, values)
    removed = await TourStop.filter(tour_id=tour.id, position__gt=len(entries)).delete()
    return changed or bool(removed)


async def load_demo_tours(*, progress: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Upsert the demo tours and their stops (needs the demo venues); count what changed."""
    counts = {"tours_changed": 0}
    for entry in DEMO_TOURS:
        venue = await venues.get_venue_by_code(entry["venue"]) if entry["venue"] else None
        values = {
            "venue_id": venue.id if venue else None,
            "name": entry["name"],
            "summary": entry["summary"],
            "night": entry["night"],
            "starts_at": time.fromisoformat(entry["starts_at"]) if entry["starts_at"] else None,
        }
        async with in_transaction():
            tour = await Tour.get_or_none(code=entry["code"])
            if tour is None:
                tour = await Tour.create(code=entry["code"], **values)
                changed = True
            else:
                changed = await _changed(tour, values)
            changed |= await _upsert_stops(tour, entry["stops"])
        counts["tours_changed"] += changed
        progress(entry["code"])
    return counts
