"""The re-rank on its own (no database, hand-made vectors): crowds, hours, variety, reasons."""

from __future__ import annotations

from datetime import time

import numpy as np

from recommend.catalogue import make_catalogue
from recommend.embedder import normalised
from recommend.items import Item, Live
from recommend.profiles import build_profile
from recommend.ranking import (
    DEFAULT_WEIGHTS,
    Weights,
    popular_candidates,
    profile_candidates,
    rerank,
)
from recommendations.factories import NOW

DIMENSION = 16


def _item(item_id: str, kind: str, name: str, **fields) -> Item:
    return Item(id=item_id, name={"zh-CN": name, "en": name}, category={}, kind=kind, **fields)


def _world(specs: list[tuple[str, str, np.ndarray]], popularity: dict[str, float] | None = None):
    items = [_item(item_id, kind, item_id) for item_id, kind, _ in specs]
    vectors = {item_id: normalised(vector) for item_id, _, vector in specs}
    return make_catalogue(
        model="test", items=items, vectors=vectors, popularity=popularity or {}, built_at=NOW
    )


def _axis(*weights: float) -> np.ndarray:
    vector = np.zeros(DIMENSION, dtype=np.float32)
    vector[: len(weights)] = weights
    return vector


def _liking(catalogue, liked: str, **extra):
    return build_profile(
        weights={liked: 5.0},
        interests=[],
        index=catalogue.index,
        interest_vectors={},
        label_of=catalogue.label_of,
        known=frozenset({liked}),
        **extra,
    )


def _open(catalogue, **states: Live) -> dict[str, Live]:
    live = {item.id: Live(name=item.name, open_now=True) for item in catalogue.items}
    live.update(states)
    return live


def _rank(catalogue, profile, live, *, limit=5, weights=DEFAULT_WEIGHTS, position=None, at=NOW):
    candidates = profile_candidates(catalogue, profile, k=50)
    return rerank(
        candidates,
        catalogue=catalogue,
        profile=profile,
        live=live,
        at=at,
        live_now=True,
        position=position,
        limit=limit,
        weights=weights,
    )


def _museums_and_parks():
    specs = [("venue:1", "museum", _axis(1, 0, 0, 0.1))]
    specs += [
        (f"venue:{n}", "museum", _axis(1, 0.05 * n, 0, 0, 0.15 * (n % 3))) for n in (2, 3, 4, 5, 6)
    ]
    specs += [(f"venue:{n}", "scenic_area", _axis(1, 0, 0.4, 0, 0, 0.05 * n)) for n in (7, 8, 9)]
    specs += [(f"restaurant:{n}", "restaurant", _axis(0, 0, 0, 1, 0.1 * n)) for n in (1, 2, 3)]
    return _world(specs)


def test_a_crowded_venue_gives_way_to_a_quiet_one_and_a_full_one_is_left_out():
    catalogue = _world(
        [
            ("venue:1", "museum", _axis(1, 0.2)),  # liked
            ("venue:2", "museum", _axis(1, 0.25, 0.05)),  # the most similar, but crowded
            ("venue:3", "museum", _axis(1, 0.1, 0.2)),  # a little less similar, quiet
            ("venue:4", "museum", _axis(1, 0.22, 0.01)),  # very similar, full
            ("restaurant:1", "restaurant", _axis(0, 0, 0, 1)),
        ]
    )
    profile = _liking(catalogue, "venue:1")
    live = _open(
        catalogue,
        **{
            "venue:2": Live(name={}, open_now=True, crowd_level="crowded"),
            "venue:3": Live(name={}, open_now=True, crowd_level="comfortable"),
            "venue:4": Live(name={}, open_now=True, crowd_level="full"),
        },
    )
    candidates = {c.item_id: c.similarity for c in profile_candidates(catalogue, profile, k=10)}
    assert candidates["venue:2"] > candidates["venue:3"]  # similarity alone prefers the crowd
    ranked = [r.item.id for r in _rank(catalogue, profile, live)]
    assert "venue:4" not in ranked
    assert ranked.index("venue:3") < ranked.index("venue:2")
    quiet = next(r for r in _rank(catalogue, profile, live) if r.item.id == "venue:3")
    assert quiet.reason.note == "less_crowded_now"


def test_closed_and_hidden_items_never_appear_and_later_openings_say_when():
    catalogue = _museums_and_parks()
    profile = _liking(catalogue, "venue:1")
    live = _open(
        catalogue,
        **{
            "venue:2": Live(name={}, open_now=False, opens_at=None),  # closed for the day
            "venue:3": Live(name={}, open_now=False, opens_at=time(14, 0)),  # opens later
        },
    )
    del live["venue:4"]  # hidden since the catalogue was loaded: no fresh state
    ranked = _rank(catalogue, profile, live, limit=20)
    ids = [r.item.id for r in ranked]
    assert "venue:2" not in ids and "venue:4" not in ids and "venue:1" not in ids
    later = next(r for r in ranked if r.item.id == "venue:3")
    assert later.reason.note == "opens_at" and later.reason.note_params == {"time": "14:00"}


def test_mmr_mixes_kinds_instead_of_five_museums_in_a_row():
    catalogue = _museums_and_parks()
    profile = _liking(catalogue, "venue:1")
    live = _open(catalogue)
    plain = _rank(catalogue, profile, live, weights=Weights(diversity=0.0))
    varied = _rank(catalogue, profile, live)
    assert [r.item.kind for r in plain] == ["museum"] * 5
    kinds = [r.item.kind for r in varied]
    assert kinds[0] == "museum" and "scenic_area" in kinds


def test_a_liked_item_explains_the_pick():
    catalogue = _museums_and_parks()
    profile = _liking(catalogue, "venue:1")
    first = _rank(catalogue, profile, _open(catalogue))[0]
    assert first.reason.code == "because_you_liked"
    assert first.reason.params == {"name": {"zh-CN": "venue:1", "en": "venue:1"}}


def test_cold_start_takes_popular_and_nearby_items():
    items = [
        _item("venue:1", "museum", "far and famous", latitude=28.4, longitude=121.0),
        _item("venue:2", "museum", "near", latitude=28.0001, longitude=120.6501),
        _item("venue:3", "street", "nowhere special", latitude=28.3, longitude=120.9),
        _item("dish:1", "dish", "no position"),
    ]
    catalogue = make_catalogue(
        model="test",
        items=items,
        vectors={},
        popularity={"venue:1": 1.0, "venue:2": 0.3, "venue:3": 0.2, "dish:1": 0.4},
        built_at=NOW,
    )
    anywhere = [c.item_id for c in popular_candidates(catalogue, k=4)]
    assert anywhere[0] == "venue:1"
    here = [c.item_id for c in popular_candidates(catalogue, k=4, position=(28.0, 120.65))]
    assert here[0] == "venue:2"
    assert [c.item_id for c in popular_candidates(catalogue, k=4, types={"dish"})] == ["dish:1"]
