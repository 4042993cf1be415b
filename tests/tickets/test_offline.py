"""Gates offline: the public key, the revocation list, and uploading scans later, once."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from factories import make_slot, make_ticket, make_visitor_token, people

from server.clock import local_now
from server.tickets.models import GateScan, Ticket, TicketStatus, VenueOccupancy

from .conftest import bearer


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _nonce() -> str:
    return uuid.uuid4().hex


def _scan(gate, ticket, at: datetime, nonce: str, direction: str = "entry") -> dict:
    """An offline scan of `ticket`, read from a QR the phone showed at `at`."""
    return {
        "qr": gate.qr(ticket, at=at.timestamp()),
        "nonce": nonce,
        "scanned_at": at.isoformat(),
        "direction": direction,
    }


async def _upload(gate, scans: list[dict]):
    return await gate.client.post(
        "/api/v1/gate/offline-scans",
        json={"scans": scans},
        headers={**bearer(gate.token), "Accept-Language": "en"},
    )


async def test_gate_keys_verify_a_qr_offline_as_documented(gate):
    answer = await gate.client.get("/api/v1/gate/keys")
    assert answer.status_code == 200
    published = answer.json()
    assert (published["qr_prefix"], published["purpose"]) == ("ETK1.", "ticket")
    (key,) = published["keys"]
    assert key["alg"] == "Ed25519" and key["kid"] == gate.server.app.ctx.signer.key_id
    public_key = Ed25519PublicKey.from_public_bytes(_b64decode(key["public_key"]))
    ticket = await make_ticket(gate.venue)
    payload, signature = gate.qr(ticket).removeprefix("ETK1.").split(".")
    public_key.verify(_b64decode(signature), f"ticket.{payload}".encode())  # raises if wrong
    assert b'"t":%d' % ticket.id in _b64decode(payload)


async def test_revocations_list_the_venues_tickets_revoked_since_a_moment(gate, open_gate):
    _, token = await make_visitor_token(gate.server.app)
    slot = await make_slot(gate.venue)
    before = local_now()
    booked = []
    for party in (people(2, first_sequence=10), people(1, first_sequence=20)):
        answer = await gate.client.post(
            "/api/v1/reservations",
            json={"slot_id": slot.id, "visitors": party},
            headers=bearer(token),
        )
        booked.append(answer.json())
    await gate.client.post(f"/api/v1/reservations/{booked[0]['id']}/cancel", headers=bearer(token))
    elsewhere = await open_gate()
    await make_ticket(elsewhere.venue, status=TicketStatus.REVOKED, revoked_at=local_now())

    listed = await gate.client.get(
        "/api/v1/gate/revocations",
        params={"since": before.isoformat()},
        headers=bearer(gate.token),
    )
    assert listed.status_code == 200
    answer = listed.json()
    assert answer["revoked"] == sorted(t["id"] for t in booked[0]["tickets"])
    assert datetime.fromisoformat(answer["next_since"]) < datetime.fromisoformat(
        answer["server_time"]
    )
    everything = await gate.client.get("/api/v1/gate/revocations", headers=bearer(gate.token))
    assert everything.json()["revoked"] == answer["revoked"]
    later = await gate.client.get(
        "/api/v1/gate/revocations",
        params={"since": (local_now() + timedelta(minutes=1)).isoformat()},
        headers=bearer(gate.token),
    )
    assert later.json()["revoked"] == []


async def test_revocations_need_a_gate_account_and_a_valid_since(gate):
    assert (await gate.client.get("/api/v1/gate/revocations")).status_code == 401
    bad = await gate.client.get(
        "/api/v1/gate/revocations", params={"since": "yesterday"}, headers=bearer(gate.token)
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "since"


async def test_a_reupload_returns_the_first_results_and_counts_nothing_twice(gate):
    first, second = await make_ticket(gate.venue), await make_ticket(gate.venue)
    at = local_now() - timedelta(minutes=5)
    scans = [_scan(gate, first, at, _nonce()), _scan(gate, second, at, _nonce())]
    answer = await _upload(gate, scans)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["admitted"], r["reason"], r["duplicate"]) for r in results] == [
        (True, "admitted", False), (True, "admitted", False),
    ]  # fmt: skip
    assert [r["nonce"] for r in results] == [s["nonce"] for s in scans]
    again = (await _upload(gate, scans)).json()["results"]
    assert [(r["admitted"], r["reason"], r["duplicate"]) for r in again] == [
        (True, "admitted", True), (True, "admitted", True),
    ]  # fmt: skip
    assert again[0]["ticket"]["id"] == first.id
    row = await VenueOccupancy.get(venue_id=gate.venue.id)
    assert (row.inside, row.entered) == (2, 2)
    assert await GateScan.all().count() == 2


async def test_concurrent_reuploads_of_one_batch_count_each_scan_once(gate):
    tickets = [await make_ticket(gate.venue) for _ in range(5)]
    at = local_now() - timedelta(minutes=1)
    scans = [_scan(gate, ticket, at, _nonce()) for ticket in tickets]
    answers = await asyncio.gather(*(_upload(gate, scans) for _ in range(6)))
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    for answer in answers:
        assert all(r["admitted"] and r["reason"] == "admitted" for r in answer.json()["results"])
    assert (await VenueOccupancy.get(venue_id=gate.venue.id)).entered == 5
    assert await GateScan.all().count() == 5


async def test_the_window_is_judged_at_the_scan_time_not_at_upload(gate):
    still_good, stale = await make_ticket(gate.venue), await make_ticket(gate.venue)
    shown = local_now() - timedelta(hours=3)
    late_read = _scan(gate, stale, shown, _nonce())
    late_read["scanned_at"] = (shown + timedelta(seconds=61)).isoformat()
    results = (
        await _upload(gate, [_scan(gate, still_good, shown + timedelta(seconds=30), _nonce()),
                             late_read])
    ).json()["results"]  # fmt: skip
    assert [(r["admitted"], r["reason"]) for r in results] == [
        (True, "admitted"), (False, "expired"),
    ]  # fmt: skip


async def test_scan_times_in_the_future_or_older_than_48_hours_are_refused(gate):
    ticket = await make_ticket(gate.venue)
    now = local_now()
    ahead = _scan(gate, ticket, now + timedelta(minutes=10), _nonce())
    old = _scan(gate, ticket, now - timedelta(hours=49), _nonce())
    results = (await _upload(gate, [ahead, old])).json()["results"]
    assert [(r["admitted"], r["reason"]) for r in results] == [
        (False, "scanned_in_future"), (False, "scan_too_old"),
    ]  # fmt: skip
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.VALID


async def test_an_exit_uploaded_before_its_entry_is_replayed_in_scan_order(gate):
    ticket = await make_ticket(gate.venue)
    entered = local_now() - timedelta(hours=2)
    exit_scan = _scan(gate, ticket, entered + timedelta(hours=1), _nonce(), "exit")
    entry_scan = _scan(gate, ticket, entered, _nonce())
    results = (await _upload(gate, [exit_scan, entry_scan])).json()["results"]
    assert [(r["direction"], r["reason"]) for r in results] == [
        ("exit", "exited"), ("entry", "admitted"),
    ]  # fmt: skip
    row = await VenueOccupancy.get(venue_id=gate.venue.id)
    assert (row.inside, row.entered, row.exited) == (0, 1, 1)


async def test_offline_entries_count_even_beyond_the_cap_since_people_are_inside(open_gate):
    small = await open_gate(instant_capacity=1)
    tickets = [await make_ticket(small.venue) for _ in range(2)]
    at = local_now() - timedelta(minutes=3)
    results = (await _upload(small, [_scan(small, t, at, _nonce()) for t in tickets])).json()[
        "results"
    ]
    assert [r["admitted"] for r in results] == [True, True]
    assert results[1]["occupancy"]["inside"] == 2 and results[1]["occupancy"]["level"] == "full"


async def test_an_offline_upload_is_checked_like_a_scan_and_limited_in_size(gate, open_gate):
    ticket = await make_ticket(gate.venue)
    elsewhere = await open_gate()
    at = local_now() - timedelta(minutes=1)
    foreign = (await _upload(elsewhere, [_scan(gate, ticket, at, _nonce())])).json()["results"]
    assert (foreign[0]["reason"], foreign[0]["ticket"]) == ("wrong_venue", None)
    forged = _scan(gate, ticket, at, _nonce())
    qr = forged["qr"]
    forged["qr"] = qr[:-20] + ("A" if qr[-20] != "A" else "B") + qr[-19:]
    assert (await _upload(gate, [forged])).json()["results"][0]["reason"] == "forged"
    too_many = await _upload(gate, [_scan(gate, ticket, at, _nonce()) for _ in range(501)])
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "scans"
    no_nonce = await _upload(gate, [{"qr": "x", "scanned_at": at.isoformat()}])
    assert no_nonce.status_code == 422
    assert (await Ticket.get(id=ticket.id)).status == TicketStatus.VALID


async def test_another_venues_nonce_does_not_reveal_its_result(gate, open_gate):
    ticket = await make_ticket(gate.venue)
    at = local_now() - timedelta(minutes=1)
    scan = _scan(gate, ticket, at, _nonce())
    assert (await _upload(gate, [scan])).json()["results"][0]["admitted"] is True
    elsewhere = await open_gate()
    result = (await _upload(elsewhere, [scan])).json()["results"][0]
    assert (result["admitted"], result["reason"], result["ticket"]) == (
        False, "nonce_reused", None,
    )  # fmt: skip


async def test_an_offline_scan_keeps_its_gate_and_a_reupload_shows_it(gate):
    ticket = await make_ticket(gate.venue)
    scan = {**_scan(gate, ticket, local_now(), f"n-{uuid.uuid4()}"), "gate": "east-3"}
    first = await _upload(gate, [scan])
    again = await _upload(gate, [scan])
    assert first.status_code == again.status_code == 200, first.text
    assert [(r["admitted"], r["gate"]) for r in first.json()["results"]] == [(True, "east-3")]
    assert [(r["duplicate"], r["gate"]) for r in again.json()["results"]] == [(True, "east-3")]
    assert await GateScan.filter(gate="east-3").count() == 1
