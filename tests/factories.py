"""Small factories of model rows for tests: sensible defaults, any field overridable."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, time, timedelta
from typing import Any

from server.accounts.models import Visitor
from server.auth import VISITOR, Principal, issue_session_token
from server.clock import local_now
from server.reservations.models import TimeSlot
from server.venues.models import OpeningHours, Venue, VenueKind

_serial = itertools.count(1)


async def make_venue(**overrides: Any) -> Venue:
    """A museum in Wenzhou with a unique code; keyword arguments replace any field."""
    number = next(_serial)
    fields: dict[str, Any] = {
        "code": f"test-venue-{number}",
        "kind": VenueKind.MUSEUM,
        "name": {"zh-CN": f"测试馆{number}", "en": f"Test Hall {number}"},
        "latitude": 28.0,
        "longitude": 120.6,
    }
    fields.update(overrides)
    return await Venue.create(**fields)


def make_id_number(
    birth: date = date(1990, 5, 17), sequence: int = 123, region: str = "330302"
) -> str:
    """A valid resident ID number (GB 11643 check character computed here, independently)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(first17))
    value = (12 - total % 11) % 11
    return first17 + ("X" if value == 10 else str(value))


def people(count: int, *, birth: date = date(1990, 5, 17), first_sequence: int = 100) -> list[dict]:
    """`count` distinct named visitors as the reservation API takes them."""
    return [
        {"name": f"游客{n}", "id_number": make_id_number(birth, first_sequence + n)}
        for n in range(count)
    ]


async def make_reservable_venue(**overrides: Any) -> Venue:
    """A reservable venue open 08:00-22:00 every day, booking open 30 days ahead at midnight."""
    fields: dict[str, Any] = {
        "reservable": True,
        "booking_days_ahead": 30,
        "booking_opens_at": time(0, 0),
        "prices": [{"name": {"zh-CN": "成人票", "en": "Adult"}, "price_cents": 5000}],
        "free_rules": [
            {"rule": "age_at_least", "value": 60, "discount": "half", "note": {"en": "60+ half"}},
            {"rule": "age_at_least", "value": 65, "discount": "free", "note": {"en": "65+ free"}},
            {"rule": "age_under", "value": 6, "discount": "free", "note": {"en": "under 6 free"}},
        ],
        **overrides,
    }
    venue = await make_venue(**fields)
    await OpeningHours.bulk_create(
        [
            OpeningHours(venue=venue, weekday=d, opens_at=time(8), closes_at=time(22))
            for d in range(7)
        ]
    )
    return venue


async def make_slot(
    venue: Venue, *, day: date | None = None, starts: time = time(10), ends: time = time(12),
    capacity: int = 20, booked: int = 0,
) -> TimeSlot:  # fmt: skip
    """A slot of `venue`, by default tomorrow 10:00-12:00 for 20 people."""
    day = day or local_now().date() + timedelta(days=1)
    return await TimeSlot.create(
        venue=venue, date=day, starts_at=starts, ends_at=ends, capacity=capacity, booked=booked
    )


async def make_visitor_token(app: Any, openid: str | None = None) -> tuple[Visitor, str]:
    """A visitor and a session token for them, as WeChat sign-in would give."""
    visitor = await Visitor.create(openid=openid or f"openid-{next(_serial)}")
    return visitor, issue_session_token(app, Principal(role=VISITOR, user_id=visitor.id))


async def make_staff_token(
    app: Any, venue: Venue | None, role: str = "venue_staff"
) -> tuple[Any, str]:
    """A staff account of `role` bound to `venue`, and a session token for it."""
    from server.accounts.models import StaffUser

    staff = await StaffUser.create(
        username=f"staff-{next(_serial)}",
        password_hash="not-a-real-hash",
        role=role,
        venue=venue,
    )
    principal = Principal(role=role, user_id=staff.id, venue_id=venue.id if venue else None)
    return staff, issue_session_token(app, principal)


async def make_ticket(
    venue: Venue, *, slot: TimeSlot | None = None, visitor: Visitor | None = None,
    name: str = "游客甲", id_number: str | None = None, **overrides: Any,
) -> Any:  # fmt: skip
    """A valid ticket (with its confirmed reservation) of `slot`, bypassing the booking rules.

    Without `slot`, the venue's default slot (tomorrow 10:00-12:00, made on first use).
    """
    from server.personal_data import mask_id_number, mask_name
    from server.reservations.models import Reservation, ReservationStatus
    from server.tickets.models import Ticket

    if slot is None:
        tomorrow = local_now().date() + timedelta(days=1)
        slot = await TimeSlot.get_or_none(venue=venue, date=tomorrow, starts_at=time(10))
        slot = slot or await make_slot(venue, day=tomorrow)
    visitor = visitor or await Visitor.create(openid=f"openid-{next(_serial)}")
    id_number = id_number or make_id_number(sequence=next(_serial) % 1000)
    reservation = await Reservation.create(
        visitor=visitor, venue=venue, slot=slot, date=slot.date, party_size=1,
        status=ReservationStatus.CONFIRMED,
    )  # fmt: skip
    fields: dict[str, Any] = {
        "reservation": reservation,
        "venue": venue,
        "slot": slot,
        "date": slot.date,
        "holder_name_encrypted": "v1:test",
        "holder_name_masked": mask_name(name),
        "id_number_encrypted": "v1:test",
        "id_number_hash": f"hash-{id_number}",
        "id_number_masked": mask_id_number(id_number),
        "fare": {"discount": None, "rule": None, "note": {}, "price_cents": 5000},
        "price_cents": 5000,
        **overrides,
    }
    return await Ticket.create(**fields)


async def until_someone_waits_for(connection: Any) -> None:
    """Return once another database session waits for a lock that `connection` (asyncpg, in a
    transaction) holds; fail after 10 s."""
    for _ in range(1000):
        if await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no session waited for the lock")
