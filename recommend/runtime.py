"""Recommendations inside a running server: the model warming up in the background, and the
catalogue snapshot kept fresh.

The server answers at once after start: the model (seconds to load) warms up in a thread, then
new and changed items are encoded; meanwhile recommendations use the vectors already stored (or
popularity and distance alone on a brand-new database), and /healthz says "warming". Importing
this module does not import torch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress

from recommend.catalogue import Catalogue, load_catalogue
from recommend.embedder import Embedder, EmbedderState, embedder_for
from recommend.vectors import reindex
from server.clock import local_now

log = logging.getLogger("etour.recommend")

CATALOGUE_TTL_SECONDS = 600.0  # a snapshot older than this is rebuilt in the background


class Recommender:
    """One app's recommendation state: its embedder, warm-up and catalogue snapshot."""

    def __init__(self, model_name: str, *, ttl_seconds: float = CATALOGUE_TTL_SECONDS) -> None:
        self.embedder: Embedder = embedder_for(model_name)
        self.ttl_seconds = ttl_seconds
        self.warming: asyncio.Task | None = None
        self._catalogue: Catalogue | None = None
        self._loaded_at = 0.0
        self._refreshing: asyncio.Task | None = None
        self._lock: asyncio.Lock | None = None

    @property
    def state(self) -> EmbedderState | None:
        """warming, ready or failed once the warm-up started; None when it was never started."""
        if self.warming is None:
            return None
        if not self.warming.done():
            return EmbedderState.WARMING
        if self.warming.cancelled() or self.warming.exception() is not None:
            return EmbedderState.FAILED
        return EmbedderState.READY

    def health(self) -> dict[str, str]:
        """What /healthz shows: {"embeddings": state}, nothing when no warm-up was started."""
        state = self.state
        return {} if state is None else {"embeddings": state.value}

    def start_warming(self) -> None:
        """Load the model in a thread, encode what is new, rebuild the catalogue: in the
        background, so the server answers meanwhile."""
        if self.warming is None:
            self.warming = asyncio.create_task(self._warm(), name="embedding-warm-up")

    async def _warm(self) -> None:
        started = time.perf_counter()
        try:
            await asyncio.to_thread(self.embedder.load)
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
        """Cancel the warm-up and any refresh (the model thread finishes on its own)."""
        for task in (self.warming, self._refreshing):
            if task is not None and not task.done():
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await task

    async def _load(self) -> Catalogue:
        catalogue = await load_catalogue(
            model=self.embedder.model_name, now=local_now(), embedder=self.embedder
        )
        self._loaded_at = time.monotonic()
        return catalogue

    async def _refresh(self) -> None:
        try:
            if self.embedder.is_ready:
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
