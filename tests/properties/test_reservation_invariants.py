"""Property tests of the reservation rules, run against the services with generated histories.

Hypothesis draws a slot's capacity and a history of bookings (parties of one to five) and
cancellations; after every step the slot's counter must equal a plain model of the places and
the database audit must be clean. A second property scans one ticket at several gates at once.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import fakeredis
from concurrency.test_oversell import audit_slot, new_party
from factories import make_reservable_venue, make_slot, make_staff_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proof.processes import signing_app_for

from server.accounts.models import Visitor
from server.clock import local_now
from server.config import Settings
from server.personal_data import FieldCipher
from server.reservations import service as reservations
from server.reservations.errors import SlotFull
from server.reservations.models import PersonDayClaim, Reservation, ReservationStatus, TimeSlot
from server.tickets import service as tickets
from server.tickets.models import ScanDirection, Ticket, TicketStatus

WIDE_OPEN_MINUTES = 3 * 24 * 60  # tomorrow's slot may be entered now, at any hour
_openids = itertools.count()
PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    # Each example makes its own venue and slot, so sharing the database fixture is safe.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Step = st.one_of(
    st.tuples(st.just("reserve"), st.integers(min_value=1, max_value=5)),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=50)),
)


async def audit_with_cancellations(slot_id: int) -> list[str]:
    """audit_slot, where a cancelled reservation keeps its tickets revoked and gives up its claims.

    audit_slot (made for booking storms) counts any ticket of a non-confirmed reservation as an
    orphan; after a cancellation the tickets stay, revoked, so the gate can say "revoked".
    """
    problems = [p for p in await audit_slot(slot_id) if not p.startswith("orphaned")]
    cancelled = Reservation.filter(slot_id=slot_id).exclude(status=ReservationStatus.CONFIRMED)
    cancelled_ids = await cancelled.values_list("id", flat=True)
    unrevoked = await Ticket.filter(reservation_id__in=cancelled_ids).exclude(
        status=TicketStatus.REVOKED
    )
    if unrevoked:
        problems.append(f"unrevoked: tickets {[t.id for t in unrevoked]} of a cancellation")
    if await PersonDayClaim.filter(reservation_id__in=cancelled_ids).exists():
        problems.append("claims kept by a cancelled reservation")
    stray = await Ticket.filter(slot_id=slot_id).exclude(
        reservation_id__in=await Reservation.filter(slot_id=slot_id).values_list("id", flat=True)
    )
    if stray:
        problems.append(f"orphaned: tickets {[t.id for t in stray]} of no reservation")
    return problems


async def new_visitor() -> int:
    return (await Visitor.create(openid=f"property-{next(_openids)}")).id


@PROPERTY_SETTINGS
@given(capacity=st.integers(min_value=1, max_value=12), steps=st.lists(Step, max_size=10))
async def test_booked_stays_within_capacity_refusals_only_when_full_and_cancel_returns_places(
    database: Settings, capacity: int, steps: list[tuple[str, int]]
):
    cipher = FieldCipher(database.secret())
    slot = await make_slot(await make_reservable_venue(), capacity=capacity)
    places = 0  # the model: places held by live reservations
    live: list[tuple[int, int, int]] = []  # (visitor, reservation, party size)
    for kind, number in steps:
        if kind == "reserve":
            visitor_id = await new_visitor()
            party = [reservations.Person(p["name"], p["id_number"]) for p in new_party(number)]
            try:
                booked = await reservations.reserve(
                    visitor_id=visitor_id,
                    slot_id=slot.id,
                    people=party,
                    now=local_now(),
                    cipher=cipher,
                )
            except SlotFull as refusal:
                assert places + number > capacity, "refused a party that fitted"
                assert refusal.params["remaining"] == capacity - places
            else:
                assert places + number <= capacity, "booked a party that did not fit"
                places += number
                live.append((visitor_id, booked.id, number))
        elif live:
            visitor_id, reservation_id, size = live.pop(number % len(live))
            await reservations.cancel(
                visitor_id=visitor_id, reservation_id=reservation_id, now=local_now()
            )
            places -= size
        assert (await TimeSlot.get(id=slot.id)).booked == places <= capacity
        assert await audit_with_cancellations(slot.id) == []


@PROPERTY_SETTINGS
@given(
    gates=st.integers(min_value=1, max_value=8),
    signed_ago=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=8),
)
async def test_one_ticket_admits_once_however_many_gates_scan_it_at_once(
    database: Settings, gates: int, signed_ago: list[int]
):
    app = signing_app_for(database)
    venue = await make_reservable_venue(entry_early_minutes=WIDE_OPEN_MINUTES)
    slot = await make_slot(venue)
    staff, _ = await make_staff_token(app, venue)
    visitor_id = await new_visitor()
    person = new_party(1)[0]
    reservation = await reservations.reserve(
        visitor_id=visitor_id,
        slot_id=slot.id,
        people=[reservations.Person(person["name"], person["id_number"])],
        now=local_now(),
        cipher=FieldCipher(database.secret()),
    )
    ticket = await Ticket.get(reservation_id=reservation.id)
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    # Several phones may show codes signed at different moments of the validity window.
    codes = [
        tickets.qr_text(app.ctx.signer, ticket, now=time.time() - signed_ago[n % len(signed_ago)])[
            0
        ]
        for n in range(gates)
    ]
    outcomes = await asyncio.gather(
        *(
            tickets.scan_ticket(
                venue_id=venue.id,
                staff_id=staff.id,
                qr=code,
                direction=ScanDirection.ENTRY,
                now=local_now(),
                signer=app.ctx.signer,
                redis=redis,
                thresholds=database.warning_thresholds,
            )
            for code in codes
        )
    )
    admitted = [outcome for outcome in outcomes if outcome.admitted]
    assert len(admitted) == 1, [outcome.reason for outcome in outcomes]
    assert {str(o.reason) for o in outcomes if not o.admitted} <= {"already_used"}
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.USED
    await redis.aclose()
