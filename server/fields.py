"""Model fields the ORM lacks in the form we need."""

from __future__ import annotations

from datetime import time
from typing import Any

from tortoise.fields import Field


class LocalTimeField(Field[time], time):
    """A wall-clock time of day in Wenzhou, stored as 'HH:MM:SS' text.

    Tortoise's TimeField attaches a time zone to times of day and SQLite cannot bind them;
    opening hours and slot windows are local wall-clock times, so text sorts and compares right
    on every database.
    """

    SQL_TYPE = "VARCHAR(8)"
    field_type = time

    def to_db_value(self, value: time | None, instance: Any) -> str | None:
        return None if value is None else value.replace(tzinfo=None).isoformat(timespec="seconds")

    def to_python_value(self, value: Any) -> time | None:
        if value is None or isinstance(value, time):
            return value
        return time.fromisoformat(value)
