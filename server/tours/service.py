"""Guided tours: listing, routes with walking times, the stop nearest a visitor, progress; and
the day planner over venues and restaurants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from tortoise.expressions import Q, Subquery

from server.food import service as food
from server.food.errors import RestaurantNotFound
from server.food.models import Restaurant
from server.tours.errors import PlaceNotFound, StopNotOnTour, TourNotFound
from server.tours.geo import haversine_m, travel_minutes
from server.tours.models import Tour, TourProgress, TourStop
from server.tours.planner import DayPlan, Place, Session, plan_route
from server.venues import service as venues
from server.venues.errors import VenueNotFound
from server.venues.models import Venue, VenueKind


@dataclass(frozen=True)
class Leg:
    """The walk to a stop from the one before it (zero for the first stop)."""

    distance_m: float
    minutes: int


@dataclass(frozen=True)
class TourRoute:
    """A tour's stops in order with the walk to each, and the totals."""

    tour: Tour
    stops: list[TourStop]
    legs: list[Leg]
    walking_speed_kmh: float

    @property
    def distance_m(self) -> float:
        """The whole walk, first stop to last, in metres."""
        return sum(leg.distance_m for leg in self.legs)

    @property
    def walk_minutes(self) -> int:
        """Minutes spent walking between stops."""
        return sum(leg.minutes for leg in self.legs)

    @property
    def stop_minutes(self) -> int:
        """Minutes spent at the stops."""
        return sum(stop.minutes for stop in self.stops)


def ordered_stops(tour: Tour) -> list[TourStop]:
    """The tour's stops (prefetched) in position order."""
    return sorted(tour.stops, key=lambda stop: stop.position)


def route_of(tour: Tour, *, walking_speed_kmh: float) -> TourRoute:
    """The tour's route: haversine walking distance and time between consecutive stops."""
    stops = ordered_stops(tour)
    legs = []
    for previous, stop in zip([None, *stops], stops, strict=False):
        distance = 0.0
        if previous is not None:
            distance = haversine_m(
                previous.latitude, previous.longitude, stop.latitude, stop.longitude
            )
        legs.append(Leg(distance, travel_minutes(distance, walking_speed_kmh)))
    return TourRoute(tour, stops, legs, walking_speed_kmh)


async def list_tours(*, venue_id: int | None = None, night: bool | None = None) -> list[Tour]:
    """Visible tours by id, with their stops: of one venue (its own or passing by it) or all."""
    query = Tour.filter(hidden=False)
    if venue_id is not None:
        await venues.get_venue(venue_id=venue_id)
        passing = TourStop.filter(venue_id=venue_id).values("tour_id")
        query = query.filter(Q(venue_id=venue_id) | Q(id__in=Subquery(passing)))
    if night is not None:
        query = query.filter(night=night)
    return await query.order_by("id").prefetch_related("stops")


async def get_tour(*, tour_id: int) -> Tour:
    """One visible tour with its stops; TourNotFound otherwise."""
    tour = await Tour.filter(id=tour_id, hidden=False).prefetch_related("stops").first()
    if tour is None:
        raise TourNotFound(tour_id=tour_id)
    return tour


@dataclass(frozen=True)
class NearestStop:
    """The tour's stop closest to a position, its distance, and whether it is within reach."""

    stop: TourStop
    distance_m: float
    within_radius: bool


def nearest_stop(tour: Tour, *, lat: float, lng: float, radius_m: float) -> NearestStop | None:
    """ "Where am I": the closest stop to the visitor's position (None for a tour without stops)."""
    stops = ordered_stops(tour)
    if not stops:
        return None
    distance, stop = min(
        ((haversine_m(lat, lng, s.latitude, s.longitude), s) for s in stops),
        key=lambda pair: (pair[0], pair[1].position),
    )
    return NearestStop(stop, distance, distance <= radius_m)


@dataclass(frozen=True)
class Progress:
    """How far a visitor has come on a tour; `next_stop` is where to resume."""

    tour: Tour
    visited: list[tuple[TourStop, datetime]]
    next_stop: TourStop | None

    @property
    def completed(self) -> bool:
        """True once every stop has been visited."""
        return len(self.visited) == len(self.tour.stops) > 0


async def progress_of(*, visitor_id: int, tour_id: int) -> Progress:
    """The visitor's visited stops in tour order and the first one still to visit."""
    tour = await get_tour(tour_id=tour_id)
    visits = dict(
        await TourProgress.filter(visitor_id=visitor_id, tour_id=tour.id).values_list(
            "stop_id", "visited_at"
        )
    )
    stops = ordered_stops(tour)
    visited = [(stop, visits[stop.id]) for stop in stops if stop.id in visits]
    next_stop = next((stop for stop in stops if stop.id not in visits), None)
    return Progress(tour, visited, next_stop)


