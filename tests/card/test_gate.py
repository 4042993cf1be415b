"""Entry by card: with a reservation (as its QR would), walk-ins under the caps, every refusal."""

from __future__ import annotations

import time
from datetime import time as clock_time
from datetime import timedelta

from factories import make_reservable_venue, make_slot, make_ticket, make_venue
from stubs.card_issuer import SECOND, THIRD, VALID

from server.card.models import BoundCard, CardBenefit, CardEntry, CardStatus
from server.clock import local_now
from server.reservations.models import VenueDay
from server.signing import TokenSigner
from server.tickets.models import GateScan, Ticket, TicketStatus, VenueOccupancy
from server.venues.models import OpeningHours

WIDE_OPEN_MINUTES = 3 * 24 * 60
ALL_DAY = (clock_time(0), clock_time(23, 59, 59))


async def reserved_venue(world, card=VALID, **venue_fields):
    """A reservable venue, its gate account, and today's ticket of the card's holder."""
    venue = await make_reservable_venue(entry_early_minutes=WIDE_OPEN_MINUTES, **venue_fields)
    # Open all day, so that the gate's verdicts do not depend on the hour the tests run at (the
    # factory's 08:00-22:00 closed the venue to walk-ins late in the evening, Asia/Shanghai).
    await OpeningHours.filter(venue_id=venue.id).update(opens_at=ALL_DAY[0], closes_at=ALL_DAY[1])
    staff_id = await world.staff(venue)
    slot = await make_slot(
        venue, day=local_now().date(), starts=clock_time(0), ends=clock_time(23, 59)
    )
    ticket = await make_ticket(
        venue, slot=slot, id_number=card.id_number,
        id_number_hash=world.cipher.lookup_hash(card.id_number),
    )  # fmt: skip
    return venue, staff_id, ticket


async def walk_in_venue(world, **venue_fields):
    """A venue open all day whose card benefit lets holders in without a reservation."""
    venue = await make_venue(**venue_fields)
    await OpeningHours.bulk_create(
        [
            OpeningHours(venue=venue, weekday=d, opens_at=ALL_DAY[0], closes_at=ALL_DAY[1])
            for d in range(7)
        ]
    )
    await CardBenefit.create(venue=venue, walk_in=True)
    return venue, await world.staff(venue)


async def test_a_holder_with_a_reservation_enters_by_card_once(world):
    await world.bind(VALID)
    venue, staff_id, ticket = await reserved_venue(world)

    first = await world.enter(venue, staff_id, card_number=VALID.card_number)
    again = await world.enter(venue, staff_id, card_number=VALID.card_number)

    assert (first.admitted, first.reason, first.walk_in) == (True, "admitted", False)
    assert first.ticket.id == ticket.id and first.card_masked == "A3***0201"
    assert first.holder_masked == "王**" and first.occupancy.inside == 1
    assert (again.admitted, again.reason) == (False, "already_used")
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.USED
    # Counted and recorded exactly as a QR entry is.
    assert (await VenueOccupancy.get(venue_id=venue.id)).entered == 1
    scans = await GateScan.filter(venue_id=venue.id).order_by("id")
    assert [(s.ticket_id, s.reason) for s in scans] == [
        (ticket.id, "admitted"), (ticket.id, "already_used"),
    ]  # fmt: skip
    entries = await CardEntry.filter(venue_id=venue.id).order_by("id")
    assert [(e.admitted, e.reason, e.ticket_id, e.staff_id) for e in entries] == [
        (True, "admitted", ticket.id, staff_id), (False, "already_used", ticket.id, staff_id),
    ]  # fmt: skip
    assert all(VALID.card_number not in e.card_number_hash for e in entries)


async def test_the_electronic_card_qr_admits_and_bad_ones_are_refused(world):
    await world.bind(VALID)
    venue, staff_id, ticket = await reserved_venue(world)
    stranger = TokenSigner(b"not-the-issuer-key-but-long-enough-0123456789")
    forged = "ESSC1." + stranger.sign(
        purpose="essc", claims={"c": VALID.card_number, "r": VALID.region},
        ttl_seconds=60, now=time.time(),
    )  # fmt: skip
    stale = world.standin.ecard_qr(VALID.card_number, now=time.time() - 120)

    verdicts = [
        await world.enter(venue, staff_id, qr=text)
        for text in ("https://example.com/x", forged, stale)
    ]
    assert [(v.admitted, v.reason) for v in verdicts] == [
        (False, "unknown_code"), (False, "forged"), (False, "expired"),
    ]  # fmt: skip
    admitted = await world.enter(venue, staff_id, qr=world.standin.ecard_qr(VALID.card_number))
    assert (admitted.admitted, admitted.electronic, admitted.ticket.id) == (True, True, ticket.id)


