"""Risk warnings (风险预警): weather warnings and traffic events matched to the venues they reach.

The feed is one JSON document (fetched from ETOUR_RISK_FEED_URL, or posted to the import
endpoint):

    {"source": "wenzhou-meteorological-bureau",
     "generated_at": "2026-11-29T08:00:00+08:00",
     "items": [{"id": "W-20261129-01", "type": "weather" | "traffic",
                "level": "blue" | "yellow" | "orange" | "red",
                "title": {"zh-CN": "台风橙色预警", "en": "Typhoon orange warning"},
                "description": {"zh-CN": "...", "en": "..."},          (optional)
                "areas": ["鹿城区", "Yongjia County", "温州市"],          (optional)
                "point": {"lat": 28.03, "lng": 120.65}, "radius_m": 3000,  (optional)
                "starts_at": "2026-11-29T08:00:00+08:00",
                "ends_at": "2026-11-30T08:00:00+08:00"}]}

An item reaches a venue whose county (district) is named in `areas` (Chinese or English name;
the city's name reaches every venue), or that lies within `radius_m` of `point`. Items are
stored by (source, id): importing the same feed again changes nothing and announces nothing.
New or changed warnings are published on the Redis channel `etour:risk` for the cockpit; the
venues' current warnings are cached in Redis for the visitor answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from tortoise.transactions import in_transaction

from i18n import pick
from server.clock import local_now
from server.config import Settings
from server.db import replace_rows
from server.supervision import errors as refusals
from server.supervision.models import RiskWarning, RiskWarningVenue
from server.supervision.schemas import Feed, FeedItem
from server.tours.geo import haversine_m
from server.venues import service as venues

log = logging.getLogger("etour.supervision.risk")
CHANNEL = "etour:risk"
CACHE_KEY = "etour:risk:by-venue"
CACHE_SECONDS = 60
CITY_NAMES = frozenset({"温州市", "温州", "wenzhou", "wenzhou city"})
DEFAULT_RADIUS_M = 5000
FETCH_TIMEOUT_SECONDS = 10.0


def _normal(name: str) -> str:
    return name.strip().casefold()


def venues_reached(item: FeedItem, catalogue: list[Any]) -> set[int]:
    """The ids of the venues in `catalogue` that `item` reaches by area or by distance."""
    areas = {_normal(area) for area in item.areas}
    if areas & CITY_NAMES:
        return {venue.id for venue in catalogue}
    reached = set()
    for venue in catalogue:
        names = {_normal(name) for name in (venue.county or {}).values() if name}
        if names & areas:
            reached.add(venue.id)
        elif item.point is not None:
            radius = item.radius_m or DEFAULT_RADIUS_M
            if (
                haversine_m(item.point.lat, item.point.lng, venue.latitude, venue.longitude)
                <= radius
            ):
                reached.add(venue.id)
    return reached


def parse_feed(payload: Any) -> Feed:
    """The feed in `payload`; RiskFeedUnavailable naming the first problem otherwise."""
    try:
        return Feed.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "feed"
        raise refusals.RiskFeedUnavailable(detail=f"{where}: {first['msg']}") from None


async def fetch_feed(url: str, *, timeout_seconds: float) -> Feed:
    """Fetch and parse the feed at `url`."""
    try:
        async with httpx.AsyncClient(timeout=timeout_seconds) as client:
            response = await client.get(url)
        response.raise_for_status()
        payload = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise refusals.RiskFeedUnavailable(detail=type(error).__name__) from None
    return parse_feed(payload)


def _values(item: FeedItem) -> dict[str, Any]:
    return {
        "kind": item.type,
        "level": item.level,
        "title": item.title.as_dict(),
        "description": item.description.as_dict() if item.description else {},
        "areas": list(item.areas),
        "latitude": item.point.lat if item.point else None,
        "longitude": item.point.lng if item.point else None,
        "radius_m": item.radius_m,
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
    }


def _changed(warning: RiskWarning, values: dict[str, Any]) -> list[str]:
    return [name for name, value in values.items() if getattr(warning, name) != value]


def announcement(warning: RiskWarning, venue_ids: list[int]) -> dict[str, Any]:
    """What the cockpit receives on `etour:risk` for a new or changed warning."""
    return {
        "type": "risk_warning",
        "id": warning.id,
        "source": warning.source,
        "kind": str(warning.kind),
        "level": str(warning.level),
        "title": warning.title,
        "venue_ids": sorted(venue_ids),
        "starts_at": warning.starts_at.isoformat(),
        "ends_at": warning.ends_at.isoformat(),
    }


async def import_feed(feed: Feed, *, now: datetime, redis: Redis) -> dict[str, Any]:
    """Store the feed's items, match them to venues, announce the new and changed ones."""
    catalogue = await venues.list_venues(include_hidden=True)
    created = updated = 0
    announcements = []
    for item in feed.items:
        values = _values(item)
        reached = venues_reached(item, catalogue)
        async with in_transaction():
            warning = await RiskWarning.get_or_none(source=feed.source, external_id=item.id)
            if warning is None:
                warning = await RiskWarning.create(
                    source=feed.source, external_id=item.id, imported_at=now, **values
                )
                created += 1
                fresh = True
            else:
                changes = _changed(warning, values)
                if changes:
                    warning.update_from_dict({name: values[name] for name in changes})
                    warning.imported_at = now
                    await warning.save(update_fields=[*changes, "imported_at"])
                    updated += 1
                fresh = bool(changes)
            links_changed = await replace_rows(
                RiskWarningVenue,
                owner={"warning_id": warning.id},
                fields=("venue_id",),
                wanted={(venue_id,) for venue_id in reached},
            )
        if (fresh or links_changed) and warning.ends_at > now:
            announcements.append(announcement(warning, list(reached)))
    await _forget_cache(redis)
    for message in announcements:
        await _publish(redis, message)
    return {
        "source": feed.source,
        "items": len(feed.items),
        "created": created,
        "updated": updated,
        "announced": len(announcements),
        "warnings": announcements,
    }


