"""The exact vector index: the true top-k, in order, with type filters and exclusions."""

from __future__ import annotations

import numpy as np

from recommend.embedder import normalised
from recommend.index import ExactIndex, top_rows


def _random_index(count: int = 500, dimension: int = 32, seed: int = 3) -> ExactIndex:
    rng = np.random.default_rng(seed)
    kinds = ["venue", "restaurant", "dish", "tour"]
    ids = [f"{kinds[n % 4]}:{n}" for n in range(count)]
    return ExactIndex(ids, rng.normal(size=(count, dimension)).astype(np.float32))


def test_search_finds_the_true_top_k_in_order():
    index = _random_index()
    query = normalised(np.random.default_rng(9).normal(size=32))
    hits = index.search(query, 10)
    brute = np.argsort(-(index.matrix @ query))[:10]
    assert hits.ids == [index.ids[row] for row in brute]
    assert np.all(np.diff(hits.scores) <= 0)
    assert np.allclose(np.linalg.norm(index.matrix, axis=1), 1.0, atol=1e-5)


def test_search_keeps_to_the_types_asked_and_leaves_out_the_excluded():
    index = _random_index()
    query = index.vectors(["venue:0"])[0]
    hits = index.search(query, 20, types={"restaurant", "tour"}, exclude={"restaurant:1"})
    assert hits.ids and all(item.split(":")[0] in ("restaurant", "tour") for item in hits.ids)
    assert "restaurant:1" not in hits.ids
    assert index.search(query, 5, exclude={"venue:0"}).ids[0] != "venue:0"
    assert index.search(query, 5).ids[0] == "venue:0"


def test_several_queries_take_the_best_weighted_similarity_in_one_search():
    index = _random_index()
    first, second = index.vectors(["venue:0", "dish:2"])
    hits = index.search(np.stack([first, second]), 2, weights=[1.0, 0.9])
    assert set(hits.ids) == {"venue:0", "dish:2"}
    assert hits.similarities.shape == (2, 2)


def test_top_rows_handles_k_beyond_the_size_and_zero():
    scores = np.array([0.1, 0.9, 0.5])
    assert top_rows(scores, 10).tolist() == [1, 2, 0]
    assert top_rows(scores, 0).tolist() == []
