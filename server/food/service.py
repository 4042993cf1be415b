"""The food map: nearby restaurants, dishes, text search, reviews and the ratings they make."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q, Subquery
from tortoise.transactions import in_transaction

from server import db
from server.food import search
from server.food.counties import county_names
from server.food.errors import (
    AlreadyReviewed,
    DishNotFound,
    RestaurantNotFound,
    ReviewNotFound,
)
from server.food.models import (
    Dish,
    Restaurant,
    RestaurantDish,
    RestaurantHours,
    Review,
    ReviewStatus,
)
from server.food.moderation import review_filter
from server.tours.geo import bounding_box, haversine_m

MAX_RADIUS_M = 50_000
FIRST_REACH_M = 500  # the nearby search's first circle (see _widening)
NIGHT_FROM = time(21, 0)  # a restaurant serving at or after 21:00 is marked for 夜游 (夜宵)
MINUTES_PER_DAY = 24 * 60
_OPEN_NOW_BATCH = 500  # restaurants whose hours are read at a time while filtering on open_now


# --- opening hours --------------------------------------------------------------------------


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _runs_past_midnight(session: RestaurantHours) -> bool:
    return session.closes_at <= session.opens_at


def sessions_on(hours: Iterable[RestaurantHours], day: date) -> list[tuple[int, int]]:
    """The open sessions touching `day`, as (start, end) minutes from its midnight, sorted.

    A session running past midnight ends after 1440; the previous night's one shows as (0, end).
    """
    weekday, previous = day.weekday(), (day.weekday() - 1) % 7
    sessions = []
    for session in hours:
        start, end = _minutes(session.opens_at), _minutes(session.closes_at)
        overnight = _runs_past_midnight(session)
        if session.weekday == weekday:
            sessions.append((start, end + MINUTES_PER_DAY if overnight else end))
        elif session.weekday == previous and overnight and end > 0:
            sessions.append((0, end))
    return sorted(sessions)


def is_open_at(hours: Iterable[RestaurantHours], moment: datetime) -> bool:
    """True when one of the sessions covers `moment` (local time)."""
    now = _minutes(moment.time())
    return any(start <= now < end for start, end in sessions_on(hours, moment.date()))


def is_night_open(hours: Iterable[RestaurantHours]) -> bool:
    """True when the restaurant serves at or after 21:00 on some day (夜宵, 全域夜游)."""
    return any(_runs_past_midnight(h) or h.closes_at > NIGHT_FROM for h in hours)


# --- restaurants ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NearbyRestaurant:
    """A restaurant found near a point, with its exact distance in metres."""

    restaurant: Restaurant
    distance_m: float


def _within_box(query, lat: float, lng: float, radius_m: float):
    box = bounding_box(lat, lng, radius_m)
    query = query.filter(latitude__gte=box.min_lat, latitude__lte=box.max_lat)
    if not box.lng_ranges:
        return query
    ranges = [Q(longitude__gte=west, longitude__lte=east) for west, east in box.lng_ranges]
    return query.filter(Q(*ranges, join_type="OR"))


def _widening(radius_m: float) -> list[float]:
    """The circles a nearby search tries: from 500 m, doubling, up to the radius asked for.

    Answers are the nearest `limit` restaurants: once that many pass every filter within a
    smaller circle, none farther out can displace them, so a dense old town is answered from a
    small box and only sparse places widen it (the total work stays within twice the last box).
    """
    reaches = [min(radius_m, FIRST_REACH_M)]
    while reaches[-1] < radius_m:
        reaches.append(min(radius_m, reaches[-1] * 2))
    return reaches


def _with_terms(query, terms: Sequence[str]):
    for term in terms:
        query = query.filter(search_terms__contains=f" {term} ")
    return query


async def nearby_restaurants(
    *,
    lat: float,
    lng: float,
    radius_m: float,
    now: datetime,
    dish_ids: Iterable[int] | None = None,
    text: str | None = None,
    county: str | None = None,
    open_now: bool | None = None,
    night: bool | None = None,
    price_levels: Iterable[int] | None = None,
    certified: bool | None = None,
    limit: int = 50,
) -> list[NearbyRestaurant]:
    """Restaurants within `radius_m` of a point, nearest first, with every filter applied.

    The database narrows by a bounding box on the indexed latitude and longitude and by the
    plain filters; the exact haversine distance then decides, on the few rows left. The box
    starts small and widens only while fewer than `limit` restaurants are found.
    """
    query = Restaurant.filter(hidden=False)
    if dish_ids is not None:
        dish_ids = list(dish_ids)
        if not dish_ids:
            return []
        served = RestaurantDish.filter(dish_id__in=dish_ids).values("restaurant_id")
        query = query.filter(id__in=Subquery(served))
    if county is not None:
        query = query.filter(county=county)
    if price_levels is not None:
        query = query.filter(price_level__in=sorted(set(price_levels)))
    if certified is not None:
        query = query.filter(certified=certified)
    query = _with_terms(query, search.query_terms(text or ""))
    for reach in _widening(radius_m):
        candidates = await _within_box(query, lat, lng, reach).values_list(
            "id", "latitude", "longitude"
        )
        in_radius = sorted(
            (distance, restaurant_id)
            for restaurant_id, r_lat, r_lng in candidates
            if (distance := haversine_m(lat, lng, r_lat, r_lng)) <= reach
        )
        if open_now is not None or night is not None:
            in_radius = await _by_hours(
                in_radius, now=now, open_now=open_now, night=night, limit=limit
            )
        if len(in_radius) >= limit:
            break
    page = in_radius[:limit]
    loaded = {r.id: r for r in await _restaurants_with_details([rid for _, rid in page])}
    return [NearbyRestaurant(loaded[rid], distance) for distance, rid in page]


async def _by_hours(
    ranked: list[tuple[float, int]],
    *,
    now: datetime,
    open_now: bool | None,
    night: bool | None,
    limit: int,
) -> list[tuple[float, int]]:
    """The ranked rows that pass the hour filters, read batch by batch until `limit` are found."""
    kept: list[tuple[float, int]] = []
    for first in range(0, len(ranked), _OPEN_NOW_BATCH):
        batch = ranked[first : first + _OPEN_NOW_BATCH]
        hours: dict[int, list[RestaurantHours]] = {rid: [] for _, rid in batch}
        for session in await RestaurantHours.filter(restaurant_id__in=list(hours)):
            hours[session.restaurant_id].append(session)
        kept.extend(
            (distance, rid)
            for distance, rid in batch
            if (open_now is None or is_open_at(hours[rid], now) == open_now)
            and (night is None or is_night_open(hours[rid]) == night)
        )
        if len(kept) >= limit:
            break
    return kept


async def _restaurants_with_details(ids: list[int]) -> list[Restaurant]:
    if not ids:
        return []
    return await Restaurant.filter(id__in=ids).prefetch_related("hours", "menu__dish")


async def get_restaurant(*, restaurant_id: int) -> Restaurant:
    """One visible restaurant with its hours and menu; RestaurantNotFound otherwise."""
    restaurant = (
        await Restaurant.filter(id=restaurant_id, hidden=False)
        .prefetch_related("hours", "menu__dish")
        .first()
    )
    if restaurant is None:
        raise RestaurantNotFound(restaurant_id=restaurant_id)
    return restaurant


async def restaurants_by_ids(ids: Iterable[int]) -> list[Restaurant]:
    """The visible restaurants among `ids`, with hours and menu (unknown ids are left out)."""
    return await _restaurants_with_details(
        list(await Restaurant.filter(id__in=list(ids), hidden=False).values_list("id", flat=True))
    )


# --- dishes ---------------------------------------------------------------------------------


async def list_dishes(*, text: str | None = None, county: str | None = None) -> list[Dish]:
    """The dishes, ordered by id, matching the search text and county when given."""
    query = Dish.all()
    if county is not None:
        query = query.filter(county=county)
    return await _with_terms(query, search.query_terms(text or "")).order_by("id")


async def get_dish(*, dish_id: int) -> Dish:
    """One dish; DishNotFound if there is none."""
    dish = await Dish.get_or_none(id=dish_id)
    if dish is None:
        raise DishNotFound(dish_id=dish_id)
    return dish


async def dish_ids_for(wanted: str) -> set[int]:
    """The dishes a `dish` filter means: an id, a dish code, or else a search text ('鱼丸')."""
    wanted = wanted.strip()
    if wanted.isdigit():
        return {(await get_dish(dish_id=int(wanted))).id}
    by_code = await Dish.get_or_none(code=wanted)
    if by_code is not None:
        return {by_code.id}
    return {dish.id for dish in await list_dishes(text=wanted)}


async def best_restaurants_for(*, dish_id: int, limit: int = 10) -> list[Restaurant]:
    """Where to eat a dish: certified (百县千碗) first, then the house's signature, then rating."""
    await get_dish(dish_id=dish_id)
    served = await RestaurantDish.filter(dish_id=dish_id, restaurant__hidden=False)
    signature = {row.restaurant_id: row.signature for row in served}
    restaurants = await _restaurants_with_details(list(signature))
    restaurants.sort(
        key=lambda r: (
            not r.certified,
            not signature[r.id],
            -(r.rating or 0.0),
            -r.review_count,
            r.id,
        )
    )
    return restaurants[:limit]


