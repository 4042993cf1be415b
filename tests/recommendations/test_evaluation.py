"""The offline evaluation: persona-shaped synthetic logs, and the recommender beating popularity."""

from __future__ import annotations

import random
from collections import Counter

from recommend.evaluation import (
    POPULARITY,
    RECOMMENDER,
    evaluate,
    hit_and_ndcg,
    report_table,
    synthetic_catalogue,
    synthetic_visitors,
)


def _world(seed: int):
    rng = random.Random(seed)
    world = synthetic_catalogue(rng, items=150)
    synthetic_visitors(rng, world, visitors=50)
    return world


def test_synthetic_logs_are_reproducible_and_follow_the_personas():
    first, second = _world(5), _world(5)
    assert [v.signals for v in first.visitors] == [v.signals for v in second.visitors]
    kinds = {item.id: item.kind for item in first.items}
    for persona, expected in (
        ("hikers", {"scenic_area", "tour"}),
        ("foodies", {"restaurant", "dish"}),
    ):
        seen = Counter(
            kinds[signal.item_id]
            for visitor in first.visitors
            if visitor.persona == persona
            for signal in visitor.signals
            if signal.kind == "view"
        )
        assert sum(seen[kind] for kind in expected) > 0.5 * sum(seen.values())


def test_hit_rate_and_ndcg_of_a_ranking():
    assert hit_and_ndcg(["a", "b", "c"], {"a"}) == (1.0, 1.0)
    hit, ndcg = hit_and_ndcg(["x", "a"], {"a", "b"})
    assert hit == 1.0 and 0 < ndcg < 1
    assert hit_and_ndcg(["x"], {"a"}) == (0.0, 0.0)


def test_the_recommender_beats_the_popularity_baseline(encoder):
    report = evaluate(encode=encoder.encode, visitors=200, items=200, seed=7)
    ours, baseline = report.score(RECOMMENDER), report.score(POPULARITY)
    assert report.visitors > 150 and report.held_out > report.visitors
    assert ours.hit_rate > baseline.hit_rate and ours.ndcg > baseline.ndcg
    assert "hit-rate@10" in report_table(report)
