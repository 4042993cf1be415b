"""Recommendations (千人千面), similar items, visitors' events and interests: the rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta

from recommend.catalogue import Catalogue
from recommend.errors import ItemNotFound, UnknownInterest
from recommend.items import Live, RecentStates, item_exists, live_states, parse_item_id
from recommend.models import EventKind, VisitorEvent, VisitorInterests
from recommend.profiles import (
    INTERESTS,
    Profile,
    TasteCache,
    build_profile,
    interests_of,
    item_weights,
    known_items,
    read_taste,
)
from recommend.ranking import (
    DEFAULT_WEIGHTS,
    Candidate,
    Recommendation,
    Weights,
    is_evening,
    popular_candidates,
    profile_candidates,
    rank_similar,
    rerank,
    similar_candidates,
)
from server.clock import LOCAL_TZ

CANDIDATES_MIN = 30
CANDIDATES_PER_RESULT = 3
MAX_WIDENINGS = 2  # when too few candidates are visitable, look 4x further, twice at most
LIVE_WINDOW = timedelta(hours=1)  # a planned time this close to now is "now": live crowds
PRESENT = timedelta(minutes=1)  # states kept for the present minute serve a time this close
VIEW_REPEAT = timedelta(minutes=10)  # the same view again within this counts once
MAX_INTERESTS = 8


def local(moment: datetime) -> datetime:
    """`moment` in Wenzhou time; a naive one is taken as Wenzhou time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(LOCAL_TZ)


async def profile_of(
    *, visitor_id: int, catalogue: Catalogue, now: datetime, tastes: TasteCache | None = None
) -> Profile:
    """The visitor's taste from their signals and interests, on the catalogue's vectors
    (`tastes` may remember those from a moment ago)."""
    if tastes is None:
        signals, interests = await read_taste(visitor_id=visitor_id, now=now)
    else:
        signals, interests = await tastes.taste_of(visitor_id=visitor_id, now=now)
    return build_profile(
        weights=item_weights(signals, now=now),
        interests=interests,
        index=catalogue.index,
        interest_vectors=catalogue.interest_vectors,
        label_of=catalogue.label_of,
        known=known_items(signals),
    )


def _states_reader(
    recent: RecentStates | None, *, at: datetime, now: datetime
) -> Callable[..., Awaitable[dict[str, Live]]]:
    """The kept states' reader for the present, else the fresh one."""
    if recent is not None and abs(at - now) < PRESENT:
        return recent.states
    return live_states


def _with_similarity(
    catalogue: Catalogue, profile: Profile, candidates: list[Candidate]
) -> list[Candidate]:
    """Popular candidates scored against the profile too, so they can join its own."""
    indexed = [c.item_id for c in candidates if c.item_id in catalogue.index]
    if profile.is_cold or not indexed:
        return candidates
    similarity = dict(zip(indexed, catalogue.index.vectors(indexed) @ profile.vector, strict=True))
    return [Candidate(c.item_id, float(similarity.get(c.item_id, 0.0))) for c in candidates]


