"""Visitor profiles: what a visitor did and chose, turned into a taste vector.

Signals come from this package's events (views, favourites, chat interest) and from the other
domains (bookings, gate entries, restaurant reviews, tour stops visited). Each has a weight that
halves with time (views fade within weeks, bookings and entries within months); a favourite
counts while it stands; a poor review pushes away. Interests chosen at onboarding count as
strong, unfading signals, which is what a new visitor's recommendations start from.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from recommend.index import VectorIndex
from recommend.items import Item

log = logging.getLogger("etour.recommend")

# How much one signal says about taste, before it fades.
KIND_WEIGHTS = {
    "view": 1.0,
    "chat_interest": 2.0,
    "favourite": 4.0,
    "tour_visit": 3.0,
    "reservation": 5.0,
    "entry": 6.0,
    "review": 3.0,  # times (rating - 3) / 2: five stars +3, one star -3
}
# Days after which a signal counts half.
HALF_LIFE_DAYS = {"view": 14.0, "chat_interest": 30.0}
DEFAULT_HALF_LIFE_DAYS = 90.0
INTEREST_WEIGHT = 4.0
# Done already: booked, entered, reviewed or walked; not recommended again.
CONSUMED_KINDS = frozenset({"reservation", "entry", "review", "tour_visit"})
HORIZON = timedelta(days=365)
MAX_EVENTS = 500
ANCHORS = 3  # the strongest likes, kept apart so a second taste is not averaged away


@dataclass(frozen=True)
class Interest:
    """An interest offered at onboarding: its label, and the text its vector comes from."""

    code: str
    label: Mapping[str, str]
    text: Mapping[str, str]


def _interest(code: str, zh: str, en: str, zh_text: str, en_text: str) -> Interest:
    return Interest(code, {"zh-CN": zh, "en": en}, {"zh-CN": zh_text, "en": en_text})


INTERESTS: dict[str, Interest] = {
    interest.code: interest
    for interest in (
        _interest("history", "历史文化", "History and culture",
                  "历史 文化 古迹 名人故居 古代 传统 祠堂",
                  "history, culture, ancient heritage, historic figures, traditions"),
        _interest("museums", "博物馆与展览", "Museums and exhibitions",
                  "博物馆 展览 文物 藏品 陈列 展馆",
                  "museum, exhibition, relics, collections, galleries"),
        _interest("nature", "山水风光", "Mountains and rivers",
                  "自然风光 山水 瀑布 峡谷 溪流 森林 风景名胜区",
                  "nature, mountains, waterfalls, gorges, rivers, forests, scenic area"),
        _interest("hiking", "徒步登山", "Hiking",
                  "徒步 登山 爬山 步道 峰 岩 户外",
                  "hiking, climbing, trails, peaks, cliffs, outdoors"),
        _interest("seaside", "海岛海滨", "Islands and the sea",
                  "海岛 海滨 沙滩 海景 渔村 灯塔",
                  "islands, seaside, beaches, sea views, fishing villages, lighthouses"),
        _interest("food", "地道美食", "Local food",
                  "美食 小吃 特色菜 餐厅 老字号 早点",
                  "local food, snacks, specialities, restaurants, old brands, breakfast"),
        _interest("seafood", "海鲜", "Seafood",
                  "海鲜 鱼 蟹 虾 江蟹生 鱼丸",
                  "seafood, fish, crab, shrimp, raw crab, fish balls"),
        _interest("night", "夜游与夜生活", "Evenings and night life",
                  "夜游 夜景 夜市 夜宵 灯光秀 游船",
                  "night tour, night views, night market, late-night food, light show, cruise"),
        _interest("family", "亲子游", "Family days out",
                  "亲子 儿童 家庭 游玩 公园 科普",
                  "family, children, kids, play, parks, science for kids"),
        _interest("arts", "艺术演出", "Arts and shows",
                  "剧院 演出 戏曲 音乐会 艺术 南戏",
                  "theatre, shows, opera, concerts, arts"),
        _interest("shopping", "老街购物", "Old streets and shopping",
                  "老街 步行街 购物 老字号 商业街 街区",
                  "old streets, pedestrian streets, shopping, old brands, historic quarter"),
        _interest("reading", "阅读书香", "Libraries and reading",
                  "图书馆 阅读 书店 书香 讲座",
                  "library, reading, bookshops, lectures"),
    )
}  # fmt: skip


def interest_items() -> list[Item]:
    """The interests as items ("interest:history"), so their vectors are stored like items'."""
    return [
        Item(
            id=f"interest:{interest.code}",
            name=interest.label,
            category={"zh-CN": "兴趣", "en": "interest"},
            description=interest.text,
        )
        for interest in INTERESTS.values()
    ]


