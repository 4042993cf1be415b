"""Request and response shapes of the food map (百县千碗)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from i18n import gettext, pick
from server.food.counties import COUNTIES, county_code, county_names
from server.food.models import Dish, Restaurant, Review, ReviewStatus
from server.food.service import MAX_RADIUS_M, is_night_open, is_open_at

DEFAULT_RADIUS_M = 3000


def _known_county(value: str) -> str:
    code = county_code(value)
    if code is None:
        raise ValueError(f"unknown county; one of {', '.join(COUNTIES)}")
    return code


County = Annotated[str, AfterValidator(_known_county)]


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, values: Any) -> Any:
        """`?dish=` means no dish filter, not an empty one."""
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if value != ""}
        return values


class RestaurantsQuery(_Query):
    lat: float = Field(..., ge=-90, le=90, allow_inf_nan=False, description="latitude, WGS-84")
    lng: float = Field(..., ge=-180, le=180, allow_inf_nan=False, description="longitude, WGS-84")
    radius_m: float = Field(
        DEFAULT_RADIUS_M,
        gt=0,
        le=MAX_RADIUS_M,
        allow_inf_nan=False,
        description=f"search radius in metres, at most {MAX_RADIUS_M}",
    )
    dish: str | None = Field(
        None, max_length=60, description="a dish id, code or name: only restaurants serving it"
    )
    q: str | None = Field(None, max_length=60, description="search text, Chinese or English")
    county: County | None = Field(None, description="a county code or name (鹿城, Rui'an, ...)")
    open_now: bool | None = Field(None, description="only restaurants open (or closed) now")
    night: bool | None = Field(None, description="only restaurants serving after 21:00 (夜宵)")
    price: str | None = Field(
        None, pattern=r"^[1-4](,[1-4])*$", description="price levels 1-4, comma-separated: 1,2"
    )
    certified: bool | None = Field(None, description="only 百县千碗 certified restaurants")
    format: Literal["json", "geojson"] = Field("json", description="json (a list) or geojson")
    limit: int = Field(50, ge=1, le=200, description="most restaurants in the answer")
    lang: str | None = Field(None, description="zh-CN or en (else Accept-Language)")

    @property
    def price_levels(self) -> set[int] | None:
        """The price levels asked for, or None for any."""
        return {int(level) for level in self.price.split(",")} if self.price else None


class DishesQuery(_Query):
    q: str | None = Field(None, max_length=60, description="search text, Chinese or English")
    county: County | None = Field(None, description="a county code or name")
    lang: str | None = Field(None, description="zh-CN or en (else Accept-Language)")


class LanguageQuery(_Query):
    lang: str | None = Field(None, description="zh-CN or en (else Accept-Language)")


class ReviewsQuery(LanguageQuery):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(..., ge=1, le=5, description="1 to 5 stars")
    text: str = Field("", max_length=1000, description="what the visitor says, up to 1000 chars")

    @field_validator("text")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()


class HoursOut(BaseModel):
    weekday: int
    opens_at: str
    closes_at: str = Field(description="at or before opens_at: the session runs past midnight")


class DishRefOut(BaseModel):
    id: int
    code: str
    name: str
    signature: bool
    price_cents: int | None


class RestaurantOut(BaseModel):
    id: int
    code: str
    name: str
    description: str
    address: str
    county: str
    county_code: str
    latitude: float
    longitude: float
    distance_m: float | None = Field(description="from the point searched, when there is one")
    phone: str
    photos: list[str]
    price_level: int
    certified: bool = Field(description="a 百县千碗 certified restaurant")
    rating: float | None = Field(description="average of published reviews, 1-5")
    review_count: int
    open_now: bool
    night_open: bool
    opening_hours: list[HoursOut]
    dishes: list[DishRefOut]


class DishOut(BaseModel):
    id: int
    code: str
    name: str
    story: str
    county: str
    county_code: str
    tags: list[str]
    aliases: list[str]
    photo: str


class DishDetailOut(DishOut):
    restaurants: list[RestaurantOut] = Field(description="where to eat it, best first")


class ReviewOut(BaseModel):
    id: int
    restaurant_id: int
    rating: int
    text: str
    status: ReviewStatus
    notice: str | None = Field(None, description="why the review is not shown yet, if it is not")
    created_at: datetime
    updated_at: datetime


class PublicReviewOut(BaseModel):
    id: int
    rating: int
    text: str
    created_at: datetime
    updated_at: datetime


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _listed(field: dict | None, language: str) -> list[str]:
    field = field or {}
    return list(field.get(language) or field.get("zh-CN") or [])


def restaurant_out(
    restaurant: Restaurant, language: str, now: datetime, distance_m: float | None = None
) -> RestaurantOut:
    """The public view of a restaurant (hours and menu loaded) in one language at `now`."""
    hours = list(restaurant.hours)
    menu = sorted(restaurant.menu, key=lambda item: (not item.signature, item.dish_id))
    return RestaurantOut(
        id=restaurant.id,
        code=restaurant.code,
        name=pick(restaurant.name, language),
        description=pick(restaurant.description, language),
        address=pick(restaurant.address, language),
        county=pick(county_names(restaurant.county), language),
        county_code=restaurant.county,
        latitude=restaurant.latitude,
        longitude=restaurant.longitude,
        distance_m=None if distance_m is None else round(distance_m, 1),
        phone=restaurant.phone,
        photos=list(restaurant.photos),
        price_level=restaurant.price_level,
        certified=restaurant.certified,
        rating=None if restaurant.rating is None else round(restaurant.rating, 2),
        review_count=restaurant.review_count,
        open_now=is_open_at(hours, now),
        night_open=is_night_open(hours),
        opening_hours=[
            HoursOut(weekday=h.weekday, opens_at=_hhmm(h.opens_at), closes_at=_hhmm(h.closes_at))
            for h in sorted(hours, key=lambda h: (h.weekday, h.opens_at))
        ],
        dishes=[
            DishRefOut(
                id=item.dish.id,
                code=item.dish.code,
                name=pick(item.dish.name, language),
                signature=item.signature,
                price_cents=item.price_cents,
            )
            for item in menu
        ],
    )


def restaurants_geojson(shaped: list[RestaurantOut]) -> dict:
    """A GeoJSON FeatureCollection of restaurants: one Point ([lng, lat]) each, nearest first."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": restaurant.id,
                "geometry": {
                    "type": "Point",
                    "coordinates": [restaurant.longitude, restaurant.latitude],
                },
                "properties": restaurant.model_dump(mode="json", exclude={"latitude", "longitude"}),
            }
            for restaurant in shaped
        ],
    }


