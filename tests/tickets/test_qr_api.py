"""The visitor's QR code: fresh on every call, only for their own valid tickets, readable."""

from __future__ import annotations

import asyncio
import io
import time

import zxingcpp
from factories import make_slot, make_ticket, make_visitor_token, people
from PIL import Image

from server.tickets.models import TicketStatus

from .conftest import bearer


async def _book(gate, token: str, party: int = 1) -> dict:
    slot = await make_slot(gate.venue)
    answer = await gate.client.post(
        "/api/v1/reservations",
        json={"slot_id": slot.id, "visitors": people(party)},
        headers=bearer(token),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_the_png_decodes_with_a_real_reader_and_the_gate_admits_what_it_reads(gate):
    _, token = await make_visitor_token(gate.server.app)
    ticket_id = (await _book(gate, token))["tickets"][0]["id"]
    answer = await gate.client.get(f"/api/v1/tickets/{ticket_id}/qr.png", headers=bearer(token))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["cache-control"] == "no-store"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(answer.content)))
    assert len(decoded) == 1 and decoded[0].format == zxingcpp.BarcodeFormat.QRCode
    text = decoded[0].text
    assert text.startswith("ETK1.")
    verdict = await gate.verdict(text)
    assert (verdict["admitted"], verdict["reason"]) == (True, "admitted")
    assert verdict["ticket"]["id"] == ticket_id
    assert verdict["ticket"]["holder"] == "游**"
    assert verdict["ticket"]["id_number"].count("*") == 10
    assert verdict["ticket"]["fare"]["price_cents"] == 5000
    assert verdict["message"] == "Ticket valid: welcome."


async def test_the_svg_is_an_svg_image_not_stored_on_the_way(gate):
    _, token = await make_visitor_token(gate.server.app)
    ticket_id = (await _book(gate, token))["tickets"][0]["id"]
    answer = await gate.client.get(f"/api/v1/tickets/{ticket_id}/qr.svg", headers=bearer(token))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.headers["cache-control"] == "no-store"
    assert b"<svg" in answer.content and b"<path" in answer.content


async def test_the_qr_text_is_reissued_on_every_call_with_its_expiry_and_refresh_time(gate):
    _, token = await make_visitor_token(gate.server.app)
    ticket_id = (await _book(gate, token))["tickets"][0]["id"]
    url = f"/api/v1/tickets/{ticket_id}/qr"
    first = await gate.client.get(url, headers=bearer(token))
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    code = first.json()
    assert code["qr"].startswith("ETK1.")
    assert abs(code["expires_at"] - (time.time() + 60)) <= 2
    assert code["expires_in"] == 60 and 0 < code["refresh_after"] < code["expires_in"]
    await asyncio.sleep(1.1)  # the window is in whole seconds: a second later it differs
    second = (await gate.client.get(url, headers=bearer(token))).json()
    assert second["qr"] != code["qr"] and second["expires_at"] > code["expires_at"]


async def test_a_visitor_cannot_fetch_someone_elses_qr(gate):
    _, owner_token = await make_visitor_token(gate.server.app)
    _, other_token = await make_visitor_token(gate.server.app)
    ticket_id = (await _book(gate, owner_token))["tickets"][0]["id"]
    for suffix in ("qr", "qr.png", "qr.svg"):
        answer = await gate.client.get(
            f"/api/v1/tickets/{ticket_id}/{suffix}", headers=bearer(other_token)
        )
        assert answer.status_code == 404, suffix
        assert answer.json()["error"]["code"] == "ticket_not_found"
    missing = await gate.client.get("/api/v1/tickets/999999/qr", headers=bearer(owner_token))
    assert missing.status_code == 404


async def test_the_qr_needs_a_visitor_token(gate):
    _, token = await make_visitor_token(gate.server.app)
    ticket_id = (await _book(gate, token))["tickets"][0]["id"]
    assert (await gate.client.get(f"/api/v1/tickets/{ticket_id}/qr")).status_code == 401
    staff = await gate.client.get(f"/api/v1/tickets/{ticket_id}/qr", headers=bearer(gate.token))
    assert staff.status_code == 403


async def test_a_cancelled_reservation_has_no_qr_any_more(gate):
    _, token = await make_visitor_token(gate.server.app)
    reservation = await _book(gate, token)
    cancelled = await gate.client.post(
        f"/api/v1/reservations/{reservation['id']}/cancel", headers=bearer(token)
    )
    assert cancelled.status_code == 200
    ticket_id = reservation["tickets"][0]["id"]
    for suffix in ("qr", "qr.png"):
        answer = await gate.client.get(
            f"/api/v1/tickets/{ticket_id}/{suffix}",
            headers={**bearer(token), "Accept-Language": "en"},
        )
        assert answer.status_code == 409
        error = answer.json()["error"]
        assert error["code"] == "ticket_revoked" and "cancelled" in error["message"]


async def test_a_used_ticket_has_no_qr_any_more(gate):
    visitor, token = await make_visitor_token(gate.server.app)
    ticket = await make_ticket(gate.venue, visitor=visitor, status=TicketStatus.USED)
    answer = await gate.client.get(f"/api/v1/tickets/{ticket.id}/qr", headers=bearer(token))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "ticket_used"
