"""Anti-scalping: daily quotas per account and per person, request rates, the refusal trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import prepare_database
from factories import make_reservable_venue, make_slot, make_staff_token, make_visitor_token, people

from release.steps import bearer, book
from server.clock import local_now
from server.release import limits
from server.release.models import BookingRefusal


@pytest.fixture
def settings(tmp_path, migrated_template):
    # Low limits, so that a test reaches each in a few requests.
    return prepare_database(
        tmp_path,
        migrated_template,
        reservations_per_account_day=2,
        venues_per_person_day=2,
        booking_requests_per_account_minute=6,
        booking_requests_per_device_minute=4,
    )


async def test_an_account_books_at_most_its_daily_quota_and_a_cancel_gives_one_back(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=50)
    _, token = await make_visitor_token(server.app)
    first = await book(server.client, token, slot.id, people(1, first_sequence=1))
    assert (
        await book(server.client, token, slot.id, people(1, first_sequence=2))
    ).status_code == 201
    third = await book(server.client, token, slot.id, people(1, first_sequence=3))
    assert third.status_code == 409, third.text
    assert third.json()["error"] | {"rule": "account_day", "limit": 2} == third.json()["error"]
    assert "scalpers" in third.json()["error"]["message"]
    # Nothing of the refused booking stayed behind.
    assert (await server.client.get(f"/api/v1/venues/{venue.id}/slots",
            params={"date": slot.date.isoformat()})).json()[0]["remaining"] == 48  # fmt: skip
    cancelled = await server.client.post(
        f"/api/v1/reservations/{first.json()['id']}/cancel", headers=bearer(token)
    )
    assert cancelled.status_code == 200
    assert (
        await book(server.client, token, slot.id, people(1, first_sequence=3))
    ).status_code == 201
    # Another day is another quota.
    later = await make_slot(venue, day=slot.date + timedelta(days=1))
    assert (
        await book(server.client, token, later.id, people(1, first_sequence=4))
    ).status_code == 201


async def test_one_person_is_booked_at_a_limited_number_of_venues_a_day(server):
    day = local_now().date() + timedelta(days=2)
    slots = [await make_slot(await make_reservable_venue(), day=day) for _ in range(3)]
    person = people(1, first_sequence=42)[0]
    for slot in slots[:2]:
        _, token = await make_visitor_token(server.app)
        assert (await book(server.client, token, slot.id, [person])).status_code == 201
    _, token = await make_visitor_token(server.app)
    party = [*people(1, first_sequence=43), person]
    refused = await book(server.client, token, slots[2].id, party)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["rule"] == "person_day" and error["field"] == "visitors[1].id_number"


async def test_requests_beyond_the_account_and_device_rates_get_429_with_retry_after(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=1, booked=1)  # full: each try is a cheap refusal
    _, token = await make_visitor_token(server.app)
    device = {"X-Device-Id": "phone-1"}
    answers = [
        await book(server.client, token, slot.id, people(1), headers=device) for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [409, 409, 409, 409, 429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    # The same account from another device: still under its own account rate (6).
    other_device = {"X-Device-Id": "phone-2"}
    assert (
        await book(server.client, token, slot.id, people(1), headers=other_device)
    ).status_code == 409
    assert (
        await book(server.client, token, slot.id, people(1), headers=other_device)
    ).status_code == 429
    # Another account on the first device: the device is over its rate.
    _, other = await make_visitor_token(server.app)
    assert (await book(server.client, other, slot.id, people(1), headers=device)).status_code == 429


async def test_refusals_are_kept_in_a_trail_the_bureau_can_read(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=10)
    visitor, token = await make_visitor_token(server.app)
    for n in range(3):
        await book(server.client, token, slot.id, people(1, first_sequence=n))
    await limits.save_refusals(server.app.ctx.redis)
    kept = await BookingRefusal.all()
    assert [(r.rule, r.visitor_id, r.slot_id) for r in kept] == [
        ("account_day", visitor.id, slot.id)
    ]
    _, admin = await make_staff_token(server.app, None, role="supervisor")
    listed = await server.client.get(
        "/api/v1/admin/booking-refusals", params={"visitor_id": visitor.id}, headers=bearer(admin)
    )
    assert listed.status_code == 200 and listed.json()[0]["rule"] == "account_day"
    _, staff = await make_staff_token(server.app, venue)
    denied = await server.client.get("/api/v1/admin/booking-refusals", headers=bearer(staff))
    assert denied.status_code == 403


async def test_before_booking_opens_the_answer_says_when_with_the_server_time(server):
    venue = await make_reservable_venue(booking_days_ahead=1)
    slot = await make_slot(venue, day=local_now().date() + timedelta(days=5))
    _, token = await make_visitor_token(server.app)
    early = await book(server.client, token, slot.id, people(1))
    assert early.status_code == 409
    error = early.json()["error"]
    assert error["code"] == "booking_not_open" and error["server_time"] and error["opens_at"]
    assert int(early.headers["Retry-After"]) == error["retry_after"] > 3 * 24 * 3600
    schedule = await server.client.get(
        f"/api/v1/venues/{venue.id}/release", params={"date": slot.date.isoformat()}
    )
    assert schedule.status_code == 200
    assert schedule.json() | {"open": False, "opens_at": error["opens_at"]} == schedule.json()