@dataclass(frozen=True)
class Signal:
    """One thing a visitor did with an item, and when."""

    item_id: str
    kind: str
    at: datetime
    rating: int | None = None  # reviews only


def decay(kind: str, age: timedelta) -> float:
    """The share of a signal's weight left after `age` (halving every half-life)."""
    days = max(age.total_seconds(), 0.0) / 86400
    return 0.5 ** (days / HALF_LIFE_DAYS.get(kind, DEFAULT_HALF_LIFE_DAYS))


def item_weights(signals: Iterable[Signal], *, now: datetime) -> dict[str, float]:
    """Each item's weight in the visitor's taste: signals weighted, faded, summed.

    A favourite counts only while it stands (an unfavourite after it removes it); a review
    counts by its rating; a tour counts once however many of its stops were visited.
    """
    weights: dict[str, float] = {}
    favourite_since: dict[str, datetime | None] = {}
    tours: dict[str, datetime] = {}
    for signal in sorted(signals, key=lambda s: s.at):
        if signal.kind == "favourite":
            favourite_since[signal.item_id] = signal.at
            continue
        if signal.kind == "unfavourite":
            favourite_since[signal.item_id] = None
            continue
        if signal.kind == "tour_visit":
            tours[signal.item_id] = signal.at
            continue
        weight = KIND_WEIGHTS.get(signal.kind, 0.0)
        if signal.kind == "review":
            weight *= ((signal.rating or 3) - 3) / 2
        weights[signal.item_id] = weights.get(signal.item_id, 0.0) + weight * decay(
            signal.kind, now - signal.at
        )
    for item_id, since in favourite_since.items():
        if since is not None:
            weights[item_id] = weights.get(item_id, 0.0) + KIND_WEIGHTS["favourite"] * decay(
                "favourite", now - since
            )
    for item_id, last in tours.items():
        weights[item_id] = weights.get(item_id, 0.0) + KIND_WEIGHTS["tour_visit"] * decay(
            "tour_visit", now - last
        )
    return weights


def known_items(signals: Iterable[Signal]) -> frozenset[str]:
    """Items not to recommend again: booked, entered, reviewed, walked, or a standing favourite
    (the visitor has those on their list already)."""
    favourites: dict[str, bool] = {}
    for signal in sorted(signals, key=lambda s: s.at):
        if signal.kind in ("favourite", "unfavourite"):
            favourites[signal.item_id] = signal.kind == "favourite"
    done = {signal.item_id for signal in signals if signal.kind in CONSUMED_KINDS}
    return frozenset(done | {item_id for item_id, standing in favourites.items() if standing})


@dataclass(frozen=True)
class Anchor:
    """One of the visitor's strongest likes: an item or an interest, with its label."""

    key: str  # "venue:2" or "interest:history"
    label: Mapping[str, str]
    weight: float

    @property
    def is_interest(self) -> bool:
        """True for an interest chosen at onboarding."""
        return self.key.startswith("interest:")


