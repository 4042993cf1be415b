"""Using a hold inside a booking's transaction (no service imports: the reservations service calls
this, and the hold service builds on the reservations service)."""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from server.release.errors import HoldNotUsable
from server.release.models import HoldStatus, SlotHold


async def use_hold(
    connection: BaseDBAsyncClient,
    *,
    hold_id: int,
    visitor_id: int,
    slot_id: int,
    party: int,
    now: datetime,
) -> int:
    """Turn the visitor's live hold into a booking's places; return how many it held."""
    live = SlotHold.filter(
        id=hold_id,
        visitor_id=visitor_id,
        slot_id=slot_id,
        status=HoldStatus.HELD,
        expires_at__gt=now,
        places__gte=party,
    ).using_db(connection)
    places = await live.values_list("places", flat=True)
    # Conditional on "held": of a booking and the expiry racing for the hold, one flips it.
    if not places or not await live.update(status=HoldStatus.USED, active=None):
        raise HoldNotUsable(hold_id=hold_id)
    return int(places[0])