async def test_a_card_not_bound_or_reported_lost_or_expired_is_refused(world):
    card = await world.bind(VALID)
    await world.bind(SECOND)
    venue, staff_id, _ = await reserved_venue(world)

    unbound = await world.enter(venue, staff_id, card_number=THIRD.card_number)
    assert (unbound.admitted, unbound.reason) == (False, "card_not_bound")

    world.standin.cards[VALID.card_number].status = "lost"  # reported lost after binding
    lost = await world.enter(venue, staff_id, card_number=VALID.card_number)
    assert (lost.admitted, lost.reason) == (False, "card_lost")
    assert (await BoundCard.get(id=card.id)).status == CardStatus.LOST

    await BoundCard.filter(card_number_hash=world.cipher.lookup_hash(SECOND.card_number)).update(
        valid_until=local_now().date() - timedelta(days=1)
    )
    expired = await world.enter(venue, staff_id, card_number=SECOND.card_number)
    assert (expired.admitted, expired.reason) == (False, "card_expired")
    assert await CardEntry.filter(admitted=False).count() == 3


async def test_when_the_issuer_is_down_the_gate_goes_on_with_the_binding(world):
    await world.bind(VALID)
    venue, staff_id, _ = await reserved_venue(world)
    world.standin.http_status = 500
    verdict = await world.enter(venue, staff_id, card_number=VALID.card_number)
    assert (verdict.admitted, verdict.reason) == (True, "admitted")


async def test_without_a_reservation_a_reservation_only_venue_refuses(world):
    await world.bind(VALID)
    venue, staff_id, _ = await reserved_venue(world, card=SECOND)  # someone else's ticket
    verdict = await world.enter(venue, staff_id, card_number=VALID.card_number)
    assert (verdict.admitted, verdict.reason) == (False, "no_reservation")
    assert (await VenueOccupancy.filter(venue_id=venue.id).values_list("inside", flat=True)) in (
        [],
        [0],
    )


async def test_a_walk_in_venue_admits_a_holder_once_a_day_counting_occupancy(world):
    await world.bind(VALID)
    venue, staff_id = await walk_in_venue(world)

    first = await world.enter(venue, staff_id, card_number=VALID.card_number)
    again = await world.enter(venue, staff_id, card_number=VALID.card_number)

    assert (first.admitted, first.reason, first.walk_in, first.ticket) == (
        True, "admitted", True, None,
    )  # fmt: skip
    assert (again.admitted, again.reason) == (False, "walked_in_today")
    occupancy = await VenueOccupancy.get(venue_id=venue.id)
    assert (occupancy.inside, occupancy.entered) == (1, 1)
    scans = await GateScan.filter(venue_id=venue.id)
    assert [(s.admitted, s.ticket_id) for s in scans] == [(True, None)]


async def test_walk_ins_stop_at_the_instantaneous_cap_and_roll_back(world):
    await world.bind(VALID)
    await world.bind(SECOND)
    venue, staff_id = await walk_in_venue(world, instant_capacity=1, daily_capacity=10)

    inside = await world.enter(venue, staff_id, card_number=VALID.card_number)
    full = await world.enter(venue, staff_id, card_number=SECOND.card_number)

    assert inside.admitted and inside.occupancy.inside == 1
    assert (full.admitted, full.reason, full.occupancy.inside) == (False, "venue_full", 1)
    # The refused walk-in claimed nothing: one place of the day, one once-a-day key.
    assert (await VenueDay.get(venue_id=venue.id)).booked == 1
    assert await CardEntry.filter(walk_in_key__isnull=False).count() == 1
    # Once someone leaves, the same card walks in (its refusal did not use up its day).
    await VenueOccupancy.filter(venue_id=venue.id).update(inside=0)
    later = await world.enter(venue, staff_id, card_number=SECOND.card_number)
    assert later.admitted and later.walk_in


async def test_walk_ins_stop_at_the_daily_cap_shared_with_reservations(world):
    await world.bind(VALID)
    await world.bind(SECOND)
    venue, staff_id = await walk_in_venue(world, daily_capacity=2)
    await VenueDay.create(venue=venue, date=local_now().date(), booked=1)  # one booked place

    first = await world.enter(venue, staff_id, card_number=VALID.card_number)
    second = await world.enter(venue, staff_id, card_number=SECOND.card_number)

    assert first.admitted
    assert (second.admitted, second.reason) == (False, "day_full")
    assert (await VenueDay.get(venue_id=venue.id)).booked == 2
    assert (await VenueOccupancy.get(venue_id=venue.id)).inside == 1


async def test_a_closed_walk_in_venue_refuses(world):
    await world.bind(VALID)
    venue, staff_id = await walk_in_venue(world)
    await OpeningHours.filter(venue_id=venue.id).delete()  # closed every day
    verdict = await world.enter(venue, staff_id, card_number=VALID.card_number)
    assert (verdict.admitted, verdict.reason) == (False, "venue_closed")


async def test_a_used_reservation_does_not_block_a_walk_in_where_allowed(world):
    await world.bind(VALID)
    venue, staff_id, ticket = await reserved_venue(world)
    await CardBenefit.create(venue=venue, walk_in=True)
    await Ticket.filter(id=ticket.id).update(status=TicketStatus.USED)
    verdict = await world.enter(venue, staff_id, card_number=VALID.card_number)
    assert (verdict.admitted, verdict.walk_in) == (True, True)