# --- search terms ---------------------------------------------------------------------------


def dish_search_terms(dish: Dish) -> str:
    """The stored search terms of a dish: its names and aliases in both languages, its county."""
    return search.document_terms(
        [
            *search.texts_of(dish.name),
            *search.texts_of(dish.aliases),
            *search.texts_of(dish.tags),
            *county_names(dish.county).values(),
        ]
    )


def restaurant_search_terms(restaurant: Restaurant, dishes: Iterable[Dish]) -> str:
    """The stored search terms of a restaurant: its names, address, county, and its dishes'."""
    texts = [
        *search.texts_of(restaurant.name),
        *search.texts_of(restaurant.address),
        *county_names(restaurant.county).values(),
    ]
    for dish in dishes:
        texts += [*search.texts_of(dish.name), *search.texts_of(dish.aliases)]
    return search.document_terms(texts)


async def refresh_search_terms(*, restaurant_ids: Iterable[int] | None = None) -> int:
    """Rebuild the stored search terms of dishes and of restaurants (all, or those given).

    Call it after a change of names, aliases or menus; returns the rows whose terms changed.
    """
    changed = 0
    dishes = {dish.id: dish for dish in await Dish.all()}
    for dish in dishes.values():
        terms = dish_search_terms(dish)
        if dish.search_terms != terms:
            await Dish.filter(id=dish.id).update(search_terms=terms)
            changed += 1
    restaurants, menu = Restaurant.all(), RestaurantDish.all()
    if restaurant_ids is not None:
        restaurant_ids = list(restaurant_ids)
        restaurants = restaurants.filter(id__in=restaurant_ids)
        menu = menu.filter(restaurant_id__in=restaurant_ids)
    menus: dict[int, list[Dish]] = {}
    for restaurant_id, dish_id in await menu.values_list("restaurant_id", "dish_id"):
        menus.setdefault(restaurant_id, []).append(dishes[dish_id])
    for restaurant in await restaurants:
        terms = restaurant_search_terms(restaurant, menus.get(restaurant.id, []))
        if restaurant.search_terms != terms:
            await Restaurant.filter(id=restaurant.id).update(search_terms=terms)
            changed += 1
    return changed


