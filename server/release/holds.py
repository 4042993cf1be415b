"""Using a hold inside a booking's transaction: the statement the reservations service runs (no
service imports: the hold service builds on the reservations service)."""

from __future__ import annotations

from datetime import datetime

from server.release.models import HoldStatus

# The visitor's live hold of the slot, for at least the party, becomes used; the places it held
# come back. Conditional on "held": of a booking and the expiry racing for the hold, one flips
# it. The same text on both databases, also a part of the booking's single PostgreSQL statement.
USE_HOLD = (
    "UPDATE slot_hold SET status = :hold_used, active = NULL "
    "WHERE id = :hold_id AND visitor_id = :visitor_id AND slot_id = :slot_id "
    "AND status = :hold_held AND expires_at > :now AND places >= :party RETURNING places"
)


def use_hold_values(*, hold_id: int, now: datetime) -> dict[str, object]:
    """USE_HOLD's values but the booking's own (`visitor_id`, `slot_id`, `party`)."""
    return {
        "hold_id": hold_id,
        "now": now,
        "hold_used": HoldStatus.USED.value,
        "hold_held": HoldStatus.HELD.value,
    }
