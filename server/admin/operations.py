"""Running venues from the admin side: venue details, closing days and a venue's gate staff.

`manager_venue_id` is the venue a venue manager runs (None for the bureau's admins): another
venue is "not found" to them, as everywhere on the admin side.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tortoise.expressions import Subquery
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from server.accounts import service as accounts
from server.accounts.models import Role, StaffUser
from server.admin.errors import (
    ClosingDayExists,
    ClosingDayHasBookings,
    ClosingDayInPast,
    ClosingDayNotFound,
    StaffNotFound,
    StaffRoleNotAllowed,
)
from server.db import replace_rows, retry_conflicts
from server.reservations import service as reservations
from server.reservations.models import Reservation, SlotTemplate, TimeSlot
from server.venues.models import ClosingDay, OpeningHours, Venue

VENUE_DETAIL_FIELDS = (
    "name", "description", "address", "county", "transport", "phone", "website", "photos",
    "tags", "prices", "free_rules", "reservable", "hidden", "a_level",
)  # fmt: skip


def _hhmm(value: Any) -> str | None:
    return value.strftime("%H:%M") if value else None


def venue_admin_out(venue: Venue) -> dict[str, Any]:
    """A venue as the admin side edits it: every language, hidden or not, with its hours."""
    return {
        "id": venue.id,
        "code": venue.code,
        "kind": venue.kind.value,
        **{name: getattr(venue, name) for name in VENUE_DETAIL_FIELDS},
        "daily_capacity": venue.daily_capacity,
        "instant_capacity": venue.instant_capacity,
        "opening_hours": [
            {
                "weekday": h.weekday,
                "opens_at": _hhmm(h.opens_at),
                "closes_at": _hhmm(h.closes_at),
                "last_entry_at": _hhmm(h.last_entry_at),
            }
            for h in sorted(venue.opening_hours, key=lambda h: h.weekday)
        ],
    }


async def list_managed_venues(*, manager_venue_id: int | None) -> list[Venue]:
    """Every venue for an admin (hidden ones too); only their own for a venue manager."""
    query = Venue.all() if manager_venue_id is None else Venue.filter(id=manager_venue_id)
    return await query.order_by("id").prefetch_related("opening_hours", "closing_days")


async def update_venue(
    *, venue_id: int, changes: dict[str, Any], opening_hours: list[dict] | None
) -> tuple[dict[str, Any], Venue]:
    """Change a venue's details and, if given, its weekly hours; return (before, venue)."""
    venue = await reservations.managed_venue(venue_id=venue_id, manager_venue_id=None)
    before = venue_admin_out(venue)
    async with in_transaction():
        if changes:
            venue.update_from_dict(changes)
            await venue.save(update_fields=[*changes, "updated_at"])
        if opening_hours is not None:
            await replace_rows(
                OpeningHours,
                owner={"venue_id": venue.id},
                fields=("weekday", "opens_at", "closes_at", "last_entry_at"),
                wanted={
                    (h["weekday"], h["opens_at"], h["closes_at"], h["last_entry_at"])
                    for h in opening_hours
                },
            )
    return before, await reservations.managed_venue(venue_id=venue.id, manager_venue_id=None)


# --- closing days ------------------------------------------------------------------------------


def closing_day_out(row: ClosingDay) -> dict[str, Any]:
    """A closing day as the admin side shows it."""
    return {"date": row.date.isoformat(), "reason": row.reason}


async def list_closing_days(
    *, venue_id: int, manager_venue_id: int | None, since: date
) -> list[ClosingDay]:
    """A venue's closing days from `since` on, in date order."""
    venue = await reservations.managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    return await ClosingDay.filter(venue_id=venue.id, date__gte=since).order_by("date")


