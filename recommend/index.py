"""Nearest items by cosine similarity: an interface, and the exact numpy index used here.

For the catalogue sizes of one city (thousands to tens of thousands of items) an exact search
over a normalised float32 matrix takes about a millisecond, so there is nothing to approximate.
A pgvector (`ORDER BY embedding <=> :q LIMIT k` with a type filter) or FAISS backend for
millions of items implements the same `VectorIndex` protocol.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from recommend.embedder import normalised


@dataclass(frozen=True)
class Hits:
    """The best items for a search, best first, with each query's similarity to each of them.

    `similarities[i, j]` is the cosine of item `ids[i]` with query `j`; `scores[i]` is what the
    items were ordered by (the best of the weighted queries); `vectors[i]` is item `ids[i]`'s
    unit vector, so a re-rank needs no second look-up.
    """

    ids: list[str]
    scores: np.ndarray  # (k,)
    similarities: np.ndarray  # (k, queries)
    vectors: np.ndarray  # (k, dimension)


class VectorIndex(Protocol):
    """Items' unit vectors, searchable by cosine similarity with a type filter."""

    dimension: int

    def __len__(self) -> int: ...

    def __contains__(self, item_id: object) -> bool: ...

    def vectors(self, item_ids: Sequence[str]) -> np.ndarray:
        """The items' vectors, one row each, in the order asked (all must be in the index)."""
        ...

    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        weights: Sequence[float] | None = None,
        types: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Hits:
        """The k items (of `types`, none of `exclude`) whose best weighted similarity to one of
        the unit `queries` (a vector, or a matrix of one per row) is highest, best first."""
        ...


def item_type(item_id: str) -> str:
    """The type part of an item id: "venue" for "venue:12"."""
    return item_id.partition(":")[0]


class ExactIndex:
    """Exact top-k over a normalised float32 matrix: one matrix product, then argpartition."""

    def __init__(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(ids) != vectors.shape[0]:
            raise ValueError("one vector row per id is needed")
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        self.ids = list(ids)
        self.matrix = np.ascontiguousarray(normalised(vectors))
        self.dimension = int(vectors.shape[1])
        self.row_of = {item_id: row for row, item_id in enumerate(self.ids)}
        types = np.array([item_type(item_id) for item_id in self.ids])
        self._type_rows = {name: types == name for name in set(types.tolist())}

    @classmethod
    def empty(cls, dimension: int) -> ExactIndex:
        """An index with no items."""
        return cls([], np.zeros((0, dimension), dtype=np.float32))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.row_of

    def vectors(self, item_ids: Sequence[str]) -> np.ndarray:
        """The items' rows of the matrix, in the order asked."""
        return self.matrix[[self.row_of[item_id] for item_id in item_ids]]

    def allowed_rows(self, types: Collection[str] | None) -> np.ndarray | None:
        """A boolean mask of the rows of `types` (None: every row)."""
        if types is None:
            return None
        mask = np.zeros(len(self.ids), dtype=bool)
        for name in types:
            if name in self._type_rows:
                mask |= self._type_rows[name]
        return mask

    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        weights: Sequence[float] | None = None,
        types: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Hits:
        """Exact search: every item is scored (see VectorIndex.search)."""
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        if not len(self.ids) or k <= 0:
            return Hits(
                [],
                np.zeros(0, np.float32),
                np.zeros((0, len(queries)), np.float32),
                np.zeros((0, self.dimension), np.float32),
            )
        if len(queries) == 1 and weights is None:
            # A matrix-vector product: several times faster than a one-column matrix product.
            # The masking below touches only rows it leaves out, so the scores of the rows kept
            # are their similarities.
            scores = self.matrix @ queries[0]
            similarities = None
        else:
            similarities = self.matrix @ queries.T  # (n, queries)
            weighted = similarities * np.asarray(
                weights if weights is not None else np.ones(len(queries)), dtype=np.float32
            )
            scores = weighted.max(axis=1)
        mask = self.allowed_rows(types)
        if mask is not None:
            scores[~mask] = -np.inf
        excluded = [self.row_of[item_id] for item_id in exclude if item_id in self.row_of]
        scores[excluded] = -np.inf
        rows = top_rows(scores, k)
        rows = rows[np.isfinite(scores[rows])]
        ids = self.ids
        return Hits(
            [ids[row] for row in rows.tolist()],
            scores[rows],
            scores[rows][:, None] if similarities is None else similarities[rows],
            self.matrix[rows],
        )


BLAS_THREADS = 1


def limit_blas_threads(threads: int = BLAS_THREADS) -> None:
    """Let numpy's BLAS use `threads` threads in this process.

    A search is one matrix-vector product, bound by memory, not arithmetic: a second thread
    barely speeds it up, and on a busy machine OpenBLAS threads spinning against other work make
    it several times slower (the embedding model uses one thread for the same reason).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The rows of the k highest scores, highest first (argpartition, then sort only those k)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return rows[np.argsort(-scores[rows], kind="stable")]


def build_index(pairs: Iterable[tuple[str, np.ndarray]], dimension: int) -> ExactIndex:
    """An exact index of (item id, vector) pairs."""
    pairs = list(pairs)
    if not pairs:
        return ExactIndex.empty(dimension)
    ids = [item_id for item_id, _ in pairs]
    return ExactIndex(ids, np.stack([vector for _, vector in pairs]))
