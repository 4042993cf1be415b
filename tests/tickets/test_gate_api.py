"""Scanning at the gate over HTTP: each refusal with its own reason, admission once, exits."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

from factories import (
    make_slot,
    make_staff_token,
    make_ticket,
    make_visitor_token,
    people,
)

from server.clock import local_now
from server.signing import TokenSigner
from server.tickets.models import GateScan, Ticket, TicketStatus, VenueOccupancy

from .conftest import bearer


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _altered(qr: str, **changes: int) -> str:
    """The same QR with its payload changed and the original signature kept."""
    payload, signature = qr.removeprefix("ETK1.").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return "ETK1." + _b64(json.dumps(claims, separators=(",", ":")).encode()) + "." + signature


async def test_a_valid_ticket_is_admitted_once_and_a_rescan_is_already_used(gate):
    ticket = await make_ticket(gate.venue)
    first = await gate.verdict(gate.qr(ticket))
    assert (first["admitted"], first["reason"]) == (True, "admitted")
    assert first["occupancy"]["inside"] == 1 and first["occupancy"]["capacity"] is None
    again = await gate.verdict(gate.qr(ticket))
    assert (again["admitted"], again["reason"]) == (False, "already_used")
    assert again["ticket"]["id"] == ticket.id and again["occupancy"]["inside"] == 1
    assert again["message"] == "Ticket already used: no second entry."
    fresh = await Ticket.get(id=ticket.id)
    assert fresh.status == TicketStatus.USED and fresh.admitted_at is not None


async def test_every_scan_is_recorded_with_staff_reason_and_time(gate):
    ticket = await make_ticket(gate.venue)
    before = local_now()
    await gate.verdict(gate.qr(ticket))
    await gate.verdict(gate.qr(ticket))
    await gate.verdict("not ours")
    scans = await GateScan.filter(venue_id=gate.venue.id).order_by("id")
    assert [(s.admitted, s.reason) for s in scans] == [
        (True, "admitted"), (False, "already_used"), (False, "unknown_code"),
    ]  # fmt: skip
    assert {s.staff_id for s in scans} == {gate.staff_id}
    assert [s.ticket_id for s in scans] == [ticket.id, ticket.id, None]
    assert all(s.scanned_at >= before - timedelta(seconds=1) for s in scans)


async def test_a_code_that_is_not_ours_is_unknown(gate):
    for text in ("https://weixin.qq.com/x", "ETK2.abc.def", "   "):
        verdict = await gate.verdict(text)
        assert (verdict["admitted"], verdict["reason"]) == (False, "unknown_code"), text
        assert verdict["ticket"] is None


async def test_a_token_signed_with_another_key_is_forged(gate):
    ticket = await make_ticket(gate.venue)
    stranger = TokenSigner(b"someone-else's-secret-key-of-sufficient-length-0123")
    claims = {"t": ticket.id, "v": gate.venue.id, "s": ticket.slot_id}
    token = stranger.sign(purpose="ticket", claims=claims, ttl_seconds=60, now=time.time())
    verdict = await gate.verdict("ETK1." + token)
    assert (verdict["admitted"], verdict["reason"]) == (False, "forged")
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.VALID


async def test_an_altered_or_garbled_token_is_forged(gate):
    ticket = await make_ticket(gate.venue)
    other = await make_ticket(gate.venue)
    genuine = gate.qr(ticket)
    for text in (
        _altered(genuine, t=other.id),
        _altered(genuine, exp=int(time.time()) + 3600),
        genuine[:-20] + ("A" if genuine[-20] != "A" else "B") + genuine[-19:],
        "ETK1.nonsense",
        "ETK1."
        + gate.server.app.ctx.signer.sign(
            purpose="session", claims={"t": ticket.id}, ttl_seconds=60, now=time.time()
        ),
    ):
        verdict = await gate.verdict(text)
        assert (verdict["admitted"], verdict["reason"]) == (False, "forged"), text
    assert await Ticket.filter(status=TicketStatus.VALID).count() == 2


async def test_an_expired_code_is_refused_as_expired(gate):
    ticket = await make_ticket(gate.venue)
    verdict = await gate.verdict(gate.qr(ticket, at=time.time() - 61))
    assert (verdict["admitted"], verdict["reason"]) == (False, "expired")
    assert verdict["ticket"]["id"] == ticket.id
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.VALID


async def test_another_venues_staff_get_wrong_venue_and_see_nothing_of_the_ticket(gate, open_gate):
    ticket = await make_ticket(gate.venue)
    elsewhere = await open_gate()
    verdict = await elsewhere.verdict(gate.qr(ticket))
    assert (verdict["admitted"], verdict["reason"]) == (False, "wrong_venue")
    assert verdict["ticket"] is None
    assert verdict["occupancy"]["venue_id"] == elsewhere.venue.id
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.VALID


async def test_the_qr_of_a_cancelled_reservation_is_revoked(gate):
    _, token = await make_visitor_token(gate.server.app)
    slot = await make_slot(gate.venue)
    booked = await gate.client.post(
        "/api/v1/reservations",
        json={"slot_id": slot.id, "visitors": people(2)},
        headers=bearer(token),
    )
    screenshot = booked.json()["tickets"][0]["qr"]
    cancel = await gate.client.post(
        f"/api/v1/reservations/{booked.json()['id']}/cancel", headers=bearer(token)
    )
    assert cancel.status_code == 200
    verdict = await gate.verdict(screenshot)
    assert (verdict["admitted"], verdict["reason"]) == (False, "revoked")


async def test_entry_before_the_slots_tolerance_is_too_early(open_gate):
    punctual = await open_gate(entry_early_minutes=30)
    tomorrow = await make_ticket(punctual.venue)  # tomorrow 10:00-12:00
    verdict = await punctual.verdict(punctual.qr(tomorrow))
    assert (verdict["admitted"], verdict["reason"]) == (False, "too_early")


async def test_entry_after_the_slots_tolerance_is_too_late(gate):
    yesterday = await make_slot(gate.venue, day=local_now().date() - timedelta(days=1))
    ticket = await make_ticket(gate.venue, slot=yesterday)
    verdict = await gate.verdict(gate.qr(ticket))
    assert (verdict["admitted"], verdict["reason"]) == (False, "too_late")


async def test_a_full_venue_refuses_entry_and_the_ticket_stays_valid(open_gate):
    small = await open_gate(instant_capacity=1)
    first, second = await make_ticket(small.venue), await make_ticket(small.venue)
    assert (await small.verdict(small.qr(first)))["admitted"] is True
    refused = await small.verdict(small.qr(second))
    assert (refused["admitted"], refused["reason"]) == (False, "venue_full")
    assert refused["occupancy"] == {
        "venue_id": small.venue.id, "date": local_now().date().isoformat(),
        "inside": 1, "capacity": 1, "percent": 100, "level": "full",
    }  # fmt: skip
    assert (await Ticket.get(id=second.id)).status == TicketStatus.VALID
    assert (await small.verdict(small.qr(first), "exit"))["reason"] == "exited"
    assert (await small.verdict(small.qr(second)))["admitted"] is True


async def test_a_used_ticket_at_a_full_venue_is_refused_as_already_used(open_gate):
    small = await open_gate(instant_capacity=1)
    ticket = await make_ticket(small.venue)
    assert (await small.verdict(small.qr(ticket)))["admitted"] is True
    again = await small.verdict(small.qr(ticket))
    assert (again["admitted"], again["reason"]) == (False, "already_used")
    row = await VenueOccupancy.get(venue_id=small.venue.id)
    assert (row.inside, row.entered) == (1, 1)
    assert await GateScan.filter(admitted=True).count() == 1


async def test_an_admission_records_the_scan_with_its_gate_and_times(gate):
    ticket = await make_ticket(gate.venue)
    before = local_now()
    await gate.scan(gate.qr(ticket), gate="north-2")
    [scan] = await GateScan.filter(venue_id=gate.venue.id)
    assert (scan.ticket_id, scan.staff_id, scan.direction, scan.gate) == (
        ticket.id, gate.staff_id, "entry", "north-2",
    )  # fmt: skip
    assert before - timedelta(seconds=1) <= scan.scanned_at <= scan.recorded_at
    assert scan.nonce is None and scan.admitted is True and scan.reason == "admitted"


async def test_exits_lower_occupancy_once_and_only_for_people_inside(gate):
    inside, outside = await make_ticket(gate.venue), await make_ticket(gate.venue)
    await gate.verdict(gate.qr(inside))
    leaving = await gate.verdict(gate.qr(inside), "exit")
    assert (leaving["admitted"], leaving["reason"]) == (True, "exited")
    assert leaving["occupancy"]["inside"] == 0
    twice = await gate.verdict(gate.qr(inside), "exit")
    assert (twice["admitted"], twice["reason"]) == (False, "already_exited")
    never = await gate.verdict(gate.qr(outside), "exit")
    assert (never["admitted"], never["reason"]) == (False, "not_entered")
    row = await VenueOccupancy.get(venue_id=gate.venue.id)
    assert (row.inside, row.entered, row.exited) == (0, 1, 1)
    assert (await Ticket.get(id=inside.id)).exited_at is not None


async def test_refusal_messages_are_in_chinese_by_default(gate):
    answer = await gate.client.post(
        "/api/v1/gate/scan", json={"qr": "hello"}, headers=bearer(gate.token)
    )
    assert answer.json()["message"] == "无法识别：这不是本系统的入园码。"


async def test_the_gate_needs_a_venue_account(gate):
    ticket = await make_ticket(gate.venue)
    qr = gate.qr(ticket)
    anonymous = await gate.client.post("/api/v1/gate/scan", json={"qr": qr})
    assert anonymous.status_code == 401
    _, visitor_token = await make_visitor_token(gate.server.app)
    _, admin_token = await make_staff_token(gate.server.app, None, role="admin")
    for token in (visitor_token, admin_token):
        answer = await gate.client.post("/api/v1/gate/scan", json={"qr": qr}, headers=bearer(token))
        assert answer.status_code == 403
    assert await GateScan.all().count() == 0
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.VALID


async def test_the_venues_manager_may_scan_too(open_gate):
    manned = await open_gate(role="venue_manager")
    ticket = await make_ticket(manned.venue)
    assert (await manned.verdict(manned.qr(ticket)))["admitted"] is True


async def test_malformed_scans_are_4xx_not_verdicts(gate):
    headers = {**bearer(gate.token), "Accept-Language": "en"}
    cases = [
        ({"direction": "entry"}, 422, "qr"),
        ({"qr": "x", "direction": "sideways"}, 422, "direction"),
        ({"qr": ""}, 422, "qr"),
        ({"qr": "x", "extra": 1}, 422, "extra"),
        ({"qr": "x" * 3000}, 422, "qr"),
    ]
    for payload, status, field in cases:
        answer = await gate.client.post("/api/v1/gate/scan", json=payload, headers=headers)
        assert answer.status_code == status, payload
        assert answer.json()["error"]["field"] == field
    broken = await gate.client.post(
        "/api/v1/gate/scan", content=b"{", headers={**headers, "content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert await GateScan.all().count() == 0


async def test_a_gate_name_is_accepted_and_the_ticket_shows_its_slot(gate):
    ticket = await make_ticket(gate.venue)
    answer = await gate.scan(gate.qr(ticket), gate="north-2")
    verdict = answer.json()
    assert answer.status_code == 200 and verdict["admitted"] is True
    assert verdict["ticket"]["slot"] == {"start": "10:00", "end": "12:00"}
    assert verdict["ticket"]["date"] == ticket.date.isoformat()


async def test_a_venue_without_a_cap_has_no_level_in_the_scan_answer(gate):
    ticket = await make_ticket(gate.venue)
    occupancy = (await gate.verdict(gate.qr(ticket)))["occupancy"]
    assert (occupancy["capacity"], occupancy["percent"], occupancy["level"]) == (None, None, None)
    assert occupancy["inside"] == (await VenueOccupancy.get(venue_id=gate.venue.id)).inside == 1


async def test_gate_and_qr_endpoints_are_in_the_openapi_document(gate):
    paths = (await gate.client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/gate/scan", "/api/v1/gate/keys", "/api/v1/gate/revocations",
        "/api/v1/gate/offline-scans", "/api/v1/tickets/{ticket_id}/qr",
        "/api/v1/tickets/{ticket_id}/qr.png", "/api/v1/tickets/{ticket_id}/qr.svg",
    ):  # fmt: skip
        assert path in paths, path


async def test_the_scanning_gate_is_stored_and_named_in_the_answer(gate):
    ticket = await make_ticket(gate.venue)
    admitted = await gate.scan(gate.qr(ticket), gate="north-2")
    refused = await gate.scan(gate.qr(ticket), gate="south-1")
    unnamed = await gate.verdict("not ours")
    assert admitted.status_code == refused.status_code == 200
    assert (admitted.json()["admitted"], admitted.json()["gate"]) == (True, "north-2")
    assert (refused.json()["reason"], refused.json()["gate"]) == ("already_used", "south-1")
    assert unnamed["gate"] is None
    scans = await GateScan.filter(venue_id=gate.venue.id).order_by("id")
    assert [(s.reason, s.gate) for s in scans] == [
        ("admitted", "north-2"), ("already_used", "south-1"), ("unknown_code", None),
    ]  # fmt: skip


async def test_a_gate_name_longer_than_64_characters_is_refused(gate):
    ticket = await make_ticket(gate.venue)
    answer = await gate.scan(gate.qr(ticket), gate="g" * 65)
    assert answer.status_code == 422, answer.text
    assert await GateScan.filter(venue_id=gate.venue.id).count() == 0