@dataclass(frozen=True)
class Profile:
    """A visitor's taste: a unit vector, the strongest likes apart, and the items they know.

    `vector` is None for a visitor about whom nothing is known yet (cold start).
    """

    vector: np.ndarray | None
    anchors: list[Anchor] = field(default_factory=list)
    anchor_vectors: np.ndarray | None = None  # (len(anchors), dimension)
    known: frozenset[str] = frozenset()
    weights: Mapping[str, float] = field(default_factory=dict)

    @property
    def is_cold(self) -> bool:
        """True when nothing is known of the visitor's taste."""
        return self.vector is None


def build_profile(
    *,
    weights: Mapping[str, float],
    interests: Sequence[str],
    index: VectorIndex,
    interest_vectors: Mapping[str, np.ndarray],
    label_of: Callable[[str], Mapping[str, str]],
    known: frozenset[str] = frozenset(),
) -> Profile:
    """The weighted sum of liked items' and chosen interests' vectors, made unit length.

    Items without a vector (not indexed yet) and unknown interests are passed over.
    """
    contributions: list[tuple[str, float, np.ndarray, Mapping[str, str]]] = []
    indexed = [item_id for item_id, weight in weights.items() if weight and item_id in index]
    if indexed:
        for item_id, vector in zip(indexed, index.vectors(indexed), strict=True):
            contributions.append((item_id, weights[item_id], vector, label_of(item_id)))
    for code in interests:
        key = f"interest:{code}"
        if code in INTERESTS and key in interest_vectors:
            contributions.append(
                (key, INTEREST_WEIGHT, interest_vectors[key], INTERESTS[code].label)
            )
    if not contributions:
        return Profile(vector=None, known=known, weights=dict(weights))
    total = np.zeros_like(contributions[0][2])
    for _, weight, vector, _ in contributions:
        total += weight * vector
    norm = float(np.linalg.norm(total))
    if not math.isfinite(norm) or norm < 1e-6:
        return Profile(vector=None, known=known, weights=dict(weights))
    liked = sorted((c for c in contributions if c[1] > 0), key=lambda c: (-c[1], c[0]))[:ANCHORS]
    return Profile(
        vector=(total / norm).astype(np.float32),
        anchors=[Anchor(key, label, weight) for key, weight, _, label in liked],
        anchor_vectors=np.stack([vector for _, _, vector, _ in liked]) if liked else None,
        known=known,
        weights=dict(weights),
    )


# --- reading a visitor's signals ------------------------------------------------------------


async def visitor_signals(*, visitor_id: int, now: datetime) -> list[Signal]:
    """Everything known of a visitor's use of items within the last year."""
    from recommend.models import VisitorEvent

    since = now - HORIZON
    events = (
        VisitorEvent.filter(visitor_id=visitor_id, created_at__gte=since)
        .order_by("-created_at", "-id")
        .limit(MAX_EVENTS)
        .values_list("item_id", "kind", "created_at")
    )
    found = await asyncio.gather(
        events, *(_signals_of(reader, visitor_id, since) for reader in _READERS)
    )
    signals = [Signal(item_id, str(kind), at) for item_id, kind, at in found[0]]
    for more in found[1:]:
        signals.extend(more)
    return signals


async def _signals_of(
    reader: Callable[[int, datetime], Awaitable[list[Signal]]], visitor_id: int, since: datetime
) -> list[Signal]:
    try:
        return await reader(visitor_id, since)
    except ImportError as problem:  # a domain not there yet
        log.debug("no %s signals: %s", reader.__name__, problem)
        return []


async def _booking_signals(visitor_id: int, since: datetime) -> list[Signal]:
    from server.reservations import service as reservations
    from server.reservations.models import ReservationStatus
    from server.tickets.models import TicketStatus

    signals = []
    for booking in await reservations.list_own_reservations(visitor_id=visitor_id):
        if booking.created_at < since:
            continue
        item_id = f"venue:{booking.venue_id}"
        if booking.status == ReservationStatus.CONFIRMED:
            signals.append(Signal(item_id, "reservation", booking.created_at))
        else:
            signals.append(Signal(item_id, "view", booking.created_at))
        entered = [t.admitted_at for t in booking.tickets if t.status == TicketStatus.USED]
        if any(entered):
            signals.append(Signal(item_id, "entry", min(at for at in entered if at)))
    return signals


