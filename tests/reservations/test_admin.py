"""The venue manager's side of reservations: weekly template, booking rules, slot keeping."""

from __future__ import annotations

from datetime import time, timedelta

from factories import make_reservable_venue, make_slot, make_visitor_token, people

from server.accounts import service as accounts
from server.clock import local_now
from server.reservations import service as reservations
from server.reservations.models import SlotTemplate, TimeSlot


async def manager_headers(server, venue) -> dict[str, str]:
    username = f"mgr-{venue.id}"
    await accounts.create_staff_user(
        username=username, password="manager-pass-1", role="venue_manager", venue_code=venue.code
    )
    login = await server.client.post(
        "/api/v1/admin/login", json={"username": username, "password": "manager-pass-1"}
    )
    return {"Authorization": f"Bearer {login.json()['token']}", "Accept-Language": "en"}


WINDOWS = {
    "windows": [
        {"weekdays": [0, 1, 2, 3, 4, 5, 6], "start": "09:00", "end": "11:00", "capacity": 50},
        {"weekdays": [5, 6], "start": "14:00", "end": "16:00", "capacity": 80},
    ]
}


async def test_manager_sets_the_weekly_template_and_slots_follow(server):
    venue = await make_reservable_venue()
    headers = await manager_headers(server, venue)
    answer = await server.client.put(
        f"/api/v1/admin/venues/{venue.id}/slot-template", json=WINDOWS, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()) == 7 + 2
    tomorrow = local_now().date() + timedelta(days=1)
    slots = await TimeSlot.filter(venue=venue, date=tomorrow).order_by("starts_at")
    expected = 2 if tomorrow.weekday() >= 5 else 1
    assert len(slots) == expected and slots[0].capacity == 50
    shown = await server.client.get(
        f"/api/v1/admin/venues/{venue.id}/slot-template", headers=headers
    )
    assert shown.json() == answer.json()


async def test_template_change_keeps_booked_slots_and_regenerates_the_rest(server):
    venue = await make_reservable_venue()
    headers = await manager_headers(server, venue)
    await server.client.put(
        f"/api/v1/admin/venues/{venue.id}/slot-template", json=WINDOWS, headers=headers
    )
    tomorrow = local_now().date() + timedelta(days=1)
    booked_slot = await TimeSlot.get(venue=venue, date=tomorrow, starts_at=time(9))
    _, token = await make_visitor_token(server.app)
    made = await server.client.post(
        "/api/v1/reservations",
        json={"slot_id": booked_slot.id, "visitors": people(1)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201
    new = {"windows": [{"weekdays": list(range(7)), "start": "10:00", "end": "12:00",
                        "capacity": 30}]}  # fmt: skip
    changed = await server.client.put(
        f"/api/v1/admin/venues/{venue.id}/slot-template", json=new, headers=headers
    )
    assert changed.status_code == 200
    tomorrow_slots = await TimeSlot.filter(venue=venue, date=tomorrow).order_by("starts_at")
    assert [(s.starts_at, s.booked) for s in tomorrow_slots] == [(time(9), 1), (time(10), 0)]
    later = await TimeSlot.filter(venue=venue, date=tomorrow + timedelta(days=1))
    assert [s.starts_at for s in later] == [time(10)]


async def test_bad_templates_are_refused_naming_the_window(server):
    venue = await make_reservable_venue()
    headers = await manager_headers(server, venue)
    cases = [
        ({"weekdays": [0], "start": "12:00", "end": "11:00", "capacity": 5}, "windows[0]"),
        ({"weekdays": [0], "start": "06:00", "end": "09:00", "capacity": 5}, "windows[0]"),
        ({"weekdays": [7], "start": "09:00", "end": "10:00", "capacity": 5}, "windows[0].weekdays"),
        ({"weekdays": [0], "start": "9am", "end": "10:00", "capacity": 5}, "windows[0].start"),
        ({"weekdays": [0], "start": "09:00", "end": "10:00", "capacity": 0}, "windows[0].capacity"),
    ]
    for window, field in cases:
        answer = await server.client.put(
            f"/api/v1/admin/venues/{venue.id}/slot-template",
            json={"windows": [window]},
            headers=headers,
        )
        assert answer.status_code == 422, (window, answer.text)
        assert answer.json()["error"]["field"] == field
    overlap = {"windows": [
        {"weekdays": [1], "start": "09:00", "end": "11:00", "capacity": 5},
        {"weekdays": [1, 2], "start": "10:00", "end": "12:00", "capacity": 5},
    ]}  # fmt: skip
    answer = await server.client.put(
        f"/api/v1/admin/venues/{venue.id}/slot-template", json=overlap, headers=headers
    )
    assert answer.json()["error"]["field"] == "windows[1]"
    assert not await SlotTemplate.filter(venue=venue).exists()


async def test_manager_sets_booking_rules_of_own_venue_only(server):
    venue = await make_reservable_venue()
    other = await make_reservable_venue()
    headers = await manager_headers(server, venue)
    rules = {"daily_capacity": 500, "instant_capacity": 120, "booking_opens_at": "20:00",
             "booking_days_ahead": 7, "cancel_deadline_minutes": 120}  # fmt: skip
    answer = await server.client.patch(
        f"/api/v1/admin/venues/{venue.id}/booking-rules", json=rules, headers=headers
    )
    assert answer.status_code == 200
    assert answer.json() | rules == answer.json()
    removed = await server.client.patch(
        f"/api/v1/admin/venues/{venue.id}/booking-rules",
        json={"daily_capacity": None},
        headers=headers,
    )
    assert removed.json()["daily_capacity"] is None and removed.json()["instant_capacity"] == 120
    bad = await server.client.patch(
        f"/api/v1/admin/venues/{venue.id}/booking-rules",
        json={"booking_days_ahead": None},
        headers=headers,
    )
    assert bad.status_code == 422
    foreign = await server.client.patch(
        f"/api/v1/admin/venues/{other.id}/booking-rules", json=rules, headers=headers
    )
    assert foreign.status_code == 404
    staff_only = await server.client.get(f"/api/v1/admin/venues/{venue.id}/booking-rules")
    assert staff_only.status_code == 401


async def test_slot_keeper_generates_the_coming_days_for_reservable_venues(database):
    venue = await make_reservable_venue()
    await reservations.replace_slot_templates(
        venue_id=venue.id,
        windows=[{"weekdays": list(range(7)), "starts_at": time(9), "ends_at": time(10),
                  "capacity": 10}],
    )  # fmt: skip
    today = local_now().date()
    assert await reservations.generate_upcoming_slots(today=today, days=14) == 14
    assert await reservations.generate_upcoming_slots(today=today, days=14) == 0
    assert await reservations.generate_upcoming_slots(today=today, days=15) == 1


async def test_capacity_patch_is_validated(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    headers = await manager_headers(server, venue)
    for body in ({"capacity": -1}, {"capacity": "many"}, {}):
        answer = await server.client.patch(
            f"/api/v1/admin/slots/{slot.id}", json=body, headers=headers
        )
        assert answer.status_code == 422
