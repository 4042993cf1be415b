"""Recommendations inside a running server: the model warming up in the background, and the
snapshots a request ranks from kept fresh.

The server answers at once after start. In the background, new and changed items are encoded,
the model (seconds to load) being loaded in a thread first if there is anything to encode; and
the catalogue is rebuilt. Meanwhile recommendations use the vectors already stored (or popularity
and distance alone on a brand-new database), and /healthz says "warming". Importing this module
does not import torch.

What a request would otherwise read again and again is kept in memory: the catalogue (rebuilt
every few minutes), today's crowd level of every venue (a snapshot seconds old: crowds are
steered by it, not guarded), visitors' signals (recommend.profiles.TasteCache) and candidates'
states at the present minute (recommend.items.RecentStates: seconds, and dropped at once when
this process saves a change to an item). Planned times are read fresh.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Mapping
from contextlib import suppress
from datetime import date

from recommend.catalogue import Catalogue, load_catalogue
from recommend.embedder import Embedder, EmbedderState, embedder_for
from recommend.index import limit_blas_threads
from recommend.items import CrowdBasis, RecentStates, crowd_levels
from recommend.profiles import TasteCache
from recommend.vectors import reindex
from server.clock import local_now

log = logging.getLogger("etour.recommend")

CATALOGUE_TTL_SECONDS = 600.0  # a snapshot older than this is rebuilt in the background
CROWD_TTL_SECONDS = 10.0


class CrowdSnapshot:
    """Today's crowd level of every visible venue, read again in the background once it is
    more than `ttl_seconds` old (the old one answers meanwhile)."""

    def __init__(self, ttl_seconds: float = CROWD_TTL_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self._levels: Mapping[int, str | None] | None = None
        self._day: date | None = None
        self._read_at = 0.0
        self._reading: asyncio.Task | None = None

    def levels(self, day: date) -> Mapping[int, str | None] | None:
        """The levels on `day` (today), or None until a first snapshot of that day is read (the
        caller then reads its own venues'); starts a read when there is none or it is old."""
        stale = time.monotonic() - self._read_at > self.ttl_seconds or self._day != day
        if stale and (self._reading is None or self._reading.done()):
            self._reading = asyncio.create_task(self._read(day), name="crowd-snapshot")
        return self._levels if self._day == day else None

    async def _read(self, day: date) -> None:
        from server.venues.models import Venue

        try:
            venues = await Venue.filter(hidden=False).values_list("id", "instant_capacity")
            levels = await crowd_levels([CrowdBasis(*row) for row in venues], day=day)
        except Exception:
            log.exception("reading the crowd snapshot failed; requests read their own")
            return
        self._levels, self._day, self._read_at = levels, day, time.monotonic()

    async def stop(self) -> None:
        """Cancel a read under way."""
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._reading


class Recommender:
    """One app's recommendation state: its embedder, warm-up and catalogue snapshot."""

    def __init__(self, model_name: str, *, ttl_seconds: float = CATALOGUE_TTL_SECONDS) -> None:
        limit_blas_threads()
        self.embedder: Embedder = embedder_for(model_name)
        self.ttl_seconds = ttl_seconds
        self.warming: asyncio.Task | None = None
        self._catalogue: Catalogue | None = None
        self._loaded_at = 0.0
        self._refreshing: asyncio.Task | None = None
        self._lock: asyncio.Lock | None = None
        self.tastes = TasteCache()
        self.crowd_snapshot = CrowdSnapshot()
        self.recent_states = RecentStates()

    def crowds(self) -> Mapping[int, str | None] | None:
        """Today's crowd levels by venue from a snapshot seconds old (None until there is one)."""
        return self.crowd_snapshot.levels(local_now().date())

    @property
    def state(self) -> EmbedderState | None:
        """warming, ready or failed once the warm-up started; None when it was never started."""
        return warm_up_state(self.warming)

    def health(self) -> dict[str, str]:
        """What /healthz shows: {"embeddings": state}, nothing when no warm-up was started."""
        state = self.state
        return {} if state is None else {"embeddings": state.value}

    def start_warming(self) -> None:
        """Encode what is new or changed (loading the model in a thread first, if anything
        is), then rebuild the catalogue: in the background, so the server answers meanwhile."""
        if self.warming is None:
            self.warming = asyncio.create_task(self._warm(), name="embedding-warm-up")

    async def _warm(self) -> None:
        started = time.perf_counter()
        try:
            # Nothing new to encode (vectors stored by `etour reindex` or an earlier start):
            # nothing loads torch, and the server stays light.
            report = await reindex(embedder=self.embedder)
            self._catalogue = await self._load()
        except Exception:
            log.exception("embedding model %s failed to warm up", self.embedder.model_name)
            raise
        log.info(
            "embeddings ready in %.1f s (%d items encoded, %d unchanged)",
            time.perf_counter() - started,
            report.encoded,
            report.unchanged,
        )

    async def stop(self) -> None:
        """Cancel the warm-up, any refresh and crowd read (the model thread finishes alone)."""
        for task in (self.warming, self._refreshing):
            if task is not None and not task.done():
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await task
        await self.crowd_snapshot.stop()

    async def _load(self) -> Catalogue:
        catalogue = await load_catalogue(
            model=self.embedder.model_name, now=local_now(), embedder=self.embedder
        )
        self._loaded_at = time.monotonic()
        # Tens of thousands of long-lived items would otherwise be walked by every full garbage
        # collection, a pause of several milliseconds in the middle of some request.
        gc.freeze()
        return catalogue

    async def _refresh(self) -> None:
        try:
            # Encodes what was added or changed meanwhile, loading the model only if need be.
            await reindex(embedder=self.embedder)
            self._catalogue = await self._load()
        except Exception:
            log.exception("refreshing the recommendation catalogue failed; keeping the old one")

    async def catalogue(self) -> Catalogue:
        """The current snapshot: built on first use, refreshed in the background when stale."""
        if self._catalogue is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._catalogue is None:
                    self._catalogue = await self._load()
        elif time.monotonic() - self._loaded_at > self.ttl_seconds and (
            self._refreshing is None or self._refreshing.done()
        ):
            self._refreshing = asyncio.create_task(self._refresh(), name="catalogue-refresh")
        return self._catalogue

    def forget(self) -> None:
        """Drop the snapshot: the next request builds a new one (after a reindex)."""
        self._catalogue = None


def warm_up_state(task: asyncio.Task | None) -> EmbedderState | None:
    """A warm-up task's state: warming, ready or failed; None when it was never started."""
    if task is None:
        return None
    if not task.done():
        return EmbedderState.WARMING
    if task.cancelled() or task.exception() is not None:
        return EmbedderState.FAILED
    return EmbedderState.READY