# --- reviews --------------------------------------------------------------------------------

# Both sub-selects count only published reviews. Placeholders are numbered for PostgreSQL and
# positional for SQLite (where the values are repeated in order).
_RECOMPUTE_RATING = (
    "UPDATE restaurant SET "
    "rating = (SELECT AVG(rating) FROM restaurant_review "
    "WHERE restaurant_id = {0} AND status = {1}), "
    "review_count = (SELECT COUNT(*) FROM restaurant_review "
    "WHERE restaurant_id = {0} AND status = {1}) "
    "WHERE id = {0}"
)


async def _recompute_rating(connection, restaurant_id: int) -> None:
    published = ReviewStatus.PUBLISHED.value
    if db.is_sqlite():
        sql = _RECOMPUTE_RATING.format("?", "?")
        values = [restaurant_id, published, restaurant_id, published, restaurant_id]
    else:
        sql, values = _RECOMPUTE_RATING.format("$1", "$2"), [restaurant_id, published]
    await connection.execute_query(sql, values)


async def _claim_restaurant(restaurant_id: int, *, include_hidden: bool = False) -> None:
    # Why the rating cannot race: this no-op UPDATE comes first in every transaction that writes
    # a review of the restaurant. On PostgreSQL it holds the restaurant's row lock until commit,
    # so those transactions take turns; the recomputing UPDATE that follows is a new statement,
    # so under READ COMMITTED its sub-selects see every earlier turn's committed reviews plus
    # this one's own. On SQLite the first write takes the database write lock for the whole
    # transaction, to the same effect. (A lone `UPDATE ... SET rating = (SELECT AVG ...)` is not
    # enough on PostgreSQL: its sub-select reads the snapshot taken when the statement began,
    # before it waited for the row lock, so two concurrent reviews could each miss the other.)
    claim = Restaurant.filter(id=restaurant_id)
    if not include_hidden:
        claim = claim.filter(hidden=False)
    touched = await claim.update(review_count=F("review_count"))
    if not touched:
        raise RestaurantNotFound(restaurant_id=restaurant_id)