async def mark_visited(*, visitor_id: int, tour_id: int, stop_id: int, now: datetime) -> Progress:
    """Record that the visitor reached a stop of the tour; marking it again changes nothing."""
    tour = await get_tour(tour_id=tour_id)
    if stop_id not in {stop.id for stop in tour.stops}:
        raise StopNotOnTour(tour_id=tour_id, stop_id=stop_id)
    # Two taps at once (or two devices) race to the unique key; the first visit time is kept.
    await TourProgress.bulk_create(
        [TourProgress(visitor_id=visitor_id, tour_id=tour.id, stop_id=stop_id, visited_at=now)],
        ignore_conflicts=True,
    )
    return await progress_of(visitor_id=visitor_id, tour_id=tour_id)


async def restart(*, visitor_id: int, tour_id: int) -> Progress:
    """Forget the visitor's progress on the tour, to walk it again from the first stop."""
    await get_tour(tour_id=tour_id)
    await TourProgress.filter(visitor_id=visitor_id, tour_id=tour_id).delete()
    return await progress_of(visitor_id=visitor_id, tour_id=tour_id)


# --- the day planner ------------------------------------------------------------------------

# Suggested stays when the visitor gives none, by what the place is.
STAY_MINUTES = {
    VenueKind.SCENIC_AREA: 150,
    VenueKind.MUSEUM: 90,
    VenueKind.LIBRARY: 60,
    VenueKind.THEATRE: 120,
    VenueKind.STREET: 60,
    VenueKind.HERITAGE_SITE: 60,
}
MEAL_MINUTES = 60
# A rough door-to-door speed for taxis and cars in Wenzhou traffic, over straight-line distance.
DRIVING_SPEED_KMH = 25.0


@dataclass(frozen=True)
class PlaceWish:
    """A place the visitor wants in the day ("venue:12", "restaurant:7"), maybe with a stay."""

    key: str
    minutes: int | None = None
    field: str = "places"  # the request field that named it, for a refusal


def _minute_of(moment: time) -> int:
    return moment.hour * 60 + moment.minute


async def _load_place(wish: PlaceWish, day: date) -> tuple[Place, Venue | Restaurant]:
    kind, _, number = wish.key.partition(":")
    try:
        if kind == "venue":
            venue = await venues.get_venue(venue_id=int(number))
            hours = venues.hours_on(venue, day)
            sessions = ()
            if hours.is_open_day:
                last_entry = _minute_of(hours.last_entry_at) if hours.last_entry_at else None
                sessions = (
                    Session(_minute_of(hours.opens_at), _minute_of(hours.closes_at), last_entry),
                )
            minutes = wish.minutes or STAY_MINUTES.get(venue.kind, 60)
            return Place(wish.key, venue.latitude, venue.longitude, minutes, sessions), venue
        restaurant = await food.get_restaurant(restaurant_id=int(number))
    except (VenueNotFound, RestaurantNotFound):
        raise PlaceNotFound(field=wish.field, place=wish.key) from None
    sessions = tuple(
        Session(opens, closes) for opens, closes in food.sessions_on(restaurant.hours, day)
    )
    place = Place(
        wish.key, restaurant.latitude, restaurant.longitude, wish.minutes or MEAL_MINUTES, sessions
    )
    return place, restaurant


async def plan_day(
    *,
    wishes: list[PlaceWish],
    start: tuple[float, float] | PlaceWish,
    day: date,
    starts_at: time,
    ends_at: time,
    speed_kmh: float,
) -> tuple[DayPlan, dict[str, Venue | Restaurant]]:
    """Order the visitor's places into the day, by their hours on `day`; say what cannot fit.

    `start` is a position (lat, lng) or a place; the answer's places are keyed "venue:12".
    """
    loaded = [await _load_place(wish, day) for wish in wishes]
    if isinstance(start, PlaceWish):
        start_place, _ = await _load_place(start, day)
        start = (start_place.latitude, start_place.longitude)
    plan = plan_route(
        start=start,
        start_minute=_minute_of(starts_at),
        end_minute=_minute_of(ends_at),
        places=[place for place, _ in loaded],
        speed_kmh=speed_kmh,
    )
    return plan, {place.key: entity for place, entity in loaded}
