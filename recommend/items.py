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

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, NamedTuple, Protocol

from recommend.texts import content_hash, embedding_text

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

    @property
    def type(self) -> str:
        """venue, tour, restaurant, dish or event."""
        return self.id.partition(":")[0]

    @property
    def number(self) -> int:
        """The id within its type."""
        return int(self.id.partition(":")[2])

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
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def visitable(self) -> bool:
        """Open at the moment, or later that day, and not full."""
        return (self.open_now or self.opens_at is not None) and self.crowd_level != "full"


def parse_item_id(item_id: str) -> tuple[str, int] | None:
    """("venue", 12) for "venue:12"; None when it is not an item id."""
    match = ITEM_ID.match(item_id or "")
    return (match.group(1), int(match.group(2))) if match else None


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _time_of(minute: int) -> time:
    return time(minute // 60 % 24, minute % 60)


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

    async def live(self, numbers: list[int], *, at: datetime) -> dict[int, Live]:
        """Visible venues' hours on the day of `at` and their crowd that day."""
        return await venue_states(await venues_for_day(numbers, at=at), at=at)

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


async def venues_for_day(numbers: Iterable[int], *, at: datetime) -> list[Any]:
    """The visible venues among `numbers`, with only the day of `at`'s hours and closing."""
    from tortoise.query_utils import Prefetch

    from server.venues.models import ClosingDay, OpeningHours, Venue

    # The venues service reads one venue, with all its hours, at a time; candidates come by the
    # dozen and one day of their hours is enough (venues.hours_on reads these lists).
    numbers = list(numbers)
    if not numbers:
        return []
    day = at.date()
    return await Venue.filter(id__in=numbers, hidden=False).prefetch_related(
        Prefetch("opening_hours", OpeningHours.filter(weekday=day.weekday())),
        Prefetch("closing_days", ClosingDay.filter(date=day)),
    )


async def venue_states(venues_shown: list[Any], *, at: datetime) -> dict[int, Live]:
    """Each venue's state at `at`: open now, opening later that day, or closed; its crowd."""
    from server.tickets import service as tickets
    from server.venues import service as venues

    crowds = await tickets.crowd_by_venue(venues_shown=venues_shown, day=at.date())
    states = {}
    for venue in venues_shown:
        hours = venues.hours_on(venue, at.date())
        open_now, opens_at = False, None
        if hours.is_open_day:
            last_entry = hours.last_entry_at or hours.closes_at
            moment = at.time().replace(tzinfo=None)
            if moment < hours.opens_at:
                opens_at = hours.opens_at
            elif moment < min(last_entry, hours.closes_at):
                open_now = True
        crowd = crowds.get(venue.id)
        states[venue.id] = Live(
            name=venue.name,
            open_now=open_now,
            opens_at=opens_at,
            open_today=hours.is_open_day,
            crowd_level=crowd.level.value if crowd and crowd.level else None,
            latitude=venue.latitude,
            longitude=venue.longitude,
            photo=(venue.photos or [""])[0],
            extra={"kind": venue.kind.value, "closes_at": hours.closes_at},
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


def _day_hours(relation: str, at: datetime) -> Any:
    from tortoise.query_utils import Prefetch

    from server.food.models import RestaurantHours

    return Prefetch(relation, RestaurantHours.filter(weekday__in=_weekdays_touching(at)))


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
        """Visible restaurants' sessions on the day of `at`."""
        from server.food import service as food
        from server.food.models import Restaurant

        # food.restaurants_by_ids loads whole menus too; here only the day's hours matter.
        found = await Restaurant.filter(id__in=numbers, hidden=False).prefetch_related(
            _day_hours("hours", at)
        )
        states = {}
        for restaurant in found:
            sessions = food.sessions_on(restaurant.hours, at.date())
            open_now, opens_at = sessions_state(sessions, at)
            states[restaurant.id] = Live(
                name=restaurant.name,
                open_now=open_now,
                opens_at=opens_at,
                open_today=bool(sessions),
                latitude=restaurant.latitude,
                longitude=restaurant.longitude,
                photo=(restaurant.photos or [""])[0],
                extra={"price_level": restaurant.price_level, "rating": restaurant.rating},
            )
        return states

    async def usage_since(self, since: datetime) -> dict[int, float]:
        """Reviews are in the prior (review count and rating); nothing more here."""
        return {}


class DishSource:
    """Wenzhou dishes: recommendable while some visible restaurant serves them."""

    type = "dish"

    async def load(self, *, include_hidden: bool = False) -> list[Item]:
        """Every dish with its aliases and county as tags; served more widely, more popular."""
        from tortoise.functions import Count

        from server.food.counties import county_names
        from server.food.models import Dish, RestaurantDish

        served = dict(
            await RestaurantDish.filter(restaurant__hidden=False)
            .annotate(places=Count("id"))
            .group_by("dish_id")
            .values_list("dish_id", "places")
        )
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
            places = served.get(dish.id, 0)
            items.append(
                Item(
                    id=f"dish:{dish.id}",
                    name=dish.name,
                    category=DISH_CATEGORY,
                    tags=tags,
                    description=dish.story or {},
                    prior=min(1.0, 0.2 + 0.2 * math.log1p(places)),
                    kind="dish",
                    hidden=not places,  # served nowhere (visible): nothing to recommend
                )
            )
        return [item for item in items if include_hidden or not item.hidden]

    async def exists(self, number: int) -> bool:
        """True for a known dish."""
        from server.food.models import Dish

        return await Dish.filter(id=number).exists()

    async def live(self, numbers: list[int], *, at: datetime) -> dict[int, Live]:
        """Dishes served by a visible restaurant: open now if one of those is open now."""
        from server.food import service as food
        from server.food.models import Dish, RestaurantDish

        # A dish may be served in hundreds of places, which share a handful of opening
        # sessions: read the distinct sessions per dish, not every restaurant's hours.
        serving = RestaurantDish.filter(dish_id__in=numbers, restaurant__hidden=False)
        served = set(await serving.distinct().values_list("dish_id", flat=True))
        if not served:
            return {}
        rows = (
            await serving.filter(restaurant__hours__weekday__in=_weekdays_touching(at))
            .distinct()
            .values_list(
                "dish_id",
                "restaurant__hours__weekday",
                "restaurant__hours__opens_at",
                "restaurant__hours__closes_at",
            )
        )
        sessions: dict[int, list[_Session]] = {}
        for dish_id, weekday, opens_at, closes_at in rows:
            sessions.setdefault(dish_id, []).append(_Session(weekday, opens_at, closes_at))
        states = {}
        for dish in await Dish.filter(id__in=served):
            day = food.sessions_on(sessions.get(dish.id, []), at.date())
            open_now, opens_at = sessions_state(day, at)
            states[dish.id] = Live(
                name=dish.name,
                open_now=open_now,
                opens_at=opens_at,
                open_today=bool(day),
                photo=dish.photo,
            )
        return states

    async def usage_since(self, since: datetime) -> dict[int, float]:
        """How widely a dish is served is in its prior; nothing more here."""
        return {}


# --- tours ----------------------------------------------------------------------------------

TOUR_CATEGORY = _i18n("导览路线", "guided tour")
NIGHT_TOUR_CATEGORY = _i18n("夜游导览路线", "night guided tour")


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

    async def live(self, numbers: list[int], *, at: datetime) -> dict[int, Live]:
        """A venue's tour follows the venue's hours and crowd; a night tour starts after dark."""
        from server.tours.models import Tour

        tours = await Tour.filter(id__in=numbers, hidden=False).prefetch_related("stops")
        venue_ids = {tour.venue_id for tour in tours if tour.venue_id}
        venue_live = await venue_states(await venues_for_day(venue_ids, at=at), at=at)
        states = {}
        for tour in tours:
            stops = sorted(tour.stops, key=lambda stop: stop.position)
            first = stops[0] if stops else None
            open_now, opens_at, open_today, crowd = True, None, True, None
            if tour.venue_id:
                venue = venue_live.get(tour.venue_id)
                if venue is None:
                    continue  # its venue is hidden: the tour cannot be walked
                open_now, opens_at = venue.open_now, venue.opens_at
                open_today, crowd = venue.open_today, venue.crowd_level
            starts = tour.starts_at or NIGHT_FROM
            moment = at.time().replace(tzinfo=None)
            if tour.night and open_now and moment < min(starts, NIGHT_FROM):
                open_now, opens_at = False, min(starts, NIGHT_FROM)
            states[tour.id] = Live(
                name=tour.name,
                open_now=open_now,
                opens_at=opens_at,
                open_today=open_today,
                crowd_level=crowd,
                latitude=first.latitude if first else None,
                longitude=first.longitude if first else None,
                photo=tour.cover_photo,
                extra={"night": tour.night, "stops": len(stops)},
            )
        return states

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
        import importlib

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


async def live_states(item_ids: Iterable[str], *, at: datetime) -> dict[str, Live]:
    """The fresh state of each visible item at `at`; hidden and unknown items are missing."""
    by_type: dict[str, list[int]] = {}
    for item_id in item_ids:
        parsed = parse_item_id(item_id)
        if parsed is not None and parsed[0] in sources():
            by_type.setdefault(parsed[0], []).append(parsed[1])
    states: dict[str, Live] = {}
    for type_name, numbers in by_type.items():
        found = await sources()[type_name].live(numbers, at=at)
        states.update({f"{type_name}:{number}": live for number, live in found.items()})
    return states


async def usage_since(since: datetime) -> dict[str, float]:
    """Each item's use by visitors since `since`, from its own domain (bookings, tour walks)."""
    usage: dict[str, float] = {}
    for type_name, source in sources().items():
        found = await source.usage_since(since)
        usage.update({f"{type_name}:{number}": count for number, count in found.items()})
    return usage
