"""The catalogue one process ranks from: items, their vectors in an index, positions, popularity.

It is a snapshot, rebuilt every few minutes from the database (recommend.runtime); whatever may
change in between (hidden, closed, crowded) is checked again for the few candidates of each
request (recommend.items.live_states: read fresh, or kept seconds at most, see RecentStates), so
a stale snapshot can only miss a new item, never recommend a hidden one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from recommend.embedder import Embedder, in_daemon_thread, normalised
from recommend.index import ExactIndex, build_index
from recommend.items import Item, load_items, usage_since
from recommend.vectors import save_vectors, stored_vectors

log = logging.getLogger("etour.recommend")

POPULARITY_WINDOW = timedelta(days=30)
# How much one recorded event of visitors says about an item's popularity.
EVENT_POPULARITY = {"view": 1.0, "chat_interest": 1.0, "favourite": 3.0, "unfavourite": -3.0}
BOOKING_POPULARITY = 2.0  # per place booked, tour walker ...
DEFAULT_DIMENSION = 512
# Every item is in Wenzhou, and a sentence encoder puts that (and "a place to visit") into every
# vector: the catalogue's mean direction. Taking it out makes what differs count (a museum's
# nearest neighbours become museums and heritage sites rather than restaurants in the same
# street). Shrunk towards no centring for small catalogues, whose mean says little.
CENTRING_PRIOR_ITEMS = 20


@dataclass(frozen=True)
class Catalogue:
    """Every visible item, with arrays aligned to `items` for vectorised ranking."""

    model: str
    items: list[Item]
    index: ExactIndex  # the items that have a vector, centred (interests are not in it)
    interest_vectors: Mapping[str, np.ndarray]  # centred like the items'
    popularity: np.ndarray  # 0..1, by row of `items`
    latitude: np.ndarray  # NaN where an item has no position
    longitude: np.ndarray
    types: np.ndarray  # the type of each row ("venue", ...)
    night: np.ndarray  # open late (夜游, 夜宵)
    kind_codes: np.ndarray  # one integer per kind (museum, restaurant ...), for quick comparing
    built_at: datetime
    row_of: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.row_of.update({item.id: row for row, item in enumerate(self.items)})

    def item(self, item_id: str) -> Item | None:
        """The item of that id, if it is in the catalogue."""
        row = self.row_of.get(item_id)
        return None if row is None else self.items[row]

    def label_of(self, item_id: str) -> Mapping[str, str]:
        """An item's name (for "because you liked ..."); empty for an unknown item."""
        item = self.item(item_id)
        return item.name if item else {}


def make_catalogue(
    *,
    model: str,
    items: Sequence[Item],
    vectors: Mapping[str, np.ndarray],
    popularity: Mapping[str, float],
    built_at: datetime,
    dimension: int = DEFAULT_DIMENSION,
) -> Catalogue:
    """A catalogue of `items` (hidden ones left out) with the given vectors and popularity."""
    items = [item for item in items if not item.hidden]
    if vectors:
        dimension = len(next(iter(vectors.values())))
    indexed = [(item.id, vectors[item.id]) for item in items if item.id in vectors]
    centre = np.zeros(dimension, dtype=np.float32)
    if indexed:
        mean = np.mean([vector for _, vector in indexed], axis=0)
        centre = (mean * len(indexed) / (len(indexed) + CENTRING_PRIOR_ITEMS)).astype(np.float32)
    interest_vectors = {
        key: normalised(vector - centre)
        for key, vector in vectors.items()
        if key.startswith("interest:")
    }
    return Catalogue(
        model=model,
        items=list(items),
        index=build_index([(item_id, vector - centre) for item_id, vector in indexed], dimension),
        interest_vectors=interest_vectors,
        popularity=np.array([popularity.get(item.id, 0.0) for item in items], dtype=np.float32),
        latitude=np.array(
            [item.latitude if item.latitude is not None else np.nan for item in items],
            dtype=np.float64,
        ),
        longitude=np.array(
            [item.longitude if item.longitude is not None else np.nan for item in items],
            dtype=np.float64,
        ),
        types=np.array([item.type for item in items]),
        night=np.array([item.night for item in items], dtype=bool),
        kind_codes=np.unique([item.kind or item.type for item in items], return_inverse=True)[1]
        if items
        else np.zeros(0, dtype=np.int64),
        built_at=built_at,
    )


def blend_popularity(items: Sequence[Item], usage: Mapping[str, float]) -> dict[str, float]:
    """Popularity in 0..1: half the item's prior, half its recent use against the most used."""
    scaled = {item_id: math.log1p(max(count, 0.0)) for item_id, count in usage.items()}
    top = max(scaled.values(), default=0.0) or 1.0
    return {item.id: 0.5 * item.prior + 0.5 * scaled.get(item.id, 0.0) / top for item in items}


async def recent_usage(*, now: datetime) -> dict[str, float]:
    """How much each item was used in the last 30 days: events here, bookings and walks there."""
    from tortoise.functions import Count

    from recommend.models import VisitorEvent

    since = now - POPULARITY_WINDOW
    usage = {
        item_id: count * BOOKING_POPULARITY for item_id, count in (await usage_since(since)).items()
    }
    rows = (
        await VisitorEvent.filter(created_at__gte=since)
        .annotate(events=Count("id"))
        .group_by("item_id", "kind")
        .values_list("item_id", "kind", "events")
    )
    for item_id, kind, events in rows:
        usage[item_id] = usage.get(item_id, 0.0) + EVENT_POPULARITY.get(str(kind), 0.0) * events
    return usage


async def load_catalogue(
    *, model: str, now: datetime, embedder: Embedder | None = None
) -> Catalogue:
    """The catalogue from the database. Items with no stored vector yet are encoded (and
    stored) when `embedder` has its model loaded already: loading it takes seconds, and a
    request may be waiting. Until then they are ranked by popularity and distance alone."""
    items = await load_items()
    vectors = await stored_vectors(model)
    missing = [item for item in items if item.id not in vectors]
    if missing and embedder is not None and embedder.is_ready:
        try:
            fresh = await in_daemon_thread(embedder.encode, [item.text() for item in missing])
            await save_vectors(model, missing, fresh)
        except Exception:
            log.exception("%d new items could not be encoded yet", len(missing))
        else:
            vectors.update({item.id: vector for item, vector in zip(missing, fresh, strict=True)})
    popularity = blend_popularity(items, await recent_usage(now=now))
    return make_catalogue(
        model=model, items=items, vectors=vectors, popularity=popularity, built_at=now
    )