async def recommend(
    *,
    catalogue: Catalogue,
    visitor_id: int | None,
    now: datetime,
    at: datetime | None = None,
    position: tuple[float, float] | None = None,
    types: Collection[str] | None = None,
    limit: int = 10,
    weights: Weights = DEFAULT_WEIGHTS,
    tastes: TasteCache | None = None,
    crowds: Mapping[int, str | None] | None = None,
    recent: RecentStates | None = None,
) -> list[Recommendation]:
    """Items for this visitor at `at` (default now): similar to their taste, visitable then,
    re-ranked for distance, crowd, hours, popularity and variety; popular and nearby ones for a
    visitor with no history. Hidden, closed, full and unavailable items never appear.

    `tastes` may remember the visitor's signals from a moment ago; `crowds` holds today's
    crowd levels by venue from a snapshot seconds old (used when `at` is now); `recent` keeps
    candidates' states of the present minute for a few seconds.
    """
    now = local(now)
    at = local(at) if at is not None else now
    live_now = abs(at - now) <= LIVE_WINDOW
    profile = Profile(vector=None)
    if visitor_id is not None:
        profile = await profile_of(
            visitor_id=visitor_id, catalogue=catalogue, now=now, tastes=tastes
        )
    wanted = max(CANDIDATES_MIN, CANDIDATES_PER_RESULT * limit)
    states: dict[str, Live] = {}
    crowds_then = crowds if live_now and at.date() == now.date() else None
    read_states = _states_reader(recent, at=at, now=now)

    async def ranked_from(candidates: list[Candidate]) -> list[Recommendation]:
        fresh = [c.item_id for c in candidates if c.item_id not in states]
        states.update(await read_states(fresh, at=at, known=catalogue.item, crowds=crowds_then))
        return rerank(
            candidates,
            catalogue=catalogue,
            profile=profile,
            live=states,
            at=at,
            live_now=live_now,
            position=position,
            limit=limit,
            weights=weights,
        )

    candidates: list[Candidate] = []
    ranked: list[Recommendation] = []
    k = wanted
    for _ in range(MAX_WIDENINGS + 1):
        candidates = profile_candidates(catalogue, profile, k=k, types=types)
        ranked = await ranked_from(candidates)
        if len(ranked) >= limit or len(candidates) < k:
            break
        k *= 4
    if len(ranked) < limit:
        # Nothing known of the visitor, or too few of their kind of items open then: the
        # popular and nearby ones fill in.
        popular = popular_candidates(
            catalogue,
            k=wanted,
            types=types,
            position=position,
            evening=is_evening(at),
            exclude=profile.known | {c.item_id for c in candidates},
            weights=weights,
        )
        ranked = await ranked_from(candidates + _with_similarity(catalogue, profile, popular))
    return ranked


async def similar_items(
    *,
    catalogue: Catalogue,
    item_id: str,
    now: datetime,
    limit: int = 10,
    crowds: Mapping[int, str | None] | None = None,
    recent: RecentStates | None = None,
) -> list[Recommendation]:
    """The items most like one item, among those open at all today and not full (`crowds`:
    today's crowd levels by venue from a snapshot seconds old, else read now; `recent`: states
    of the present minute kept a few seconds)."""
    if not await item_exists(item_id):
        raise ItemNotFound(item_id=item_id)
    source = catalogue.item(item_id)
    if source is None:
        return []  # new since the catalogue was loaded: it has no neighbours yet
    now = local(now)
    candidates = similar_candidates(
        catalogue, item_id, k=max(CANDIDATES_MIN, CANDIDATES_PER_RESULT * limit)
    )
    states = await _states_reader(recent, at=now, now=now)(
        [c.item_id for c in candidates], at=now, known=catalogue.item, crowds=crowds
    )
    return rank_similar(
        candidates, catalogue=catalogue, source=source, live=states, live_now=True, limit=limit
    )


async def record_event(
    *,
    visitor_id: int,
    item_id: str,
    kind: EventKind,
    now: datetime,
    tastes: TasteCache | None = None,
) -> bool:
    """Record what a visitor did with a visible item; a repeated view within minutes counts
    once. True when recorded (and `tastes` forgets the visitor's)."""
    if parse_item_id(item_id) is None or not await item_exists(item_id):
        raise ItemNotFound(item_id=item_id)
    if kind == EventKind.VIEW:
        repeated = VisitorEvent.filter(
            visitor_id=visitor_id, item_id=item_id, kind=kind, created_at__gte=now - VIEW_REPEAT
        )
        if await repeated.exists():
            return False
    await VisitorEvent.create(visitor_id=visitor_id, item_id=item_id, kind=kind, created_at=now)
    if tastes is not None:
        tastes.forget(visitor_id)
    return True


async def own_interests(*, visitor_id: int) -> list[str]:
    """The interests the visitor chose at onboarding."""
    return await interests_of(visitor_id=visitor_id)


async def set_interests(
    *, visitor_id: int, interests: list[str], tastes: TasteCache | None = None
) -> list[str]:
    """Replace the visitor's onboarding interests (known codes, each once, in order); `tastes`
    forgets the visitor's."""
    unknown = [code for code in interests if code not in INTERESTS]
    if unknown:
        raise UnknownInterest(interest=unknown[0])
    chosen = list(dict.fromkeys(interests))[:MAX_INTERESTS]
    row, created = await VisitorInterests.get_or_create(
        visitor_id=visitor_id, defaults={"interests": chosen}
    )
    if not created and row.interests != chosen:
        row.interests = chosen
        await row.save(update_fields=["interests", "updated_at"])
    if tastes is not None:
        tastes.forget(visitor_id)
    return chosen
