"""Reserving, listing and cancelling over HTTP, with the rules a visitor meets."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from factories import (
    make_id_number,
    make_reservable_venue,
    make_slot,
    make_visitor_token,
    people,
)

from server.clock import LOCAL_TZ, local_now
from server.personal_data import FieldCipher
from server.reservations.models import PersonDayClaim, TimeSlot
from server.tickets.models import Ticket, TicketStatus


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def book(server, token: str, slot_id: int, visitors: list[dict], **headers: str):
    return await server.client.post(
        "/api/v1/reservations",
        json={"slot_id": slot_id, "visitors": visitors},
        headers={**bearer(token), **headers, "Accept-Language": "en"},
    )


async def test_a_reservation_claims_places_and_answers_with_masked_tickets(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, capacity=20)
    _, token = await make_visitor_token(server.app)
    party = people(3)
    answer = await book(server, token, slot.id, party)
    assert answer.status_code == 201, answer.text
    reservation = answer.json()
    assert reservation["status"] == "confirmed" and reservation["party_size"] == 3
    assert len(reservation["tickets"]) == 3
    first = reservation["tickets"][0]
    number = party[0]["id_number"]
    assert first["id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert first["holder"] == "游**" and first["qr"].startswith("ETK1.")
    assert (await TimeSlot.get(id=slot.id)).booked == 3
    slots = (await server.client.get(f"/api/v1/venues/{venue.id}/slots",
                                     params={"date": slot.date.isoformat()})).json()  # fmt: skip
    assert slots[0]["remaining"] == 17


async def test_id_numbers_are_stored_encrypted_and_found_by_keyed_hash(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    _, token = await make_visitor_token(server.app)
    party = people(1)
    assert (await book(server, token, slot.id, party)).status_code == 201
    ticket = await Ticket.get(slot_id=slot.id)
    number = party[0]["id_number"]
    assert number not in ticket.id_number_encrypted and "游客" not in ticket.holder_name_encrypted
    cipher: FieldCipher = server.app.ctx.cipher
    assert cipher.decrypt(ticket.id_number_encrypted) == number
    assert ticket.id_number_hash == cipher.lookup_hash(number)


async def test_age_rules_from_the_id_birth_date_set_the_fare(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    _, token = await make_visitor_token(server.app)
    today = local_now().date()
    visitors = [
        {"name": "王老", "id_number": make_id_number(date(today.year - 70, 1, 1), 1)},
        {"name": "李叔", "id_number": make_id_number(date(today.year - 62, 1, 1), 2)},
        {"name": "小明", "id_number": make_id_number(today - timedelta(days=3 * 365), 3)},
        {"name": "张三", "id_number": make_id_number(date(today.year - 30, 1, 1), 4)},
    ]
    tickets = (await book(server, token, slot.id, visitors)).json()["tickets"]
    fares = [(t["fare"]["discount"], t["fare"]["price_cents"]) for t in tickets]
    assert fares == [("free", 0), ("half", 2500), ("free", 0), (None, 5000)]
    assert tickets[0]["fare"]["note"] == "65+ free"


@pytest.mark.parametrize(
    ("visitors", "code", "field"),
    [
        ([{"name": "甲", "id_number": "330302199005171230"}], "invalid_visitor_id_number",
         "visitors[0].id_number"),
        ([*people(1), {"name": "乙", "id_number": "12345"}], "invalid_visitor_id_number",
         "visitors[1].id_number"),
        ([*people(1), *people(1)], "duplicate_visitor", "visitors[1].id_number"),
        (people(6), "validation_error", "visitors"),
        ([], "validation_error", "visitors"),
        ([{"name": "", "id_number": make_id_number()}], "validation_error", "visitors[0].name"),
        ([{"id_number": make_id_number()}], "validation_error", "visitors[0].name"),
    ],
)  # fmt: skip
async def test_bad_visitors_are_refused_naming_the_visitor(server, visitors, code, field):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    _, token = await make_visitor_token(server.app)
    answer = await book(server, token, slot.id, visitors)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert (await TimeSlot.get(id=slot.id)).booked == 0


async def test_one_person_one_reservation_per_venue_per_day(server):
    venue = await make_reservable_venue()
    morning = await make_slot(venue, starts=time(9), ends=time(10))
    afternoon = await make_slot(venue, starts=time(14), ends=time(15))
    _, token = await make_visitor_token(server.app)
    _, friend_token = await make_visitor_token(server.app)
    person = people(1)
    assert (await book(server, token, morning.id, person)).status_code == 201
    again = await book(
        server, friend_token, afternoon.id, [*people(1, first_sequence=500), *person]
    )
    assert again.status_code == 409
    assert again.json()["error"] | {"message": ""} == {
        "code": "already_booked", "field": "visitors[1].id_number", "message": "",
        "request_id": again.json()["error"]["request_id"],
    }  # fmt: skip
    assert (await TimeSlot.get(id=afternoon.id)).booked == 0


async def test_full_slot_is_refused_with_nearby_suggestions(server):
    venue = await make_reservable_venue()
    full = await make_slot(venue, starts=time(10), ends=time(11), capacity=2, booked=1)
    busy = await make_slot(venue, starts=time(11), ends=time(12), capacity=10, booked=9)
    roomy = await make_slot(venue, starts=time(13), ends=time(14), capacity=10)
    _, token = await make_visitor_token(server.app)
    answer = await book(server, token, full.id, people(2))
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "slot_full" and error["remaining"] == 1
    assert [s["slot_id"] for s in error["suggestions"]] == [roomy.id]
    assert busy.id not in [s["slot_id"] for s in error["suggestions"]]


async def test_a_full_slot_offers_crowded_slots_with_room_after_the_roomy_ones(server):
    venue = await make_reservable_venue()
    full = await make_slot(venue, starts=time(10), ends=time(11), capacity=10, booked=10)
    crowded_near = await make_slot(venue, starts=time(11), ends=time(12), capacity=10, booked=8)
    crowded_tight = await make_slot(venue, starts=time(12), ends=time(13), capacity=10, booked=9)
    roomy_far = await make_slot(venue, starts=time(16), ends=time(17), capacity=10, booked=2)
    _, token = await make_visitor_token(server.app)
    error = (await book(server, token, full.id, people(2))).json()["error"]
    # Peak shifting first: the roomy slot leads though it is further; then crowded slots, but
    # only those with room for the party of two (12:00 has one place left).
    offered = [(s["slot_id"], s["crowded"], s["remaining"]) for s in error["suggestions"]]
    assert offered == [(roomy_far.id, False, 8), (crowded_near.id, True, 2)]
    assert crowded_tight.id not in [s["slot_id"] for s in error["suggestions"]]
    # The slot list still offers only roomy slots as a full slot's alternatives.
    listed = await server.client.get(
        f"/api/v1/venues/{venue.id}/slots", params={"date": full.date.isoformat()}
    )
    by_id = {s["id"]: s for s in listed.json()}
    assert [a["slot_id"] for a in by_id[full.id]["alternatives"]] == [roomy_far.id]


async def test_daily_cap_limits_a_day_across_slots(server):
    venue = await make_reservable_venue(daily_capacity=3)
    morning = await make_slot(venue, starts=time(9), ends=time(10))
    evening = await make_slot(venue, starts=time(18), ends=time(19))
    _, token = await make_visitor_token(server.app)
    assert (await book(server, token, morning.id, people(2))).status_code == 201
    refused = await book(server, token, evening.id, people(2, first_sequence=300))
    assert refused.json()["error"]["code"] == "day_full"
    assert (await TimeSlot.get(id=evening.id)).booked == 0


async def test_booking_before_the_release_hour_says_when_it_opens(server):
    venue = await make_reservable_venue(booking_days_ahead=7, booking_opens_at=time(20))
    far = await make_slot(venue, day=local_now().date() + timedelta(days=8))
    _, token = await make_visitor_token(server.app)
    answer = await book(server, token, far.id, people(1))
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "booking_not_open"
    opens = datetime.fromisoformat(error["opens_at"])
    assert opens == datetime.combine(far.date - timedelta(days=7), time(20), LOCAL_TZ)
    assert datetime.fromisoformat(error["server_time"]) < opens


async def test_past_slot_and_unknown_slot_are_refused(server):
    venue = await make_reservable_venue()
    past = await make_slot(venue, day=local_now().date() - timedelta(days=1))
    _, token = await make_visitor_token(server.app)
    assert (await book(server, token, past.id, people(1))).json()["error"]["code"] == "slot_past"
    missing = await book(server, token, 987654, people(1))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "slot_not_found"


async def test_reserving_needs_a_visitor_token(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    answer = await server.client.post(
        "/api/v1/reservations", json={"slot_id": slot.id, "visitors": people(1)}
    )
    assert answer.status_code == 401


async def test_cancel_returns_places_revokes_tickets_and_frees_the_person(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    _, token = await make_visitor_token(server.app)
    party = people(2)
    created = (await book(server, token, slot.id, party)).json()
    cancelled = await server.client.post(
        f"/api/v1/reservations/{created['id']}/cancel", headers=bearer(token)
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert all(t["status"] == "revoked" and t["qr"] is None for t in cancelled.json()["tickets"])
    assert (await TimeSlot.get(id=slot.id)).booked == 0
    assert not await PersonDayClaim.filter(venue_id=venue.id).exists()
    twice = await server.client.post(
        f"/api/v1/reservations/{created['id']}/cancel", headers=bearer(token)
    )
    assert twice.status_code == 200 and (await TimeSlot.get(id=slot.id)).booked == 0
    assert (await book(server, token, slot.id, party)).status_code == 201


async def test_cancel_after_the_deadline_or_after_entry_is_refused(server):
    # A slot starting well inside the two-hour deadline, at any hour: after 22:30 it is just
    # after midnight (now + 30 minutes would wrap to a time already past today).
    soon = (local_now() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    if soon.time() >= time(23):
        soon = datetime.combine(soon.date() + timedelta(days=1), time(0, 1), LOCAL_TZ)
    venue = await make_reservable_venue(cancel_deadline_minutes=120)
    slot = await make_slot(
        venue, day=soon.date(), starts=soon.time(), ends=(soon + timedelta(hours=1)).time()
    )
    _, token = await make_visitor_token(server.app)
    created = (await book(server, token, slot.id, people(1))).json()
    late = await server.client.post(
        f"/api/v1/reservations/{created['id']}/cancel", headers=bearer(token)
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "cancel_too_late"

    later_slot = await make_slot(venue, day=local_now().date() + timedelta(days=2))
    entered = (await book(server, token, later_slot.id, people(1, first_sequence=700))).json()
    await Ticket.filter(reservation_id=entered["id"]).update(status=TicketStatus.USED)
    refused = await server.client.post(
        f"/api/v1/reservations/{entered['id']}/cancel", headers=bearer(token)
    )
    assert refused.json()["error"]["code"] == "already_entered"


async def test_visitors_see_only_their_own_reservations(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    _, alice = await make_visitor_token(server.app)
    _, bob = await make_visitor_token(server.app)
    created = (await book(server, alice, slot.id, people(1))).json()
    mine = await server.client.get("/api/v1/reservations", headers=bearer(alice))
    assert [r["id"] for r in mine.json()] == [created["id"]]
    assert (await server.client.get("/api/v1/reservations", headers=bearer(bob))).json() == []
    for path in (f"/api/v1/reservations/{created['id']}",):
        assert (await server.client.get(path, headers=bearer(bob))).status_code == 404
    stolen = await server.client.post(
        f"/api/v1/reservations/{created['id']}/cancel", headers=bearer(bob)
    )
    assert stolen.status_code == 404
    assert (await TimeSlot.get(id=slot.id)).booked == 1


async def test_idempotency_key_returns_the_first_answer_and_refuses_another_body(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    _, token = await make_visitor_token(server.app)
    party = people(2)
    first = await book(server, token, slot.id, party, **{"Idempotency-Key": "k-1"})
    retry = await book(server, token, slot.id, party, **{"Idempotency-Key": "k-1"})
    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert (await TimeSlot.get(id=slot.id)).booked == 2
    other = await book(server, token, slot.id, people(1, first_sequence=900),
                       **{"Idempotency-Key": "k-1"})  # fmt: skip
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


async def test_a_retry_gets_its_first_booking_from_the_database_when_redis_lost_the_key(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    _, token = await make_visitor_token(server.app)
    party = people(2)
    first = await book(server, token, slot.id, party, **{"Idempotency-Key": "k-lost"})
    assert first.status_code == 201
    await server.app.ctx.redis.flushdb()  # every idempotency record gone
    retry = await book(server, token, slot.id, party, **{"Idempotency-Key": "k-lost"})
    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert (await TimeSlot.get(id=slot.id)).booked == 2
    await server.app.ctx.redis.flushdb()
    other = await book(server, token, slot.id, people(1, first_sequence=900),
                       **{"Idempotency-Key": "k-lost"})  # fmt: skip
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert (await TimeSlot.get(id=slot.id)).booked == 2


async def test_idempotent_retry_while_the_first_is_running_is_a_409(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    visitor, token = await make_visitor_token(server.app)
    # The first request is mid-flight: its record says "running".
    from server.idempotency import fingerprint

    body = {"slot_id": slot.id, "visitors": people(1)}
    await server.app.ctx.redis.set(
        f"idem:reserve:{visitor.id}:k-2", f'{{"state": "running", "fp": "{fingerprint(body)}"}}'
    )
    answer = await book(server, token, slot.id, body["visitors"], **{"Idempotency-Key": "k-2"})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "idempotency_in_progress"


async def test_manager_changes_capacity_of_own_venue_only_and_never_below_booked(server):
    from server.accounts import service as accounts

    venue = await make_reservable_venue()
    other = await make_reservable_venue()
    slot = await make_slot(venue, capacity=20, booked=5)
    foreign = await make_slot(other)
    await accounts.create_staff_user(
        username="mgr", password="manager-pass-1", role="venue_manager", venue_code=venue.code
    )
    login = await server.client.post(
        "/api/v1/admin/login", json={"username": "mgr", "password": "manager-pass-1"}
    )
    headers = bearer(login.json()["token"])
    raised = await server.client.patch(
        f"/api/v1/admin/slots/{slot.id}", json={"capacity": 30}, headers=headers
    )
    assert raised.status_code == 200 and raised.json()["capacity"] == 30
    below = await server.client.patch(
        f"/api/v1/admin/slots/{slot.id}", json={"capacity": 4}, headers=headers
    )
    assert below.status_code == 409 and below.json()["error"]["booked"] == 5
    assert (await TimeSlot.get(id=slot.id)).capacity == 30
    elsewhere = await server.client.patch(
        f"/api/v1/admin/slots/{foreign.id}", json={"capacity": 1}, headers=headers
    )
    assert elsewhere.status_code == 404


async def test_slot_listing_shows_crowd_levels_and_roomier_alternatives(server):
    venue = await make_reservable_venue()
    crowded = await make_slot(venue, starts=time(10), ends=time(11), capacity=10, booked=9)
    full = await make_slot(venue, starts=time(11), ends=time(12), capacity=10, booked=10)
    roomy = await make_slot(venue, starts=time(14), ends=time(15), capacity=10, booked=2)
    next_day = await make_slot(venue, day=crowded.date + timedelta(days=1), capacity=10)
    answer = await server.client.get(
        f"/api/v1/venues/{venue.id}/slots", params={"date": crowded.date.isoformat()}
    )
    by_id = {slot["id"]: slot for slot in answer.json()}
    assert [by_id[s.id]["level"] for s in (crowded, full, roomy)] == ["crowded", "full",
                                                                      "comfortable"]  # fmt: skip
    assert [a["slot_id"] for a in by_id[full.id]["alternatives"]] == [roomy.id, next_day.id]
    assert by_id[roomy.id]["alternatives"] == []


async def test_cancel_rolls_back_whole_when_one_of_the_party_is_already_inside(server):
    venue = await make_reservable_venue()
    slot = await make_slot(venue)
    _, token = await make_visitor_token(server.app)
    created = (await book(server, token, slot.id, people(2))).json()
    inside = created["tickets"][1]["id"]
    await Ticket.filter(id=inside).update(status=TicketStatus.USED)
    refused = await server.client.post(
        f"/api/v1/reservations/{created['id']}/cancel", headers=bearer(token)
    )
    assert refused.json()["error"]["code"] == "already_entered"
    assert (await TimeSlot.get(id=slot.id)).booked == 2
    statuses = (
        await Ticket.filter(reservation_id=created["id"])
        .order_by("id")
        .values_list("status", flat=True)
    )
    assert statuses == [TicketStatus.VALID, TicketStatus.USED]
    assert await PersonDayClaim.filter(reservation_id=created["id"]).count() == 2
