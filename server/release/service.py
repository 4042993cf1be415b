"""Holds: places kept for a few minutes while a visitor names the people, then used or returned."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.card import service as card
from server.release import runtime
from server.release.errors import HoldAlreadyActive, HoldNotFound
from server.release.models import HoldStatus, SlotHold
from server.reservations import service as reservations
from server.reservations.errors import SlotFull
from server.reservations.models import TimeSlot

# Expired holds give their places back within this many seconds (every process sweeps).
EXPIRY_INTERVAL_SECONDS = 5.0
# A hold names nobody yet: it may never take the places a venue keeps for card holders.
_NOBODY_NAMED = [""]


async def create_hold(*, visitor_id: int, slot_id: int, places: int, now: datetime) -> SlotHold:
    """Hold `places` of a slot for the configured minutes; one live hold per visitor.

    The places are claimed as a booking claims them (the conditional UPDATE, the daily cap),
    so holds can never oversell either; an unused hold gives them back when it expires.
    """
    release = runtime.current()
    await reservations.refuse_if_sold_out(slot_id=slot_id, party=places, now=now)
    bookable = await reservations.bookable_slot(slot_id, now)
    slot, venue = bookable.slot, bookable.venue
    perks = (
        await card.perks_for_party(venue=venue, id_hashes=[], day=slot.date)
        if bookable.card_benefit
        else card.NO_PERKS
    )
    held_back = perks.held_back(capacity=slot.capacity, party_hashes=_NOBODY_NAMED)
    try:
        async with in_transaction() as connection:
            # The unique key (visitor, active) refuses a second live hold, also under races.
            hold = await SlotHold.create(
                visitor_id=visitor_id,
                slot_id=slot.id,
                places=places,
                expires_at=now + timedelta(minutes=release.limits.hold_minutes),
            )
            claimed = await reservations.claim_places(
                slot.id, places, places + held_back, connection
            )
            if claimed is None:
                raise SlotFull(remaining=-1, suggestions=[])
            if venue.daily_capacity is not None:
                await reservations.claim_day(venue, slot.date, places)
    except SlotFull:
        fresh = await TimeSlot.get(id=slot.id)
        raise SlotFull(
            remaining=max(fresh.capacity - fresh.booked, 0),
            suggestions=await reservations.suggest_slots(slot=fresh, party_size=places, now=now),
        ) from None
    except IntegrityError:
        live = await SlotHold.get_or_none(visitor_id=visitor_id, active=True)
        raise HoldAlreadyActive(hold_id=live.id if live else None) from None
    await release.publish_taken(claimed)
    return hold


async def get_own_hold(*, visitor_id: int, hold_id: int) -> SlotHold:
    """One of the visitor's own holds; someone else's is "not found"."""
    hold = await SlotHold.get_or_none(id=hold_id, visitor_id=visitor_id)
    if hold is None:
        raise HoldNotFound(hold_id=hold_id)
    return hold


async def release_hold(*, visitor_id: int, hold_id: int, now: datetime) -> SlotHold:
    """Give a live hold's places back at once (the visitor changed their mind)."""
    await get_own_hold(visitor_id=visitor_id, hold_id=hold_id)
    await _end_hold(hold_id, HoldStatus.RELEASED)
    return await get_own_hold(visitor_id=visitor_id, hold_id=hold_id)


async def expire_holds(*, now: datetime) -> int:
    """Return the places of every hold past its expiry; return how many holds expired."""
    due = await SlotHold.filter(status=HoldStatus.HELD, expires_at__lte=now).values_list(
        "id", flat=True
    )
    expired = 0
    for hold_id in due:
        expired += await _end_hold(hold_id, HoldStatus.EXPIRED)
    return expired


async def _end_hold(hold_id: int, outcome: HoldStatus) -> int:
    """End a live hold and return its places; 0 if it was no longer live (used, ended)."""
    async with in_transaction() as connection:
        # Conditional on "held": a booking using the hold at this moment and this cannot both win.
        ended = await SlotHold.filter(id=hold_id, status=HoldStatus.HELD).update(
            status=outcome, active=None
        )
        if not ended:
            return 0
        hold = await SlotHold.get(id=hold_id).prefetch_related("slot__venue")
        places = await reservations.return_places(
            hold.slot.venue, hold.slot, hold.places, connection
        )
    await runtime.current().publish(places)
    return 1