def dish_out(dish: Dish, language: str) -> DishOut:
    """The public view of a dish in one language."""
    return DishOut(
        id=dish.id,
        code=dish.code,
        name=pick(dish.name, language),
        story=pick(dish.story, language),
        county=pick(county_names(dish.county), language),
        county_code=dish.county,
        tags=_listed(dish.tags, language),
        aliases=_listed(dish.aliases, language),
        photo=dish.photo,
    )


def dish_detail_out(
    dish: Dish, restaurants: list[Restaurant], language: str, now: datetime
) -> DishDetailOut:
    """A dish with the best restaurants to eat it."""
    return DishDetailOut(
        **dish_out(dish, language).model_dump(),
        restaurants=[restaurant_out(r, language, now) for r in restaurants],
    )


def review_out(review: Review, language: str) -> ReviewOut:
    """The author's view of their review, with a notice when it waits for a moderator."""
    notice = None
    if review.status != ReviewStatus.PUBLISHED:
        notice = gettext(f"review.{review.status.value}", language)
    return ReviewOut(
        id=review.id,
        restaurant_id=review.restaurant_id,
        rating=review.rating,
        text=review.text,
        status=review.status,
        notice=notice,
        created_at=review.created_at,
        updated_at=review.updated_at,
    )


def public_review_out(review: Review) -> PublicReviewOut:
    """A published review as every visitor sees it (no author details)."""
    return PublicReviewOut(
        id=review.id,
        rating=review.rating,
        text=review.text,
        created_at=review.created_at,
        updated_at=review.updated_at,
    )
