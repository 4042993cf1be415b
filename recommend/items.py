"""What can be recommended: venues, restaurants, dishes and tours, each read by a small adapter.

An item is known by an id unique across types ("venue:12", "restaurant:7", "tour:3", "dish:5").
Each type's adapter (an `ItemSource`) says three things about its items:
- `load`: the catalogue (names, category, tags, description, position, a popularity prior);
- `live`: for the few candidates of one request, whether they can be visited at a moment (not
  hidden, open then or later that day, somewhere serving a dish) and how crowded they are;
- `usage_since`: how much visitors used them lately (bookings, tour walks), for popularity.
A type whose domain is not there (its package fails to import) is left out, not fatal.
"""

from __future__ import annotations

import importlib
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from time import monotonic as time_monotonic
from typing import Any, NamedTuple, Protocol

from recommend.texts import content_hash, embedding_text
from server.http import LARGEST_ID

log = logging.getLogger("etour.recommend")

ITEM_TYPES = ("venue", "tour", "restaurant", "dish", "event")
ITEM_ID = re.compile(r"^(venue|tour|restaurant|dish|event):([1-9][0-9]{0,9})$")
NIGHT_FROM = time(18, 0)  # a night tour (夜游) is best started after this


@dataclass(frozen=True)
class Item:
    """One recommendable thing as the catalogue knows it; text fields are {"zh-CN", "en"}."""

    id: str
    name: Mapping[str, str]
    category: Mapping[str, str]
    tags: Mapping[str, list[str]] = field(default_factory=dict)
    description: Mapping[str, str] = field(default_factory=dict)
    latitude: float | None = None
    longitude: float | None = None
    night: bool = False  # open or best after dark (夜游, 夜宵)
    prior: float = 0.3  # popularity before any visitor's use: A-level, certification, rating
    kind: str = ""  # the finer sort (museum, scenic_area ...) for display
    hidden: bool = False
    places: tuple[str, ...] = ()  # a dish's best restaurants ("restaurant:7"), best first
    photo: str = ""  # shown, not embedded (dishes: their state has no row of its own)

    @property
    def type(self) -> str:
        """venue, tour, restaurant, dish or event."""
        return self.id.partition(":")[0]

    def content(self) -> dict[str, Any]:
        """What the item's vector is computed from."""
        return {
            "name": dict(self.name),
            "category": dict(self.category),
            "tags": {language: list(words) for language, words in self.tags.items()},
            "description": dict(self.description),
        }

    def content_hash(self) -> str:
        """Changes exactly when the embedded content changes."""
        return content_hash(self.content())

    def text(self) -> str:
        """The text the vector is computed from."""
        return embedding_text(self.content())


@dataclass(frozen=True)
class Live:
    """A candidate's state at the moment asked about, read fresh from its domain."""

    name: Mapping[str, str]
    open_now: bool
    opens_at: time | None = None  # when it opens later that day, if it is not open now
    open_today: bool = True  # opens at all that day (not a closing day, a rest day ...)
    crowd_level: str | None = None  # comfortable, busy, crowded, full (venues)
    latitude: float | None = None
    longitude: float | None = None
    photo: str = ""

    @property
    def visitable(self) -> bool:
        """Open at the moment, or later that day, and not full."""
        return (self.open_now or self.opens_at is not None) and self.crowd_level != "full"


