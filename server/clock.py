"""Local time in Wenzhou: every rule about days and hours is judged in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from server.config import TIMEZONE

LOCAL_TZ = ZoneInfo(TIMEZONE)


def local_now() -> datetime:
    """The current time in Asia/Shanghai, timezone-aware."""
    return datetime.now(LOCAL_TZ)
