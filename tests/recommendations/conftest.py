"""Recommendation tests: the default model, loaded once per session with the network cut off,
and the Wenzhou demo data with its vectors.

HF_HUB_OFFLINE is set before anything imports huggingface_hub: nothing may download weights.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pytest

from recommend.catalogue import Catalogue, load_catalogue
from recommend.embedder import DEFAULT_MODEL, Embedder, embedder_for
from recommend.vectors import reindex
from recommendations.factories import NOW

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@contextmanager
def network_cut_off() -> Iterator[list[object]]:
    """Refuse every outgoing connection except to loopback; yield the addresses refused."""
    refused: list[object] = []
    connect = socket.socket.connect

    def guarded(sock: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if sock.family == socket.AF_UNIX or host in _LOOPBACK:
            return connect(sock, address)
        refused.append(address)
        raise OSError(f"network cut off in tests: {address}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", guarded)
        yield refused


class SessionEncoder:
    """The session's model, remembering each text it encoded: tests build the same demo data
    again and again, and encoding it once is enough. Same interface as recommend's Embedder."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.model_name = embedder.model_name
        self.is_ready = True
        self._vectors: dict[str, np.ndarray] = {}

    def load(self) -> None:
        """Loaded already."""

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.embedder.encode(missing), strict=True))
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.stack([self._vectors[text] for text in texts])


@pytest.fixture(scope="session")
def model_load() -> tuple[Embedder, list[object]]:
    """The default model, loaded once for the session with no network; and what it tried."""
    with network_cut_off() as refused:
        embedder = embedder_for(DEFAULT_MODEL)
        embedder.load()
    return embedder, refused


@pytest.fixture(scope="session")
def encoder(model_load) -> SessionEncoder:
    """The session's model behind a text cache."""
    return SessionEncoder(model_load[0])


@dataclass
class Demo:
    """The demo catalogue, indexed, and its items' ids by code ("wenzhou-museum": "venue:1")."""

    catalogue: Catalogue
    ids: dict[str, str]
    encoder: SessionEncoder

    async def reload(self, now: datetime = NOW) -> Catalogue:
        """Reindex and load the catalogue again (after the test changed something)."""
        await reindex(embedder=self.encoder)
        self.catalogue = await load_catalogue(model=self.encoder.model_name, now=now)
        return self.catalogue

    def item_id(self, code: str) -> str:
        return self.ids[code]


async def load_demo(encoder: SessionEncoder, now: datetime = NOW) -> Demo:
    """Seed the demo venues (a day of slots), food map and tours; encode; load the catalogue."""
    from server.food.demo import load_demo_food
    from server.food.models import Dish, Restaurant
    from server.tours.demo import load_demo_tours
    from server.tours.models import Tour
    from server.venues.demo import load_demo_catalogue
    from server.venues.models import Venue

    await load_demo_catalogue(today=now.date(), days=1)
    await load_demo_food()
    await load_demo_tours()
    ids: dict[str, str] = {}
    for model, kind in (
        (Venue, "venue"),
        (Restaurant, "restaurant"),
        (Dish, "dish"),
        (Tour, "tour"),
    ):
        for number, code in await model.all().values_list("id", "code"):
            ids[code] = f"{kind}:{number}"
    demo = Demo(catalogue=None, ids=ids, encoder=encoder)  # type: ignore[arg-type]
    await demo.reload(now)
    return demo


@pytest.fixture
async def demo(database, encoder) -> Demo:
    """The demo data in this test's database, with vectors and a loaded catalogue."""
    return await load_demo(encoder)
