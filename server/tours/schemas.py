"""Request and response shapes of guided tours and the day planner."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from i18n import gettext, pick
from server.food.models import Restaurant
from server.http import RowId, typed_id
from server.tours.models import TourStop
from server.tours.planner import DayPlan, Place
from server.tours.service import NearestStop, Progress, TourRoute
from server.venues.models import Venue

MAX_RADIUS_M = 50_000
MAX_PLACES = 20
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="WGS-84")]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="WGS-84")]
PlaceKey = typed_id("venue", "restaurant")


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if value != ""}
        return values


class ToursQuery(_Query):
    venue_id: RowId | None = Field(None, description="tours of this venue or passing it")
    night: bool | None = Field(None, description="only night tours (全域夜游), or only day ones")
    lang: str | None = Field(None, description="zh-CN or en (else Accept-Language)")


class LanguageQuery(_Query):
    lang: str | None = Field(None, description="zh-CN or en (else Accept-Language)")


class NearestQuery(_Query):
    lat: Latitude
    lng: Longitude
    radius_m: float = Field(
        100, gt=0, le=MAX_RADIUS_M, allow_inf_nan=False, description="how far to look, metres"
    )
    lang: str | None = Field(None, description="zh-CN or en (else Accept-Language)")


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stop_id: RowId = Field(..., description="the stop reached")


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: PlaceKey = Field(..., description="venue:12 or restaurant:7")
    minutes: int | None = Field(None, ge=5, le=600, description="time to spend there")


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: Latitude | None = None
    lng: Longitude | None = None
    place: PlaceKey | None = Field(None, description="or start at a place")

    @model_validator(mode="after")
    def _one_way_to_say_where(self) -> StartIn:
        if self.place is None and (self.lat is None or self.lng is None):
            raise ValueError("give lat and lng, or a place")
        return self


class PlannerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    places: list[PlaceIn] = Field(..., min_length=1, max_length=MAX_PLACES)
    start: StartIn
    date: dt.date | None = Field(None, description="the day, YYYY-MM-DD (today by default)")
    start_time: dt.time = Field(dt.time(9, 0), description="when the day starts, HH:MM")
    end_time: dt.time = Field(dt.time(22, 0), description="when it must end, HH:MM")
    travel: Literal["walk", "drive"] = Field("walk", description="walk, or drive (taxi, car)")

    @field_validator("places", mode="before")
    @classmethod
    def _plain_ids_allowed(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"id": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("places")
    @classmethod
    def _no_place_twice(cls, places: list[PlaceIn]) -> list[PlaceIn]:
        seen: set[str] = set()
        for place in places:
            if place.id in seen:
                raise ValueError(f"{place.id} is given twice")
            seen.add(place.id)
        return places

    @model_validator(mode="after")
    def _day_has_length(self) -> PlannerIn:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class StopOut(BaseModel):
    id: int
    position: int
    name: str
    narration: str
    latitude: float
    longitude: float
    venue_id: int | None
    audio_url: str | None
    panorama_url: str | None
    minutes: int = Field(description="suggested minutes at the stop")
    walk_m: float = Field(description="walking distance from the previous stop, metres")
    walk_minutes: int = Field(description="walking time from the previous stop")


class TourOut(BaseModel):
    id: int
    code: str
    name: str
    summary: str
    venue_id: int | None
    night: bool = Field(description="a night tour (全域夜游)")
    starts_at: str | None = Field(description="suggested time to set out, HH:MM")
    cover_photo: str
    stop_count: int
    distance_m: float
    walk_minutes: int
    stop_minutes: int
    total_minutes: int
    walking_speed_kmh: float
    stops: list[StopOut]


class NearestOut(BaseModel):
    tour_id: int
    stop: StopOut | None = Field(description="the nearest stop if within radius_m, with narration")
    nearest_stop_id: int | None
    distance_m: float | None = Field(description="distance to the nearest stop, in or out of reach")
    radius_m: float


class VisitedOut(BaseModel):
    stop_id: int
    position: int
    visited_at: dt.datetime


class ProgressOut(BaseModel):
    tour_id: int
    stop_count: int
    visited_count: int
    completed: bool
    visited: list[VisitedOut]
    next_stop: StopOut | None = Field(description="where to resume: the first stop not visited")


class PlaceOut(BaseModel):
    id: str = Field(description="venue:12 or restaurant:7")
    type: str
    name: str
    latitude: float
    longitude: float


class PlannedVisitOut(BaseModel):
    item: PlaceOut
    travel_m: float
    travel_minutes: int
    arrive_at: str
    wait_minutes: int
    start_at: str
    leave_at: str
    minutes: int


class UnplacedOut(BaseModel):
    item: PlaceOut
    reason: str = Field(
        description="closed_that_day, not_open_in_time, beyond_day_end or no_time_left"
    )
    message: str


class PlanOut(BaseModel):
    date: dt.date
    travel: str
    start_at: str
    finish_at: str
    travel_m: float
    travel_minutes: int
    visits: list[PlannedVisitOut]
    unplaced: list[UnplacedOut]


def _hhmm(minutes: int) -> str:
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}"


def stop_out(stop: TourStop, language: str, walk_m: float = 0.0, walk_minutes: int = 0) -> StopOut:
    """The public view of a stop in one language, with the walk to it."""
    return StopOut(
        id=stop.id,
        position=stop.position,
        name=pick(stop.name, language),
        narration=pick(stop.narration, language),
        latitude=stop.latitude,
        longitude=stop.longitude,
        venue_id=stop.venue_id,
        audio_url=pick(stop.audio_url, language) or None,
        panorama_url=stop.panorama_url or None,
        minutes=stop.minutes,
        walk_m=round(walk_m, 1),
        walk_minutes=walk_minutes,
    )


def _stops_out(route: TourRoute, language: str) -> dict[int, StopOut]:
    return {
        stop.id: stop_out(stop, language, leg.distance_m, leg.minutes)
        for stop, leg in zip(route.stops, route.legs, strict=True)
    }


def tour_out(route: TourRoute, language: str) -> TourOut:
    """The public view of a tour in one language, its stops with walking distances and totals."""
    tour = route.tour
    return TourOut(
        id=tour.id,
        code=tour.code,
        name=pick(tour.name, language),
        summary=pick(tour.summary, language),
        venue_id=tour.venue_id,
        night=tour.night,
        starts_at=tour.starts_at.strftime("%H:%M") if tour.starts_at else None,
        cover_photo=tour.cover_photo,
        stop_count=len(route.stops),
        distance_m=round(route.distance_m, 1),
        walk_minutes=route.walk_minutes,
        stop_minutes=route.stop_minutes,
        total_minutes=route.walk_minutes + route.stop_minutes,
        walking_speed_kmh=route.walking_speed_kmh,
        stops=list(_stops_out(route, language).values()),
    )


def route_geojson(route: TourRoute, language: str) -> dict:
    """The tour for a map: a LineString through the stops, then a Point per stop ([lng, lat])."""
    features: list[dict] = []
    if len(route.stops) >= 2:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[s.longitude, s.latitude] for s in route.stops],
                },
                "properties": {
                    "kind": "route",
                    "tour_id": route.tour.id,
                    "name": pick(route.tour.name, language),
                    "distance_m": round(route.distance_m, 1),
                    "walk_minutes": route.walk_minutes,
                },
            }
        )
    for stop in route.stops:
        features.append(
            {
                "type": "Feature",
                "id": stop.id,
                "geometry": {"type": "Point", "coordinates": [stop.longitude, stop.latitude]},
                "properties": {
                    "kind": "stop",
                    "stop_id": stop.id,
                    "position": stop.position,
                    "name": pick(stop.name, language),
                    "minutes": stop.minutes,
                    "venue_id": stop.venue_id,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def nearest_out(
    tour_id: int, found: NearestStop | None, radius_m: float, language: str
) -> NearestOut:
    """The answer to "where am I": the stop within reach with its narration, or none."""
    return NearestOut(
        tour_id=tour_id,
        stop=stop_out(found.stop, language) if found and found.within_radius else None,
        nearest_stop_id=found.stop.id if found else None,
        distance_m=round(found.distance_m, 1) if found else None,
        radius_m=radius_m,
    )


def progress_out(progress: Progress, route: TourRoute, language: str) -> ProgressOut:
    """The visitor's progress on a tour and the stop to resume at."""
    stops = _stops_out(route, language)
    return ProgressOut(
        tour_id=progress.tour.id,
        stop_count=len(route.stops),
        visited_count=len(progress.visited),
        completed=progress.completed,
        visited=[
            VisitedOut(stop_id=stop.id, position=stop.position, visited_at=at)
            for stop, at in progress.visited
        ],
        next_stop=stops[progress.next_stop.id] if progress.next_stop else None,
    )


