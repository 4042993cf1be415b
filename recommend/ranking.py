"""Ranking: candidates by similarity to the visitor's taste, then a re-rank for the moment.

1. Candidates: the items most similar to the profile vector or to one of the visitor's strongest
   likes (one matrix product for all of them), of the types asked, not done already. A visitor
   with no profile gets the popular and nearby items instead (cold start).
2. Re-rank, on the candidates still visitable at the moment asked (read fresh by the caller):
   similarity, blended with closeness to the visitor, the live crowd (steering people from
   places near their limit to quieter ones: 错峰), being open right then, popularity, and
   evening places in the evening; then maximal marginal relevance (MMR), so that the list is
   not five museums in a row.
3. A short reason per item: "because you liked 江心屿", "near you", "less crowded now" ...

Everything here is pure (numpy, no database), so the offline evaluation and the benchmark run
the very code the API runs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

import numpy as np

from recommend.catalogue import Catalogue
from recommend.index import top_rows
from recommend.items import Item, Live
from recommend.profiles import Profile

EARTH_RADIUS_M = 6_371_008.8
DISTANCE_SCALE_KM = 5.0  # at this distance closeness counts half
NEAR_REASON_M = 3000
ANCHOR_REASON_MIN = 0.3  # a liked item explains a pick only when this similar to it
WIDE_CANDIDATES = 200  # scanned by the profile alone, then scored against the anchors too
EVENING_FROM, EVENING_UNTIL = time(18, 0), time(3, 0)
CROWD_TERMS = {"comfortable": 1.0, "busy": 0.0, "crowded": -1.5, "full": -3.0}
SAME_KIND_REDUNDANCY = 0.5  # for MMR: two items of one kind are this alike at least


@dataclass(frozen=True)
class Weights:
    """How much each signal counts in the re-rank (similarity is in -1..1, the others 0..1)."""

    similarity: float = 1.0
    distance: float = 0.25
    cold_distance: float = 0.5  # with no profile, being near counts double
    crowd: float = 0.15
    open_now: float = 0.08
    popularity: float = 0.15
    cold_popularity: float = 0.6  # with no profile, popularity leads
    night: float = 0.15  # open late, in the evening (夜游, 夜宵)
    diversity: float = 0.3  # MMR: 0 ranks by relevance alone, 1 by novelty alone


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Candidate:
    """An item worth a closer look, how similar it is to the visitor, and to which like most."""

    item_id: str
    similarity: float = 0.0
    anchor: int | None = None  # index into Profile.anchors
    anchor_similarity: float = 0.0


@dataclass(frozen=True)
class Reason:
    """Why an item is shown: a message code with its values, and maybe a second note."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str | None = None
    note_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recommendation:
    """One recommended item with its state, score and reason."""

    item: Item
    live: Live
    score: float
    reason: Reason
    distance_m: float | None = None