def _moderated(text: str) -> tuple[ReviewStatus, list[str]]:
    hits = review_filter().hits(text)
    return (ReviewStatus.PENDING if hits else ReviewStatus.PUBLISHED), hits


async def submit_review(*, visitor_id: int, restaurant_id: int, rating: int, text: str) -> Review:
    """A visitor's first review of a restaurant; a text with a listed word is held (pending)."""
    status, hits = _moderated(text)
    try:
        async with in_transaction() as connection:
            await _claim_restaurant(restaurant_id)
            existing = await Review.get_or_none(restaurant_id=restaurant_id, visitor_id=visitor_id)
            if existing is not None:
                raise AlreadyReviewed(review_id=existing.id)
            review = await Review.create(
                restaurant_id=restaurant_id,
                visitor_id=visitor_id,
                rating=rating,
                text=text,
                status=status,
                flagged_terms=hits,
            )
            await _recompute_rating(connection, restaurant_id)
    except IntegrityError:
        # The unique key (restaurant, visitor) is the last guard if the lock was not taken.
        raise AlreadyReviewed(review_id=None) from None
    return review


async def edit_review(*, visitor_id: int, restaurant_id: int, rating: int, text: str) -> Review:
    """Change a visitor's own review; the new text passes the filter again before publication."""
    status, hits = _moderated(text)
    async with in_transaction() as connection:
        await _claim_restaurant(restaurant_id)
        review = await Review.get_or_none(restaurant_id=restaurant_id, visitor_id=visitor_id)
        if review is None:
            raise ReviewNotFound(restaurant_id=restaurant_id)
        review.update_from_dict(
            {"rating": rating, "text": text, "status": status, "flagged_terms": hits}
        )
        await review.save()
        await _recompute_rating(connection, restaurant_id)
    return review


async def own_review(*, visitor_id: int, restaurant_id: int) -> Review:
    """The visitor's own review of a restaurant, whatever its status."""
    review = await Review.get_or_none(restaurant_id=restaurant_id, visitor_id=visitor_id)
    if review is None:
        raise ReviewNotFound(restaurant_id=restaurant_id)
    return review


async def published_reviews(
    *, restaurant_id: int, limit: int = 20, offset: int = 0
) -> list[Review]:
    """A restaurant's published reviews, the latest first."""
    await get_restaurant(restaurant_id=restaurant_id)
    return (
        await Review.filter(restaurant_id=restaurant_id, status=ReviewStatus.PUBLISHED)
        .order_by("-updated_at", "-id")
        .offset(offset)
        .limit(limit)
    )


async def moderate_review(*, review_id: int, publish: bool) -> Review:
    """A moderator's decision on a held review: publish it or reject it; the rating follows."""
    review = await Review.get_or_none(id=review_id)
    if review is None:
        raise ReviewNotFound(review_id=review_id)
    async with in_transaction() as connection:
        await _claim_restaurant(review.restaurant_id, include_hidden=True)
        status = ReviewStatus.PUBLISHED if publish else ReviewStatus.REJECTED
        await Review.filter(id=review_id).update(status=status)
        await _recompute_rating(connection, review.restaurant_id)
    return await Review.get(id=review_id)
