"""Stored item vectors and `reindex`: each item is encoded once per content, in batches.

Vectors live in the database (ItemEmbedding), keyed by model and item and stamped with the hash
of the content they were computed from, so every worker and machine shares them and a restart
encodes nothing. `reindex` encodes only what is new or changed and forgets items that are gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from recommend.embedder import Embedder, in_daemon_thread
from recommend.items import Item, load_items
from recommend.models import ItemEmbedding
from recommend.profiles import interest_items
from recommend.texts import embedding_tools_ready

log = logging.getLogger("etour.recommend")

REINDEX_BATCH_SIZE = 512
VECTOR_DTYPE = np.dtype("<f4")


def vector_bytes(vector: np.ndarray) -> bytes:
    """A vector as stored: little-endian float32."""
    return np.asarray(vector, dtype=VECTOR_DTYPE).tobytes()


def vector_from(stored: bytes) -> np.ndarray:
    """A stored vector back as a float32 array."""
    return np.frombuffer(stored, dtype=VECTOR_DTYPE).astype(np.float32)


async def stored_hashes(model: str) -> dict[str, str]:
    """The content hash of every stored vector of `model`, by item id."""
    return dict(await ItemEmbedding.filter(model=model).values_list("item_id", "content_hash"))


async def stored_vectors(model: str) -> dict[str, np.ndarray]:
    """Every stored vector of `model`, by item id."""
    rows = await ItemEmbedding.filter(model=model).values_list("item_id", "vector")
    return {item_id: vector_from(stored) for item_id, stored in rows}


async def save_vectors(
    model: str,
    items: Sequence[Item],
    vectors: np.ndarray,
    hashes: Mapping[str, str] | None = None,
) -> None:
    """Store the items' vectors with their content hashes (from `hashes` when computed
    already), replacing older ones."""
    ids = [item.id for item in items]
    hashes = hashes or {}
    rows = [
        ItemEmbedding(
            model=model,
            item_id=item.id,
            content_hash=hashes.get(item.id) or item.content_hash(),
            vector=vector_bytes(vector),
        )
        for item, vector in zip(items, vectors, strict=True)
    ]
    try:
        async with in_transaction():
            await ItemEmbedding.filter(model=model, item_id__in=ids).delete()
            await ItemEmbedding.bulk_create(rows)
    except IntegrityError:
        # Another worker stored the same items a moment ago (several warm up at once): theirs do.
        log.info("vectors of %d items were stored concurrently; keeping those", len(rows))


@dataclass(frozen=True)
class ReindexReport:
    """What a reindex did, and how fast it encoded."""

    model: str
    items: int
    encoded: int
    removed: int
    seconds: float  # the whole reindex: reading the catalogue, loading the model, encoding
    encode_seconds: float  # building texts, encoding and storing them
    encode_cpu_seconds: float = 0.0  # the process's CPU time meanwhile (all threads)

    @property
    def unchanged(self) -> int:
        """Items whose stored vector was still current."""
        return self.items - self.encoded

    @property
    def items_per_second(self) -> float:
        """Items encoded (texts built, encoded, stored) per second of encoding work."""
        return self.encoded / self.encode_seconds if self.encode_seconds > 0 else 0.0


def _texts(items: Sequence[Item]) -> list[str]:
    return [item.text() for item in items]


async def reindex(
    *,
    embedder: Embedder,
    full: bool = False,
    batch_size: int = REINDEX_BATCH_SIZE,
    on_total: Callable[[int], object] = lambda _: None,
    on_progress: Callable[[int], object] = lambda _: None,
) -> ReindexReport:
    """Encode the new and changed items (every item with `full`) and the interests; store them.

    The model is loaded only when something is to be encoded (the content hash of every item is
    compared first, which needs no model). Building texts, encoding and storing run as a
    pipeline in threads: the encoder is kept busy, and the event loop stays free for requests
    during a server warm-up.
    """
    started = time.perf_counter()
    model = embedder.model_name
    documents = [*await load_items(include_hidden=True), *interest_items()]
    current = await stored_hashes(model)
    wanted = {item.id for item in documents}
    stale = [item_id for item_id in current if item_id not in wanted]
    if stale:
        await ItemEmbedding.filter(model=model, item_id__in=stale).delete()
    hashes = {item.id: item.content_hash() for item in documents}
    todo = [item for item in documents if full or current.get(item.id) != hashes[item.id]]
    on_total(len(todo))
    if todo:
        # Set-up, like loading the model: jieba's dictionaries (a few seconds), alongside it.
        await asyncio.gather(
            in_daemon_thread(embedding_tools_ready),
            in_daemon_thread(embedder.load) if not embedder.is_ready else asyncio.sleep(0),
        )
    encoding_started, cpu_started = time.perf_counter(), time.process_time()
    batches = [todo[first : first + batch_size] for first in range(0, len(todo), batch_size)]
    # A pipeline, so the encoder never waits: while batch i is encoded (in a thread), the texts
    # of batch i+1 are built (jieba, in another) and batch i-1 is stored.
    building = asyncio.create_task(in_daemon_thread(_texts, batches[0])) if batches else None
    storing: asyncio.Task | None = None
    try:
        for number, batch in enumerate(batches):
            texts = await building
            encoding = asyncio.create_task(in_daemon_thread(embedder.encode, texts))
            if number + 1 < len(batches):
                building = asyncio.create_task(in_daemon_thread(_texts, batches[number + 1]))
            vectors = await encoding
            if storing is not None:
                await storing
            storing = asyncio.create_task(_store(model, batch, vectors, hashes, on_progress))
        if storing is not None:
            await storing
    finally:
        for task in (building, storing):
            if task is not None and not task.done():
                task.cancel()
    finished = time.perf_counter()
    return ReindexReport(
        model=model,
        items=len(documents),
        encoded=len(todo),
        removed=len(stale),
        seconds=finished - started,
        encode_seconds=finished - encoding_started,
        encode_cpu_seconds=time.process_time() - cpu_started,
    )


async def _store(
    model: str,
    batch: list[Item],
    vectors: np.ndarray,
    hashes: Mapping[str, str],
    on_progress: Callable[[int], object],
) -> None:
    await save_vectors(model, batch, vectors, hashes)
    on_progress(len(batch))
