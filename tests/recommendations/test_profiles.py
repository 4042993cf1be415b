"""Visitor profiles: signals weighted by kind, fading with time; favourites that stand."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from recommend.index import ExactIndex
from recommend.profiles import (
    HALF_LIFE_DAYS,
    Signal,
    build_profile,
    decay,
    item_weights,
    known_items,
)
from recommendations.factories import NOW


def test_a_signal_counts_half_after_its_half_life():
    assert decay("view", timedelta(days=HALF_LIFE_DAYS["view"])) == pytest.approx(0.5)
    assert decay("entry", timedelta(0)) == 1.0
    weights = item_weights(
        [Signal("venue:1", "view", NOW - timedelta(days=28)), Signal("venue:2", "view", NOW)],
        now=NOW,
    )
    assert weights["venue:1"] == pytest.approx(weights["venue:2"] / 4)


def test_stronger_signals_weigh_more_and_a_poor_review_pushes_away():
    weights = item_weights(
        [
            Signal("venue:1", "view", NOW),
            Signal("venue:2", "entry", NOW),
            Signal("restaurant:1", "review", NOW, rating=5),
            Signal("restaurant:2", "review", NOW, rating=1),
        ],
        now=NOW,
    )
    assert weights["venue:2"] > weights["venue:1"] > 0
    assert weights["restaurant:1"] > 0 > weights["restaurant:2"]


def test_a_favourite_counts_while_it_stands_and_a_tour_once():
    signals = [
        Signal("venue:1", "favourite", NOW - timedelta(hours=2)),
        Signal("venue:1", "unfavourite", NOW - timedelta(hours=1)),
        Signal("venue:2", "favourite", NOW),
        Signal("tour:1", "tour_visit", NOW - timedelta(minutes=30)),
        Signal("tour:1", "tour_visit", NOW),
    ]
    weights = item_weights(signals, now=NOW)
    assert "venue:1" not in weights and weights["venue:2"] > 0
    assert weights["tour:1"] == pytest.approx(3.0)
    assert known_items(signals) == {"venue:2", "tour:1"}


def test_the_profile_leans_to_what_was_liked_and_names_its_anchors():
    vectors = np.eye(4, dtype=np.float32)
    index = ExactIndex(["venue:1", "venue:2", "dish:1", "dish:2"], vectors)
    profile = build_profile(
        weights={"venue:1": 5.0, "dish:1": 1.0, "restaurant:9": 3.0},  # restaurant:9 not indexed
        interests=["history", "no-such-interest"],
        index=index,
        interest_vectors={"interest:history": vectors[1]},
        label_of=lambda item_id: {"en": item_id},
    )
    assert not profile.is_cold
    assert np.argmax(profile.vector) == 0 and np.isclose(np.linalg.norm(profile.vector), 1)
    assert [anchor.key for anchor in profile.anchors] == [
        "venue:1",
        "interest:history",
        "dish:1",
    ]
    assert profile.anchors[1].is_interest


def test_nothing_known_is_a_cold_profile():
    index = ExactIndex(["venue:1"], np.eye(1, 4, dtype=np.float32))
    profile = build_profile(
        weights={}, interests=[], index=index, interest_vectors={}, label_of=lambda _: {}
    )
    assert profile.is_cold and profile.anchors == []