def haversine_m(lat: float, lng: float, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres from one point to many (NaN where a position is NaN)."""
    lat1, lng1 = np.radians(lat), np.radians(lng)
    lat2, lng2 = np.radians(lats), np.radians(lngs)
    half_chord = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(half_chord, 0.0, 1.0)))


def closeness(distances_m: np.ndarray) -> np.ndarray:
    """1 on the spot, 1/2 at DISTANCE_SCALE_KM, falling off; 0 where the distance is unknown."""
    near = 1.0 / (1.0 + distances_m / (DISTANCE_SCALE_KM * 1000))
    return np.nan_to_num(near, nan=0.0)


def is_evening(at: datetime) -> bool:
    """True from 18:00 to 03:00 (夜游, 夜宵)."""
    moment = at.time()
    return moment >= EVENING_FROM or moment < EVENING_UNTIL


def _type_mask(catalogue: Catalogue, types: Collection[str] | None) -> np.ndarray | None:
    if types is None:
        return None
    return np.isin(catalogue.types, list(types))


def profile_candidates(
    catalogue: Catalogue, profile: Profile, *, k: int, types: Collection[str] | None = None
) -> list[Candidate]:
    """The k items most similar to the visitor: half to the whole profile, half to the closest
    of its anchors (strongest likes), so a second taste is not averaged away.

    The catalogue is scanned once, by the profile vector (a matrix-vector product: scanning by
    each anchor too costs several times more); the widest few hundred are then scored against
    the anchors.
    """
    if profile.is_cold or not len(catalogue.index):
        return []
    hits = catalogue.index.search(
        profile.vector, max(k, WIDE_CANDIDATES), types=types, exclude=profile.known
    )
    to_profile = hits.scores
    if profile.anchor_vectors is None or not hits.ids:
        return [
            Candidate(item_id, score)
            for item_id, score in zip(hits.ids, to_profile[:k].tolist(), strict=False)
        ]
    to_anchors = hits.vectors @ profile.anchor_vectors.T
    best = to_anchors.argmax(axis=1)
    to_best = to_anchors[np.arange(len(best)), best]
    similarity = 0.5 * (to_profile + to_best)
    rows = top_rows(similarity, k)
    return [
        Candidate(hits.ids[row], score, anchor, anchor_score)
        for row, score, anchor, anchor_score in zip(
            rows.tolist(),
            similarity[rows].tolist(),
            best[rows].tolist(),
            to_best[rows].tolist(),
            strict=True,
        )
    ]


def popular_candidates(
    catalogue: Catalogue,
    *,
    k: int,
    types: Collection[str] | None = None,
    position: tuple[float, float] | None = None,
    evening: bool = False,
    exclude: Collection[str] = (),
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[Candidate]:
    """The k most popular items, nearby ones first when the visitor's position is known, and
    those open late first in the evening."""
    if not catalogue.items:
        return []
    score = weights.cold_popularity * catalogue.popularity.astype(np.float64)
    if evening:
        score = score + weights.night * catalogue.night
    if position is not None:
        distances = haversine_m(*position, catalogue.latitude, catalogue.longitude)
        score = score + weights.cold_distance * closeness(distances)
    mask = _type_mask(catalogue, types)
    if mask is not None:
        score[~mask] = -np.inf
    for item_id in exclude:
        if item_id in catalogue.row_of:
            score[catalogue.row_of[item_id]] = -np.inf
    rows = top_rows(score, k)
    return [Candidate(catalogue.items[row].id) for row in rows if np.isfinite(score[row])]


def mmr_order(relevance: np.ndarray, redundancy: np.ndarray, limit: int, diversity: float) -> list:
    """Maximal marginal relevance: repeatedly take the item best in relevance and least like
    those already taken (`redundancy[i, j]` is how alike i and j are)."""
    count = len(relevance)
    chosen: list[int] = []
    closest = np.zeros(count)
    open_rows = np.ones(count, dtype=bool)
    for _ in range(min(limit, count)):
        marginal = (1 - diversity) * relevance - diversity * closest
        marginal[~open_rows] = -np.inf
        row = int(np.argmax(marginal))
        chosen.append(row)
        open_rows[row] = False
        closest = np.maximum(closest, redundancy[row])
    return chosen


def _redundancy(catalogue: Catalogue, items: list[Item], rows: np.ndarray) -> np.ndarray:
    """How alike each pair of items is: vector cosine, at least SAME_KIND_REDUNDANCY if one kind.

    `rows` are the items' rows in the catalogue."""
    index = catalogue.index
    vectors = np.zeros((len(items), index.dimension), dtype=np.float32)
    indexed = [row for row, item in enumerate(items) if item.id in index]
    if indexed:
        vectors[indexed] = index.vectors([items[row].id for row in indexed])
    alike = vectors @ vectors.T
    kinds = catalogue.kind_codes[rows]
    same_kind = kinds[:, None] == kinds[None, :]
    return np.maximum(alike, SAME_KIND_REDUNDANCY * same_kind)


def rerank(
    candidates: list[Candidate],
    *,
    catalogue: Catalogue,
    profile: Profile,
    live: Mapping[str, Live],
    at: datetime,
    live_now: bool,
    position: tuple[float, float] | None,
    limit: int,
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[Recommendation]:
    """The candidates visitable at `at`, scored for the moment and diversified (MMR).

    `live` holds the fresh state of the candidates: one missing from it is hidden or gone.
    `live_now` says `at` is the present (crowds are the live ones, not a day's bookings).
    """
    kept = []
    states = []
    for candidate in candidates:
        state = live.get(candidate.item_id)
        if state is not None and state.visitable:
            kept.append(candidate)
            states.append(state)
    if not kept:
        return []
    row_list = [catalogue.row_of[c.item_id] for c in kept]
    items = [catalogue.items[row] for row in row_list]
    rows = np.array(row_list)
    count = len(kept)
    similarity = np.fromiter((c.similarity for c in kept), dtype=np.float64, count=count)
    distances = None
    if position is not None:
        # Where the fresh state has no position (a tour: its first stop), the catalogue's.
        lats = np.fromiter(
            (np.nan if s.latitude is None else s.latitude for s in states), np.float64, count
        )
        lngs = np.fromiter(
            (np.nan if s.longitude is None else s.longitude for s in states), np.float64, count
        )
        unplaced = np.isnan(lats)
        lats[unplaced] = catalogue.latitude[rows[unplaced]]
        lngs[unplaced] = catalogue.longitude[rows[unplaced]]
        distances = haversine_m(*position, lats, lngs)
    evening = is_evening(at)
    crowd = np.fromiter((CROWD_TERMS.get(s.crowd_level, 0.0) for s in states), np.float64, count)
    open_now = np.fromiter((s.open_now for s in states), np.float64, count)
    relevance = (
        weights.similarity * similarity
        + (weights.cold_popularity if profile.is_cold else weights.popularity)
        * catalogue.popularity[rows]
        + weights.crowd * crowd
        + weights.open_now * open_now
    )
    if evening:
        relevance += weights.night * catalogue.night[rows]
    if distances is not None:
        nearness = weights.cold_distance if profile.is_cold else weights.distance
        relevance = relevance + nearness * closeness(distances)
    order = mmr_order(relevance, _redundancy(catalogue, items, rows), limit, weights.diversity)
    return [
        Recommendation(
            item=items[row],
            live=states[row],
            score=round(float(relevance[row]), 4),
            reason=reason_for(
                kept[row],
                items[row],
                states[row],
                profile=profile,
                distance_m=None if distances is None else _finite(distances[row]),
                evening=evening,
                live_now=live_now,
            ),
            distance_m=None if distances is None else _finite(distances[row]),
        )
        for row in order
    ]


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _note(item: Item, state: Live, live_now: bool) -> tuple[str | None, dict[str, Any]]:
    if state.crowd_level == "comfortable" and item.type in ("venue", "tour"):
        return ("less_crowded_now" if live_now else "less_crowded_then"), {}
    if not state.open_now and state.opens_at is not None:
        return "opens_at", {"time": state.opens_at.strftime("%H:%M")}
    return None, {}


def reason_for(
    candidate: Candidate,
    item: Item,
    state: Live,
    *,
    profile: Profile,
    distance_m: float | None,
    evening: bool,
    live_now: bool,
) -> Reason:
    """The main reason an item is shown, with a note on its crowd or opening time."""
    note, note_params = _note(item, state, live_now)
    if (
        candidate.anchor is not None
        and candidate.anchor < len(profile.anchors)
        and candidate.anchor_similarity >= ANCHOR_REASON_MIN
    ):
        anchor = profile.anchors[candidate.anchor]
        code = "matches_interest" if anchor.is_interest else "because_you_liked"
        return Reason(code, {"name": anchor.label}, note, note_params)
    if distance_m is not None and distance_m <= NEAR_REASON_M:
        return Reason("nearby", {"distance_m": distance_m}, note, note_params)
    if evening and item.night:
        return Reason("evening", {}, note, note_params)
    return Reason("popular" if profile.is_cold else "for_you", {}, note, note_params)


# --- similar items --------------------------------------------------------------------------


def similar_candidates(
    catalogue: Catalogue, item_id: str, *, k: int, types: Collection[str] | None = None
) -> list[Candidate]:
    """The k items most similar to one item (itself excluded)."""
    if item_id not in catalogue.index:
        return []
    vector = catalogue.index.vectors([item_id])[0]
    hits = catalogue.index.search(vector, k, types=types, exclude=(item_id,))
    return [
        Candidate(hit, score) for hit, score in zip(hits.ids, hits.scores.tolist(), strict=True)
    ]


def rank_similar(
    candidates: list[Candidate],
    *,
    catalogue: Catalogue,
    source: Item,
    live: Mapping[str, Live],
    live_now: bool,
    limit: int,
) -> list[Recommendation]:
    """The similar items open at all that day and not full, by similarity (popularity breaks
    near ties); each says what it is similar to."""
    ranked = []
    for candidate in candidates:
        state = live.get(candidate.item_id)
        if state is None or not state.open_today or state.crowd_level == "full":
            continue
        item = catalogue.items[catalogue.row_of[candidate.item_id]]
        score = candidate.similarity + 0.05 * float(catalogue.popularity[catalogue.row_of[item.id]])
        note, note_params = _note(item, state, live_now)
        reason = Reason("similar_to", {"name": source.name}, note, note_params)
        ranked.append(Recommendation(item, state, round(score, 4), reason))
    ranked.sort(key=lambda rec: -rec.score)
    return ranked[:limit]
