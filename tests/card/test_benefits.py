"""Card-holder benefits in the reservation flow: fares, free entry, the priority share."""

from __future__ import annotations

import itertools

import pytest
from factories import make_reservable_venue, make_slot
from stubs.card_issuer import SECOND, THIRD, VALID

from server.accounts.models import Visitor
from server.card.models import BoundCard, CardBenefit
from server.clock import local_now
from server.reservations import service as reservations
from server.reservations.errors import SlotFull
from server.reservations.models import TimeSlot

_bookers = itertools.count(1)


def person(card) -> reservations.Person:
    return reservations.Person(card.name, card.id_number)


async def book(world, slot, *cards):
    visitor = await Visitor.create(openid=f"booker-{next(_bookers)}")
    return await reservations.reserve(
        visitor_id=visitor.id,
        slot_id=slot.id,
        people=[person(card) for card in cards],
        now=local_now(),
        cipher=world.cipher,
    )


def fares(reservation) -> list[tuple[str | None, int]]:
    return sorted(((t.fare["rule"], t.price_cents) for t in reservation.tickets), key=str)


async def test_a_card_discount_applies_to_holders_only(world):
    await world.bind(VALID)  # SECOND is not bound: no benefit for that person
    venue = await make_reservable_venue(free_rules=[])
    await CardBenefit.create(venue=venue, discount_percent=20, note={"en": "20% off"})
    slot = await make_slot(venue)

    reservation = await book(world, slot, VALID, SECOND)

    assert fares(reservation) == [("card_holder", 4000), (None, 5000)]
    holder = next(t for t in reservation.tickets if t.fare["rule"] == "card_holder")
    assert holder.fare["discount"] == "card" and holder.fare["note"] == {"en": "20% off"}


async def test_free_entry_for_holders_and_the_better_age_rule_still_wins(world):
    await world.bind(VALID)
    await world.bind(SECOND)  # born 1962: 60+ pays half by age rule
    venue = await make_reservable_venue()
    await CardBenefit.create(venue=venue, discount_percent=20)
    slot = await make_slot(venue)

    reservation = await book(world, slot, VALID, SECOND)

    # 20% off (4000) for the holder of 40; half price by age (2500) beats it for the 60-year-old.
    assert fares(reservation) == [("age_at_least:60", 2500), ("card_holder", 4000)]

    free_venue = await make_reservable_venue()
    await CardBenefit.create(venue=free_venue, free_entry=True)
    free = await book(world, await make_slot(free_venue), VALID)
    assert [(t.fare["discount"], t.price_cents) for t in free.tickets] == [("free", 0)]


async def test_a_lost_card_gets_no_benefit(world):
    card = await world.bind(VALID)
    await BoundCard.filter(id=card.id).update(status="lost")
    venue = await make_reservable_venue()
    await CardBenefit.create(venue=venue, free_entry=True)
    reservation = await book(world, await make_slot(venue), VALID)
    assert fares(reservation) == [(None, 5000)]


async def test_the_priority_share_is_kept_for_card_holders(world):
    await world.bind(VALID)
    await world.bind(THIRD)
    venue = await make_reservable_venue()
    await CardBenefit.create(venue=venue, priority_percent=20)  # 2 of 10 places
    slot = await make_slot(venue, capacity=10, booked=8)

    with pytest.raises(SlotFull):
        await book(world, slot, SECOND)  # not a holder: the last 2 places are not theirs
    with pytest.raises(SlotFull):
        await book(world, slot, VALID, SECOND)  # a mixed party does not get them either
    await book(world, slot, VALID, THIRD)  # holders only: they do

    assert (await TimeSlot.get(id=slot.id)).booked == 10


async def test_without_a_priority_share_everyone_books_to_capacity(world):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=10, booked=9)
    await book(world, slot, SECOND)
    assert (await TimeSlot.get(id=slot.id)).booked == 10
