"""Request shapes of the admin side: venue edits, closing days, staff, audit, cockpit, exports."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.accounts.models import Role
from server.http import RowId
from server.venues.models import VenueKind

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
MAX_RANGE_DAYS = 366


class LocalizedText(BaseModel):
    """A text in Chinese and, optionally, English."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    zh_CN: str = Field(..., alias="zh-CN", min_length=1, max_length=2000)
    en: str = Field("", max_length=2000)

    def as_json(self) -> dict[str, str]:
        """The stored {"zh-CN": ..., "en": ...} form."""
        return {"zh-CN": self.zh_CN, "en": self.en} if self.en else {"zh-CN": self.zh_CN}


class OpeningHoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(..., ge=0, le=6, description="0 = Monday")
    opens_at: str = Field(..., pattern=HHMM)
    closes_at: str = Field(..., pattern=HHMM)
    last_entry_at: str | None = Field(None, pattern=HHMM)

    @model_validator(mode="after")
    def _opens_before_closing(self) -> OpeningHoursIn:
        if self.opens_at >= self.closes_at:
            raise ValueError("opens_at must be before closes_at")
        if self.last_entry_at and not self.opens_at <= self.last_entry_at <= self.closes_at:
            raise ValueError("last_entry_at must lie within the opening hours")
        return self

    def as_row(self) -> dict:
        """The service's form, with times of day."""
        return {
            "weekday": self.weekday,
            "opens_at": dt.time.fromisoformat(self.opens_at),
            "closes_at": dt.time.fromisoformat(self.closes_at),
            "last_entry_at": dt.time.fromisoformat(self.last_entry_at)
            if self.last_entry_at
            else None,
        }


class VenueEditIn(BaseModel):
    """Any subset of a venue's details; `opening_hours` replaces the whole week."""

    model_config = ConfigDict(extra="forbid")

    name: LocalizedText | None = None
    description: LocalizedText | None = None
    address: LocalizedText | None = None
    transport: LocalizedText | None = None
    phone: str | None = Field(None, max_length=32, pattern=r"^[0-9+()\- ]*$")
    website: str | None = Field(None, max_length=255, pattern=r"^(https?://\S+)?$")
    reservable: bool | None = None
    hidden: bool | None = None
    a_level: int | None = Field(None, ge=1, le=5)
    opening_hours: list[OpeningHoursIn] | None = Field(None, max_length=7)

    @field_validator("opening_hours")
    @classmethod
    def _one_row_per_weekday(cls, value: list[OpeningHoursIn] | None) -> object:
        if value is not None and len({h.weekday for h in value}) != len(value):
            raise ValueError("each weekday may appear once")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> VenueEditIn:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        for name in self.model_fields_set - {"a_level"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict:
        """The venue fields the request named, in their stored form (hours apart)."""
        given = {}
        for name in self.model_fields_set - {"opening_hours"}:
            value = getattr(self, name)
            given[name] = value.as_json() if isinstance(value, LocalizedText) else value
        return given

    def hours(self) -> list[dict] | None:
        """The new week of opening hours, or None to keep it."""
        if self.opening_hours is None:
            return None
        return [h.as_row() for h in self.opening_hours]


class VenueListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: VenueKind | None = None


class ClosingDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    reason: LocalizedText


class ClosingDaysQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    since: dt.date | None = Field(None, description="from this day on (default today)")


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(..., min_length=10, max_length=256)
    role: Literal[Role.VENUE_STAFF, Role.VENUE_MANAGER] = Role.VENUE_STAFF


class StaffChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: bool


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    actor_id: RowId | None = None
    action: str | None = Field(None, max_length=64, description='exact, or a prefix ending in "."')
    target: str | None = Field(None, max_length=110, description='"venue:12", or a type: "venue"')
    since: dt.date | None = Field(None, description="first local day, inclusive")
    until: dt.date | None = Field(None, description="last local day, inclusive")
    # The audit log alone has 64-bit ids (fields.BigIntField): a larger cursor names nothing.
    before_id: int | None = Field(
        None, ge=1, le=2**63 - 1, description="the next page: the last id seen"
    )
    limit: int = Field(50, ge=1, le=500)


class DayQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    date: dt.date | None = Field(None, description="the day, YYYY-MM-DD (default today)")
    lang: str | None = None


class RangeQuery(BaseModel):
    """A range of local days, both ends included; at most a year."""

    model_config = ConfigDict(extra="ignore")

    start: dt.date | None = Field(None, description="first day (default 6 days before end)")
    end: dt.date | None = Field(None, description="last day (default today)")
    lang: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RangeQuery:
        if self.start and self.end and self.start > self.end:
            raise ValueError("start must not be after end")
        return self


class ExportQuery(RangeQuery):
    format: Literal["csv", "xlsx"] = Field("csv", description="csv or xlsx")