async def _publish(redis: Redis, message: dict[str, Any]) -> None:
    try:
        await redis.publish(CHANNEL, json.dumps(message, ensure_ascii=False))
    except RedisError:
        # The warning is stored; the cockpit also reads current warnings from the database.
        log.warning("could not publish risk warning %s on %s", message["id"], CHANNEL)


async def _forget_cache(redis: Redis) -> None:
    try:
        await redis.delete(CACHE_KEY)
    except RedisError:
        log.warning("could not drop the risk warning cache")


async def _current_by_venue(now: datetime) -> dict[int, list[dict[str, Any]]]:
    links = await RiskWarningVenue.filter(warning__ends_at__gt=now).prefetch_related("warning")
    by_venue: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for link in links:
        warning = link.warning
        by_venue[link.venue_id].append(
            {
                "id": warning.id,
                "kind": str(warning.kind),
                "level": str(warning.level),
                "title": warning.title,
                "description": warning.description,
                "starts_at": warning.starts_at.isoformat(),
                "ends_at": warning.ends_at.isoformat(),
            }
        )
    return by_venue


async def current_warnings(*, redis: Redis, now: datetime) -> dict[int, list[dict[str, Any]]]:
    """Warnings not yet ended, by venue id, from a short-lived Redis cache (the DB if it fails)."""
    try:
        cached = await redis.get(CACHE_KEY)
    except RedisError:
        cached = None
    if cached is not None:
        by_venue = {int(venue_id): rows for venue_id, rows in json.loads(cached).items()}
    else:
        by_venue = await _current_by_venue(now)
        try:
            await redis.set(CACHE_KEY, json.dumps(by_venue, ensure_ascii=False), ex=CACHE_SECONDS)
        except RedisError:
            log.warning("could not cache risk warnings")
    # A cached warning that has ended meanwhile is left out at once, not after the cache expires.
    return {
        venue_id: [w for w in rows if datetime.fromisoformat(w["ends_at"]) > now]
        for venue_id, rows in by_venue.items()
    }


def localised(warnings: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    """A venue's warnings as a visitor reads them, in one language, most severe first."""
    order = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
    return [
        {
            "id": w["id"],
            "kind": w["kind"],
            "level": w["level"],
            "title": pick(w["title"], language),
            "description": pick(w["description"], language),
            "starts_at": w["starts_at"],
            "ends_at": w["ends_at"],
        }
        for w in sorted(warnings, key=lambda w: (order.get(w["level"], 9), w["starts_at"]))
    ]


async def venue_warnings(
    venue_ids: list[int], *, redis: Redis, now: datetime, language: str
) -> dict[int, list[dict[str, Any]]]:
    """The current warnings of each venue in `venue_ids` (empty lists included), localised."""
    current = await current_warnings(redis=redis, now=now)
    return {venue_id: localised(current.get(venue_id, []), language) for venue_id in venue_ids}


async def list_warnings(*, now: datetime, include_ended: bool) -> list[RiskWarning]:
    """Stored warnings, newest first, with their venue links loaded."""
    query = RiskWarning.all()
    if not include_ended:
        query = query.filter(ends_at__gt=now)
    return await query.order_by("-starts_at", "-id").prefetch_related("venue_links")


async def keep_feed_imported(settings: Settings, redis: Redis) -> None:
    """Import the configured feed every `risk_feed_interval_seconds` (idempotent per item)."""
    while True:
        try:
            feed = await fetch_feed(settings.risk_feed_url, timeout_seconds=FETCH_TIMEOUT_SECONDS)
            await import_feed(feed, now=local_now(), redis=redis)
        except refusals.RiskFeedUnavailable as problem:
            log.warning("risk feed not imported: %s", problem.params.get("detail"))
        except Exception:
            log.exception("importing the risk feed failed")
        await asyncio.sleep(settings.risk_feed_interval_seconds)