def parse_item_id(item_id: str) -> tuple[str, int] | None:
    """("venue", 12) for "venue:12"; None when it is not an item id."""
    match = ITEM_ID.match(item_id or "")
    # Request bodies bound the number while parsing (server.http.typed_id), but the similar-items
    # path hands its id here as it came: a number no table holds names no item.
    if not match or int(match.group(2)) > LARGEST_ID:
        return None
    return match.group(1), int(match.group(2))


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _time_of(minute: int) -> time:
    return time(minute // 60 % 24, minute % 60)


def _numbers(item_ids: Iterable[str]) -> list[int]:
    """[7, 9] for ["restaurant:7", "restaurant:9"]."""
    return [int(item_id.partition(":")[2]) for item_id in item_ids]


def _i18n(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


class ItemSource(Protocol):
    """One type's adapter (see the module docstring)."""

    type: str

    async def load(self, *, include_hidden: bool = False) -> list[Item]: ...

    async def exists(self, number: int) -> bool: ...

    async def live(self, numbers: list[int], *, at: datetime) -> dict[int, Live]: ...

    async def usage_since(self, since: datetime) -> dict[int, float]: ...


# --- venues ---------------------------------------------------------------------------------

VENUE_CATEGORIES = {
    "scenic_area": _i18n("风景名胜区", "scenic area"),
    "museum": _i18n("博物馆", "museum"),
    "library": _i18n("图书馆", "library"),
    "theatre": _i18n("剧院", "theatre"),
    "street": _i18n("历史文化街区", "historic street"),
    "heritage_site": _i18n("名胜古迹", "heritage site"),
}
A_LEVEL_PRIOR = {5: 1.0, 4: 0.8, 3: 0.6, 2: 0.45, 1: 0.4}


class VenueSource:
    """Venues: scenic areas, museums, libraries, theatres, streets, heritage sites."""

    type = "venue"

    async def load(self, *, include_hidden: bool = False) -> list[Item]:
        """Every venue, with its hours (for the night flag)."""
        from server.venues.models import Venue
        from server.venues.schemas import is_night_open

        query = Venue.all() if include_hidden else Venue.filter(hidden=False)
        return [
            Item(
                id=f"venue:{venue.id}",
                name=venue.name,
                category=VENUE_CATEGORIES.get(venue.kind.value, _i18n("景点", "place")),
                tags=venue.tags or {},
                description=venue.description or {},
                latitude=venue.latitude,
                longitude=venue.longitude,
                night=is_night_open(venue),
                prior=A_LEVEL_PRIOR.get(venue.a_level or 0, 0.3),
                kind=venue.kind.value,
                hidden=venue.hidden,
            )
            for venue in await query.order_by("id").prefetch_related("opening_hours")
        ]

    async def exists(self, number: int) -> bool:
        """True for a visible venue."""
        from server.venues.models import Venue

        return await Venue.filter(id=number, hidden=False).exists()

    async def live(
        self, numbers: list[int], *, at: datetime, crowds: Mapping[int, str | None] | None = None
    ) -> dict[int, Live]:
        """Visible venues open on the day of `at`: open now or later that day, and their crowd
        that day (`crowds`, a recent snapshot of the levels, spares reading them here)."""
        return await venue_states(numbers, at=at, crowds=crowds)

    async def usage_since(self, since: datetime) -> dict[int, float]:
        """Places booked per venue since `since` (cancelled bookings too: they show interest)."""
        from tortoise.functions import Sum

        from server.reservations.models import Reservation

        rows = (
            await Reservation.filter(created_at__gte=since)
            .annotate(people=Sum("party_size"))
            .group_by("venue_id")
            .values_list("venue_id", "people")
        )
        return {venue_id: float(people or 0) for venue_id, people in rows}


class CrowdBasis(NamedTuple):
    """What tickets.crowd_by_venue reads of a venue."""

    id: int
    instant_capacity: int | None


async def crowd_levels(venues: Iterable[CrowdBasis], *, day: date) -> dict[int, str | None]:
    """Each venue's crowd level on `day` (comfortable ... full; None when unmeasured)."""
    from server.tickets import service as tickets

    crowds = await tickets.crowd_by_venue(venues_shown=list(venues), day=day)
    return {
        venue_id: crowd.level.value if crowd.level else None for venue_id, crowd in crowds.items()
    }


async def venue_states(
    numbers: Iterable[int], *, at: datetime, crowds: Mapping[int, str | None] | None = None
) -> dict[int, Live]:
    """The visible venues among `numbers` that open on the day of `at`, each open now or later
    that day (or closed by then), with its crowd; `crowds` when given, else read now."""
    from server.venues.models import ClosingDay, Venue

    numbers = list(numbers)
    if not numbers:
        return {}
    day = at.date()
    # The venues service reads one venue with all its hours at a time; candidates come by the
    # dozen, and only the day's hours matter: one joined read (a venue with no hours that
    # weekday does not open that day, so it is left out like a hidden one) and its closings.
    rows = await Venue.filter(
        id__in=numbers, hidden=False, opening_hours__weekday=day.weekday()
    ).values_list(
        "id",
        "name",
        "latitude",
        "longitude",
        "photos",
        "instant_capacity",
        "opening_hours__opens_at",
        "opening_hours__closes_at",
        "opening_hours__last_entry_at",
    )
    closed = set(
        await ClosingDay.filter(venue_id__in=[row[0] for row in rows], date=day).values_list(
            "venue_id", flat=True
        )
    )
    if crowds is None:
        crowds = await crowd_levels([CrowdBasis(row[0], row[5]) for row in rows], day=day)
    moment = at.time().replace(tzinfo=None)
    states = {}
    for venue_id, name, latitude, longitude, photos, _, opens, closes, last_entry in rows:
        if venue_id in closed:
            continue  # a special closing day (holiday, maintenance): it does not open that day
        open_now, opens_at = False, None
        if moment < opens:
            opens_at = opens
        elif moment < min(last_entry or closes, closes):
            open_now = True
        states[venue_id] = Live(
            name=name,
            open_now=open_now,
            opens_at=opens_at,
            crowd_level=crowds.get(venue_id),
            latitude=latitude,
            longitude=longitude,
            photo=(photos or [""])[0],
        )
    return states


# --- restaurants and dishes -----------------------------------------------------------------

RESTAURANT_CATEGORY = _i18n("餐厅", "restaurant")
DISH_CATEGORY = _i18n("温州美食", "Wenzhou food")
CERTIFIED_TAG = _i18n("百县千碗", "certified local cuisine")


def sessions_state(sessions: Iterable[tuple[int, int]], at: datetime) -> tuple[bool, time | None]:
    """(open at `at`, the start of the next session later that day) from minute sessions."""
    minute = _minute(at.time())
    later = []
    for start, end in sessions:
        if start <= minute < end:
            return True, None
        if minute < start < 24 * 60:
            later.append(start)
    return False, _time_of(min(later)) if later else None


class _Session(NamedTuple):
    """One opening session of a weekday, as food.sessions_on reads it."""

    weekday: int
    opens_at: time
    closes_at: time


def _weekdays_touching(at: datetime) -> list[int]:
    """The day of `at` and the one before (whose late sessions run past midnight)."""
    return [at.weekday(), (at.weekday() - 1) % 7]


class RestaurantSource:
    """Restaurants of the food map (百县千碗), with their menus."""

    type = "restaurant"

    async def load(self, *, include_hidden: bool = False) -> list[Item]:
        """Every restaurant with its dishes (signature first) as tags."""
        from server.food import service as food
        from server.food.counties import county_names
        from server.food.models import Restaurant

        query = Restaurant.all() if include_hidden else Restaurant.filter(hidden=False)
        items = []
        for restaurant in await query.order_by("id").prefetch_related("hours", "menu__dish"):
            menu = sorted(restaurant.menu, key=lambda entry: (not entry.signature, entry.dish_id))
            tags: dict[str, list[str]] = {"zh-CN": [], "en": []}
            for language in tags:
                tags[language] = [entry.dish.name.get(language, "") for entry in menu]
                tags[language].append(county_names(restaurant.county).get(language, ""))
                if restaurant.certified:
                    tags[language].append(CERTIFIED_TAG[language])
                tags[language] = [word for word in tags[language] if word]
            rating = (restaurant.rating or 3.5) / 5
            reviews = min(1.0, math.log1p(restaurant.review_count) / math.log(50))
            items.append(
                Item(
                    id=f"restaurant:{restaurant.id}",
                    name=restaurant.name,
                    category=RESTAURANT_CATEGORY,
                    tags=tags,
                    description=restaurant.description or {},
                    latitude=restaurant.latitude,
                    longitude=restaurant.longitude,
                    night=food.is_night_open(restaurant.hours),
                    prior=min(1.0, 0.2 + 0.4 * rating * reviews + 0.3 * restaurant.certified),
                    kind="restaurant",
                    hidden=restaurant.hidden,
                )
            )
        return items

    async def exists(self, number: int) -> bool:
        """True for a visible restaurant."""
        from server.food.models import Restaurant

        return await Restaurant.filter(id=number, hidden=False).exists()

    async def live(self, numbers: list[int], *, at: datetime) -> dict[int, Live]:
        """Visible restaurants with a session on the day of `at` (or one running past the
        midnight before it): open now, or from when later that day."""
        from server.food import service as food
        from server.food.models import Restaurant

        if not numbers:
            return {}
        # food.restaurants_by_ids loads whole menus too; here only the day's sessions matter, in
        # one joined read of plain rows (a dish's state may need dozens of restaurants).
        rows = await Restaurant.filter(
            id__in=numbers, hidden=False, hours__weekday__in=_weekdays_touching(at)
        ).values_list(
            "id",
            "name",
            "latitude",
            "longitude",
            "photos",
            "hours__weekday",
            "hours__opens_at",
            "hours__closes_at",
        )
        found: dict[int, tuple[tuple, list[_Session]]] = {}
        for restaurant_id, name, latitude, longitude, photos, *session in rows:
            entry = found.setdefault(restaurant_id, ((name, latitude, longitude, photos), []))
            entry[1].append(_Session(*session))
        states = {}
        for restaurant_id, ((name, latitude, longitude, photos), sessions) in found.items():
            day = food.sessions_on(sessions, at.date())
            open_now, opens_at = sessions_state(day, at)
            states[restaurant_id] = Live(
                name=name,
                open_now=open_now,
                opens_at=opens_at,
                open_today=bool(day),
                latitude=latitude,
                longitude=longitude,
                photo=(photos or [""])[0],
            )
        return states

    async def usage_since(self, since: datetime) -> dict[int, float]:
        """Reviews are in the prior (review count and rating); nothing more here."""
        return {}


PLACES_PER_DISH = 8  # a dish is where it is served: its best few places are enough


async def best_places(dish_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
    """The visible restaurants serving each dish, best first (certified, signature, rating),
    at most PLACES_PER_DISH; every dish's when `dish_ids` is None."""
    from server.food.models import RestaurantDish

    # food.best_restaurants_for ranks one dish's places the same way, loading them whole.
    query = RestaurantDish.filter(restaurant__hidden=False)
    if dish_ids is not None:
        query = query.filter(dish_id__in=list(dish_ids))
    rows = await query.values_list(
        "dish_id", "restaurant_id", "restaurant__certified", "signature", "restaurant__rating"
    )
    ranked: dict[int, list[tuple]] = {}
    for dish_id, restaurant_id, certified, signature, rating in rows:
        ranked.setdefault(dish_id, []).append(
            (not certified, not signature, -(rating or 0.0), restaurant_id)
        )
    return {
        dish_id: [entry[-1] for entry in sorted(entries)[:PLACES_PER_DISH]]
        for dish_id, entries in ranked.items()
    }


class DishSource:
    """Wenzhou dishes: recommendable while one of their best places is visible and open."""

    type = "dish"

    async def load(self, *, include_hidden: bool = False) -> list[Item]:
        """Every dish with its aliases and county as tags, and its best places."""
        from tortoise.functions import Count

        from server.food.counties import county_names
        from server.food.models import Dish, RestaurantDish

        served = dict(
            await RestaurantDish.filter(restaurant__hidden=False)
            .annotate(places=Count("id"))
            .group_by("dish_id")
            .values_list("dish_id", "places")
        )
        places = await best_places()
        items = []
        for dish in await Dish.all().order_by("id"):
            county = county_names(dish.county)
            tags = {
                language: [
                    *(dish.tags or {}).get(language, []),
                    *(dish.aliases or {}).get(language, [])[:3],
                    *([county[language]] if county.get(language) else []),
                ]
                for language in ("zh-CN", "en")
            }
            items.append(
                Item(
                    id=f"dish:{dish.id}",
                    name=dish.name,
                    category=DISH_CATEGORY,
                    tags=tags,
                    description=dish.story or {},
                    prior=min(1.0, 0.2 + 0.2 * math.log1p(served.get(dish.id, 0))),
                    kind="dish",
                    photo=dish.photo,
                    hidden=not served.get(dish.id),  # served nowhere: nothing to recommend
                    places=tuple(f"restaurant:{rid}" for rid in places.get(dish.id, [])),
                )
            )
        return [item for item in items if include_hidden or not item.hidden]

    async def exists(self, number: int) -> bool:
        """True for a known dish."""
        from server.food.models import Dish

        return await Dish.filter(id=number).exists()

    async def live(
        self,
        numbers: list[int],
        *,
        at: datetime,
        known: Mapping[int, Item] | None = None,
        restaurant_live: Mapping[int, Live] | None = None,
    ) -> dict[int, Live]:
        """A dish's state is its places': served now if one is open now, else from the first
        opening later that day; a dish none of whose best places is visible is unavailable.

        `known` holds the dishes as the catalogue read them (names, photos, best places: a dish
        may be served in hundreds of restaurants), else they are read; `restaurant_live` may
        hold the places' states already.
        """
        from server.food.models import Dish

        known = dict(known or {})
        unknown = [number for number in numbers if number not in known]
        if unknown:
            places = await best_places(unknown)
            for dish in await Dish.filter(id__in=unknown):
                known[dish.id] = Item(
                    id=f"dish:{dish.id}",
                    name=dish.name,
                    category=DISH_CATEGORY,
                    photo=dish.photo,
                    places=tuple(f"restaurant:{rid}" for rid in places.get(dish.id, [])),
                )
        where = {number: _numbers(known[number].places) for number in numbers if number in known}
        restaurants = restaurant_live
        if restaurants is None:
            wanted = sorted({rid for ids in where.values() for rid in ids})
            restaurants = await RestaurantSource().live(wanted, at=at)
        states = {}
        for number, place_ids in where.items():
            found = [restaurants[rid] for rid in place_ids if rid in restaurants]
            if not found:
                continue
            open_now = any(place.open_now for place in found)
            later = [place.opens_at for place in found if place.opens_at is not None]
            states[number] = Live(
                name=known[number].name,
                open_now=open_now,
                opens_at=None if open_now or not later else min(later),
                open_today=any(place.open_today for place in found),
                photo=known[number].photo,
            )
        return states

    async def usage_since(self, since: datetime) -> dict[int, float]:
        """How widely a dish is served is in its prior; nothing more here."""
        return {}


# --- tours ----------------------------------------------------------------------------------

TOUR_CATEGORY = _i18n("导览路线", "guided tour")
NIGHT_TOUR_CATEGORY = _i18n("夜游导览路线", "night guided tour")


class _TourRow(NamedTuple):
    """What a tour's state needs of its row."""

    id: int
    name: dict[str, str]
    venue_id: int | None
    night: bool
    starts_at: time | None
    cover_photo: str


def venues_of(tours: Iterable[_TourRow]) -> set[int]:
    """The venues the tours belong to."""
    return {tour.venue_id for tour in tours if tour.venue_id}


class TourSource:
    """Guided tours: of one venue (following its hours and crowd) or across the city."""

    type = "tour"

    async def load(self, *, include_hidden: bool = False) -> list[Item]:
        """Every tour with its stops' names as tags; placed at its first stop."""
        from server.tours.models import Tour

        query = Tour.all() if include_hidden else Tour.filter(hidden=False)
        items = []
        for tour in await query.order_by("id").prefetch_related("stops"):
            stops = sorted(tour.stops, key=lambda stop: stop.position)
            tags = {
                language: [stop.name.get(language, "") for stop in stops if stop.name]
                for language in ("zh-CN", "en")
            }
            first = stops[0] if stops else None
            items.append(
                Item(
                    id=f"tour:{tour.id}",
                    name=tour.name,
                    category=NIGHT_TOUR_CATEGORY if tour.night else TOUR_CATEGORY,
                    tags=tags,
                    description=tour.summary or {},
                    latitude=first.latitude if first else None,
                    longitude=first.longitude if first else None,
                    night=tour.night,
                    prior=0.35,
                    kind="night_tour" if tour.night else "tour",
                    hidden=tour.hidden,
                )
            )
        return items

    async def exists(self, number: int) -> bool:
        """True for a visible tour."""
        from server.tours.models import Tour

        return await Tour.filter(id=number, hidden=False).exists()

    async def live(
        self, numbers: list[int], *, at: datetime, venue_live: Mapping[int, Live] | None = None
    ) -> dict[int, Live]:
        """A venue's tour follows the venue's hours and crowd; a night tour starts after dark.

        `venue_live` may hold the venues' states already (read with other candidates').
        A tour's position is its first stop's, which the catalogue holds.
        """
        tours = await self.rows(numbers)
        if venue_live is None:
            venue_live = await VenueSource().live(sorted(venues_of(tours)), at=at)
        return self.states(tours, venue_live=venue_live, at=at)

    def states(
        self, tours: Iterable[_TourRow], *, venue_live: Mapping[int, Live], at: datetime
    ) -> dict[int, Live]:
        """The tours' states from their venues' (a tour of a hidden or closed venue is left out)."""
        states = {}
        moment = at.time().replace(tzinfo=None)
        for tour in tours:
            open_now, opens_at, open_today, crowd = True, None, True, None
            if tour.venue_id:
                venue = venue_live.get(tour.venue_id)
                if venue is None:
                    continue  # its venue is hidden or closed that day: the tour cannot be walked
                open_now, opens_at = venue.open_now, venue.opens_at
                open_today, crowd = venue.open_today, venue.crowd_level
            starts = tour.starts_at or NIGHT_FROM
            if tour.night and open_now and moment < min(starts, NIGHT_FROM):
                open_now, opens_at = False, min(starts, NIGHT_FROM)
            states[tour.id] = Live(
                name=tour.name,
                open_now=open_now,
                opens_at=opens_at,
                open_today=open_today,
                crowd_level=crowd,
                photo=tour.cover_photo,
            )
        return states

    async def rows(self, numbers: list[int]) -> list[_TourRow]:
        """The visible tours among `numbers`, as plain rows."""
        from server.tours.models import Tour

        if not numbers:
            return []
        found = await Tour.filter(id__in=numbers, hidden=False).values_list(*_TourRow._fields)
        return [_TourRow(*row) for row in found]

    async def usage_since(self, since: datetime) -> dict[int, float]:
        """Visitors who walked part of each tour since `since`."""
        from server.tours.models import TourProgress

        walkers: dict[int, set[int]] = {}
        rows = await TourProgress.filter(visited_at__gte=since).values_list("tour_id", "visitor_id")
        for tour_id, visitor_id in rows:
            walkers.setdefault(tour_id, set()).add(visitor_id)
        return {tour_id: float(len(people)) for tour_id, people in walkers.items()}


# --- the registry ---------------------------------------------------------------------------

_ADAPTERS: dict[str, tuple[type, tuple[str, ...]]] = {
    "venue": (VenueSource, ("server.venues.models", "server.tickets.service")),
    "tour": (TourSource, ("server.tours.models",)),
    "restaurant": (RestaurantSource, ("server.food.models", "server.food.service")),
    "dish": (DishSource, ("server.food.models", "server.food.service")),
}
_sources: dict[str, ItemSource] | None = None


def sources() -> dict[str, ItemSource]:
    """The adapters of the types whose domains are present, by type."""
    global _sources
    if _sources is None:
        found: dict[str, ItemSource] = {}
        for type_name, (adapter, modules) in _ADAPTERS.items():
            try:
                for module in modules:
                    importlib.import_module(module)
            except ImportError as problem:
                log.warning("recommendations leave out %ss: %s", type_name, problem)
                continue
            found[type_name] = adapter()
        _sources = found
    return _sources


async def load_items(*, include_hidden: bool = False) -> list[Item]:
    """The whole catalogue, every type present, in a stable order."""
    items: list[Item] = []
    for source in sources().values():
        items.extend(await source.load(include_hidden=include_hidden))
    return items


async def item_exists(item_id: str) -> bool:
    """True when `item_id` names a visible item of a type present."""
    parsed = parse_item_id(item_id)
    if parsed is None or parsed[0] not in sources():
        return False
    return await sources()[parsed[0]].exists(parsed[1])


async def live_states(
    item_ids: Iterable[str],
    *,
    at: datetime,
    known: Callable[[str], Item | None] | None = None,
    crowds: Mapping[int, str | None] | None = None,
) -> dict[str, Live]:
    """The fresh state of each visible item at `at`; hidden, unknown and unavailable items
    (closed all that day, a dish none of whose places is open) are missing.

    `known` gives an item as the catalogue read it (a dish's best places, so its menus are not
    read again); `crowds` the venues' crowd levels from a recent snapshot (else read now).
    """
    by_type: dict[str, list[int]] = {}
    for item_id in item_ids:
        parsed = parse_item_id(item_id)
        if parsed is not None and parsed[0] in sources():
            by_type.setdefault(parsed[0], []).append(parsed[1])
    # Tours need their venues' states and dishes their places': read those together with the
    # venue and restaurant candidates', in one read each, rather than again per type.
    tours = await TourSource().rows(by_type["tour"]) if by_type.get("tour") else []
    dishes: dict[int, Item] = {}
    if known is not None:
        for number in by_type.get("dish", []):
            dish = known(f"dish:{number}")
            if dish is not None:
                dishes[number] = dish
    dish_places = {rid for dish in dishes.values() for rid in _numbers(dish.places)}
    venues = sorted({*by_type.get("venue", []), *venues_of(tours)})
    restaurants = sorted({*by_type.get("restaurant", []), *dish_places})
    venue_live = await VenueSource().live(venues, at=at, crowds=crowds) if venues else {}
    restaurant_live = await RestaurantSource().live(restaurants, at=at) if restaurants else {}
    found: dict[str, dict[int, Live]] = {"venue": venue_live, "restaurant": restaurant_live}
    if tours:
        found["tour"] = TourSource().states(tours, venue_live=venue_live, at=at)
    if by_type.get("dish"):
        # Dishes the catalogue does not know yet read their places, and those places' states.
        found["dish"] = await DishSource().live(
            by_type["dish"],
            at=at,
            known=dishes,
            restaurant_live=restaurant_live if len(dishes) == len(by_type["dish"]) else None,
        )
    return {
        f"{type_name}:{number}": found[type_name][number]
        for type_name, numbers in by_type.items()
        for number in numbers
        if number in found.get(type_name, {})
    }


STATE_TTL_SECONDS = 10.0
MAX_KEPT_STATES = 50_000
# Bumped by every save or delete (in this process) of a row an item's state is read from.
_changes = 0


async def _state_changed(*_: Any) -> None:
    global _changes
    _changes += 1


def _watch_state_changes() -> None:
    """Have saves and deletes of the rows states are read from bump `_changes` (once)."""
    from tortoise.signals import post_delete, post_save

    watched = []
    for module, names in (
        ("server.venues.models", ("Venue", "OpeningHours", "ClosingDay")),
        ("server.food.models", ("Restaurant", "RestaurantHours", "RestaurantDish", "Dish")),
        ("server.tours.models", ("Tour",)),
    ):
        try:
            models = importlib.import_module(module)
        except ImportError:
            continue  # that domain is not there: nothing of it to watch
        watched.extend(getattr(models, name) for name in names)
    post_save(*watched)(_state_changed)  # registering the same listener again is a no-op
    post_delete(*watched)(_state_changed)


class RecentStates:
    """Items' states at the present minute, kept up to STATE_TTL_SECONDS in this process.

    Requests of the same moment share their candidates' states (popular items are everybody's
    candidates) instead of reading them again, unavailable ones included. A change saved in this
    process (hiding an item, a closing day, new hours ...) drops them all at once; one saved by
    another process, or by a bulk UPDATE, counts within STATE_TTL_SECONDS. Crowds come from the
    snapshot passed in, seconds old too.
    """

    def __init__(
        self, *, ttl_seconds: float = STATE_TTL_SECONDS, max_kept: int = MAX_KEPT_STATES
    ) -> None:
        _watch_state_changes()
        self.ttl_seconds = ttl_seconds
        self.max_kept = max_kept
        self._minute: datetime | None = None
        self._seen_changes = _changes
        self._kept: dict[str, tuple[float, Live | None]] = {}

    async def states(
        self,
        item_ids: Iterable[str],
        *,
        at: datetime,
        known: Callable[[str], Item | None] | None = None,
        crowds: Mapping[int, str | None] | None = None,
    ) -> dict[str, Live]:
        """As live_states, for `at` the present: kept ones, and the rest read (and kept)."""
        minute = at.replace(second=0, microsecond=0)
        if minute != self._minute or self._seen_changes != _changes:
            self._kept.clear()
            self._minute, self._seen_changes = minute, _changes
        now = time_monotonic()
        found: dict[str, Live] = {}
        missing = []
        for item_id in item_ids:
            entry = self._kept.get(item_id)
            if entry is None or now - entry[0] >= self.ttl_seconds:
                missing.append(item_id)
            elif entry[1] is not None:
                found[item_id] = entry[1]
        if missing:
            changes = _changes
            fresh = await live_states(missing, at=at, known=known, crowds=crowds)
            found.update(fresh)
            # A change saved while these were read may be missing from them: do not keep them.
            if changes == _changes and self._minute == minute:
                if len(self._kept) + len(missing) > self.max_kept:
                    self._kept.clear()
                self._kept.update({item_id: (now, fresh.get(item_id)) for item_id in missing})
        return found


async def usage_since(since: datetime) -> dict[str, float]:
    """Each item's use by visitors since `since`, from its own domain (bookings, tour walks)."""
    usage: dict[str, float] = {}
    for type_name, source in sources().items():
        found = await source.usage_since(since)
        usage.update({f"{type_name}:{number}": count for number, count in found.items()})
    return usage