async def add_closing_day(
    *, venue_id: int, manager_venue_id: int | None, day: date, reason: dict, today: date
) -> ClosingDay:
    """Close a venue for a day; refused while visitors hold places that day.

    The day's unbooked slots go (those a cancelled reservation still points at are set to
    capacity 0), in the same transaction as a final check for bookings, so a booking racing the
    closure either lands first and stops it, or finds no place left.
    """
    venue = await reservations.managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    if day < today:
        raise ClosingDayInPast()
    if await ClosingDay.filter(venue_id=venue.id, date=day).exists():
        raise ClosingDayExists(date=day.isoformat())

    async def close_once() -> ClosingDay:
        async with in_transaction():
            row = await ClosingDay.create(venue_id=venue.id, date=day, reason=reason)
            day_slots = TimeSlot.filter(venue_id=venue.id, date=day)
            await day_slots.filter(booked=0).update(capacity=0)
            booked = await _booked_on(venue.id, day)
            if booked:
                raise ClosingDayHasBookings(booked=booked)
            referenced = Reservation.filter(venue_id=venue.id, date=day).values("slot_id")
            await day_slots.exclude(id__in=Subquery(referenced)).delete()
        return row

    # Bookings racing the closure lock the day's slots in the other order; PostgreSQL aborts
    # one side of such a deadlock, and the closure runs again.
    return await retry_conflicts(close_once)


async def _booked_on(venue_id: int, day: date) -> int:
    rows = (
        await TimeSlot.filter(venue_id=venue_id, date=day)
        .annotate(total=Sum("booked"))
        .values_list("total", flat=True)
    )
    return int(rows[0] or 0) if rows else 0


async def remove_closing_day(
    *, venue_id: int, manager_venue_id: int | None, day: date, today: date, days_ahead: int
) -> ClosingDay:
    """Reopen a closed day; its slots come back from the weekly template."""
    venue = await reservations.managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    if day < today:
        raise ClosingDayInPast()
    row = await ClosingDay.get_or_none(venue_id=venue.id, date=day)
    if row is None:
        raise ClosingDayNotFound(date=day.isoformat())
    async with in_transaction():
        await ClosingDay.filter(id=row.id).delete()
        # Slots kept at capacity 0 (a cancelled reservation points at them) get their capacity back.
        for template in await SlotTemplate.filter(venue_id=venue.id, weekday=day.weekday()):
            await TimeSlot.filter(
                venue_id=venue.id, date=day, starts_at=template.starts_at, booked=0
            ).update(capacity=template.capacity)
    if (day - today).days < days_ahead:
        await reservations.generate_slots(venue_id=venue.id, first_day=day, days=1)
    return row


# --- a venue's staff ---------------------------------------------------------------------------


def staff_out(staff: StaffUser) -> dict[str, Any]:
    """A staff account as the admin side shows it (never the password hash)."""
    return {
        "id": staff.id,
        "username": staff.username,
        "role": staff.role.value,
        "venue_id": staff.venue_id,
        "is_active": staff.is_active,
        "last_login_at": staff.last_login_at.isoformat(timespec="seconds")
        if staff.last_login_at
        else None,
    }


async def list_staff(*, venue_id: int, manager_venue_id: int | None) -> list[StaffUser]:
    """The staff accounts of a venue, managers first."""
    venue = await reservations.managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    return await StaffUser.filter(venue_id=venue.id).order_by("-role", "username")


def _may_manage(role: Role, manager_venue_id: int | None) -> None:
    # Gate staff are the venue manager's to hire; managers are appointed by the bureau.
    if manager_venue_id is not None and role != Role.VENUE_STAFF:
        raise StaffRoleNotAllowed()


async def create_staff(
    *,
    venue_id: int,
    manager_venue_id: int | None,
    username: str,
    password: str,
    role: Role,
) -> StaffUser:
    """A new gate-staff (or, by an admin, venue-manager) account of the venue."""
    venue = await reservations.managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    _may_manage(role, manager_venue_id)
    return await accounts.create_staff_user(
        username=username, password=password, role=role, venue_code=venue.code
    )


async def set_staff_active(
    *, venue_id: int, manager_venue_id: int | None, staff_id: int, is_active: bool
) -> tuple[dict[str, Any], StaffUser]:
    """Enable or disable a staff account of the venue (at once: its tokens stop working)."""
    venue = await reservations.managed_venue(venue_id=venue_id, manager_venue_id=manager_venue_id)
    staff = await StaffUser.get_or_none(id=staff_id, venue_id=venue.id)
    if staff is None:
        raise StaffNotFound(staff_id=staff_id)
    _may_manage(staff.role, manager_venue_id)
    before = staff_out(staff)
    await accounts.set_staff_active(staff_id=staff.id, is_active=is_active)
    return before, await StaffUser.get(id=staff.id)