def place_out(key: str, entity: Venue | Restaurant, language: str) -> PlaceOut:
    """A planned place (venue or restaurant) as the planner's answer names it."""
    return PlaceOut(
        id=key,
        type=key.partition(":")[0],
        name=pick(entity.name, language),
        latitude=entity.latitude,
        longitude=entity.longitude,
    )


def plan_out(
    plan: DayPlan, day: dt.date, travel: str, places: dict[str, PlaceOut], language: str
) -> PlanOut:
    """The planned day in one language: visits in order, and what could not fit and why."""

    def item(place: Place) -> PlaceOut:
        return places[place.key]

    return PlanOut(
        date=day,
        travel=travel,
        start_at=_hhmm(plan.start),
        finish_at=_hhmm(plan.finish),
        travel_m=round(plan.travel_m, 1),
        travel_minutes=plan.travel_minutes,
        visits=[
            PlannedVisitOut(
                item=item(visit.place),
                travel_m=round(visit.travel_m, 1),
                travel_minutes=visit.travel_minutes,
                arrive_at=_hhmm(visit.arrive),
                wait_minutes=visit.wait_minutes,
                start_at=_hhmm(visit.start),
                leave_at=_hhmm(visit.leave),
                minutes=visit.place.minutes,
            )
            for visit in plan.visits
        ],
        unplaced=[
            UnplacedOut(
                item=item(left.place),
                reason=left.reason.value,
                message=gettext(f"planner.{left.reason.value}", language),
            )
            for left in plan.unplaced
        ],
    )