async def _review_signals(visitor_id: int, since: datetime) -> list[Signal]:
    # The food service reads one restaurant's review at a time; a profile needs them all.
    from server.food.models import Review

    rows = await Review.filter(visitor_id=visitor_id, updated_at__gte=since).values_list(
        "restaurant_id", "rating", "updated_at"
    )
    return [
        Signal(f"restaurant:{restaurant_id}", "review", at, rating=rating)
        for restaurant_id, rating, at in rows
    ]


async def _tour_signals(visitor_id: int, since: datetime) -> list[Signal]:
    # The tours service reads progress one tour at a time; a profile needs all of them.
    from server.tours.models import TourProgress

    rows = await TourProgress.filter(visitor_id=visitor_id, visited_at__gte=since).values_list(
        "tour_id", "visited_at"
    )
    return [Signal(f"tour:{tour_id}", "tour_visit", at) for tour_id, at in rows]


_READERS = (_booking_signals, _review_signals, _tour_signals)


async def interests_of(*, visitor_id: int) -> list[str]:
    """The interests the visitor chose (known codes only, in the order chosen)."""
    from recommend.models import VisitorInterests

    chosen = await VisitorInterests.get_or_none(visitor_id=visitor_id)
    return [code for code in (chosen.interests if chosen else []) if code in INTERESTS]


TASTE_TTL_SECONDS = 30.0
MAX_CACHED_VISITORS = 10_000


class TasteCache:
    """Visitors' signals and chosen interests, kept a short while in this process.

    Otherwise every recommendation request reads five tables for them. A visitor's own events
    and interests, recorded through recommend.service in this process, drop their entry at once;
    what other domains record (bookings, entries, reviews, tour walks) and other processes'
    changes show within TASTE_TTL_SECONDS.
    """

    def __init__(
        self, *, ttl_seconds: float = TASTE_TTL_SECONDS, max_visitors: int = MAX_CACHED_VISITORS
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_visitors = max_visitors
        self._entries: OrderedDict[int, tuple[float, list[Signal], list[str]]] = OrderedDict()
        self._changes = 0  # counts forget() calls: a read that overlapped one is not kept

    async def taste_of(self, *, visitor_id: int, now: datetime) -> tuple[list[Signal], list[str]]:
        """The visitor's signals and interests: remembered, or read (and remembered)."""
        entry = self._entries.get(visitor_id)
        if entry is not None and time.monotonic() - entry[0] < self.ttl_seconds:
            self._entries.move_to_end(visitor_id)
            return entry[1], entry[2]
        changes, read_at = self._changes, time.monotonic()
        signals, interests = await read_taste(visitor_id=visitor_id, now=now)
        # An event recorded while this read was under way may be missing from it: keep only a
        # read that no change overlapped.
        if changes == self._changes:
            self._entries[visitor_id] = (read_at, signals, interests)
            self._entries.move_to_end(visitor_id)
            while len(self._entries) > self.max_visitors:
                self._entries.popitem(last=False)
        return signals, interests

    def forget(self, visitor_id: int) -> None:
        """The visitor did something: read their taste afresh next time."""
        self._changes += 1
        self._entries.pop(visitor_id, None)


async def read_taste(*, visitor_id: int, now: datetime) -> tuple[list[Signal], list[str]]:
    """The visitor's signals and chosen interests, from the database."""
    signals, interests = await asyncio.gather(
        visitor_signals(visitor_id=visitor_id, now=now), interests_of(visitor_id=visitor_id)
    )
    return signals, interests
