"""Request and response shapes of recommendations, similar items, events and interests."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from i18n import gettext, pick
from recommend.items import ITEM_TYPES
from recommend.profiles import INTERESTS
from recommend.ranking import Reason, Recommendation
from server.http import typed_id

ItemType = Literal["venue", "tour", "restaurant", "dish", "event"]  # items.ITEM_TYPES
ItemId = typed_id(*ITEM_TYPES)
MAX_LIMIT = 50
REASON_SEPARATOR = " · "


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, values: Any) -> Any:
        """`?type=` means no type filter, not an empty one."""
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if value != ""}
        return values


class RecommendationsQuery(_Query):
    type: ItemType | None = Field(None, description="only items of this type")
    lat: float | None = Field(
        None, ge=-90, le=90, allow_inf_nan=False, description="the visitor's latitude, WGS-84"
    )
    lng: float | None = Field(
        None, ge=-180, le=180, allow_inf_nan=False, description="the visitor's longitude, WGS-84"
    )
    at: datetime | None = Field(
        None, description="the planned time, ISO 8601 (Wenzhou time if no offset); default now"
    )
    limit: int = Field(10, ge=1, le=MAX_LIMIT, description=f"most items, 1 to {MAX_LIMIT}")
    lang: str | None = Field(None, description="zh-CN or en (else Accept-Language)")

    @model_validator(mode="after")
    def _position_is_whole(self) -> RecommendationsQuery:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("give both lat and lng, or neither")
        return self

    @property
    def position(self) -> tuple[float, float] | None:
        """(lat, lng) when the visitor gave a position."""
        return None if self.lat is None or self.lng is None else (self.lat, self.lng)


class SimilarQuery(_Query):
    limit: int = Field(10, ge=1, le=MAX_LIMIT, description=f"most items, 1 to {MAX_LIMIT}")
    lang: str | None = Field(None, description="zh-CN or en (else Accept-Language)")


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: ItemId = Field(..., max_length=48, description='an item id, e.g. "venue:12"')
    kind: Literal["view", "favourite", "unfavourite"]


class InterestsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interests: list[str] = Field(
        ..., max_length=12, description=f"interest codes: {', '.join(INTERESTS)}"
    )


class ItemOut(BaseModel):
    id: str = Field(description='unique across types, e.g. "venue:12"')
    type: ItemType
    name: str
    category: str
    kind: str = Field(description="the finer sort: museum, scenic_area, restaurant, dish ...")
    latitude: float | None
    longitude: float | None
    distance_m: float | None = Field(description="from the position given, when there is one")
    open_now: bool = Field(description="open (or, for a dish, served) at the time asked")
    opens_at: str | None = Field(description="when it opens later that day, if not open now")
    crowd_level: Literal["comfortable", "busy", "crowded", "full"] | None
    photo: str


class RecommendationOut(BaseModel):
    item: ItemOut
    score: float
    reason: str = Field(description="why it is shown, in the caller's language")
    reason_code: str = Field(description="the reason as a code: because_you_liked, nearby ...")


class InterestOptionOut(BaseModel):
    code: str
    label: str


class InterestsOut(BaseModel):
    interests: list[str] = Field(description="the codes the visitor chose")
    options: list[InterestOptionOut] = Field(description="every interest offered")


class EventOut(BaseModel):
    item_id: str
    kind: str
    recorded: bool = Field(description="false for a view repeated within minutes")


def reason_text(reason: Reason, language: str) -> str:
    """The reason (and its note) as one short sentence in `language`."""
    params: dict[str, Any] = {}
    for key, value in {**reason.params, **reason.note_params}.items():
        params[key] = pick(value, language) if isinstance(value, dict) else value
    if "distance_m" in params:
        distance = float(params.pop("distance_m"))
        params["distance"] = (
            f"{distance / 1000:.1f} km" if distance >= 1000 else f"{round(distance, -1):.0f} m"
        )
    text = gettext(f"recommend.reason.{reason.code}", language, **params)
    if reason.note:
        text += REASON_SEPARATOR + gettext(f"recommend.note.{reason.note}", language, **params)
    return text


def recommendation_out(recommendation: Recommendation, language: str) -> RecommendationOut:
    """One recommendation in the caller's language."""
    item, live = recommendation.item, recommendation.live
    return RecommendationOut(
        item=ItemOut(
            id=item.id,
            type=item.type,
            name=pick(live.name or item.name, language),
            category=pick(item.category, language),
            kind=item.kind or item.type,
            latitude=live.latitude if live.latitude is not None else item.latitude,
            longitude=live.longitude if live.longitude is not None else item.longitude,
            distance_m=None
            if recommendation.distance_m is None
            else round(recommendation.distance_m, 1),
            open_now=live.open_now,
            opens_at=live.opens_at.strftime("%H:%M") if live.opens_at else None,
            crowd_level=live.crowd_level,
            photo=live.photo or "",
        ),
        score=recommendation.score,
        reason=reason_text(recommendation.reason, language),
        reason_code=recommendation.reason.code,
    )


def interests_out(chosen: list[str], language: str) -> InterestsOut:
    """The visitor's interests and every option, labelled in `language`."""
    return InterestsOut(
        interests=chosen,
        options=[
            InterestOptionOut(code=interest.code, label=pick(interest.label, language))
            for interest in INTERESTS.values()
        ],
    )
