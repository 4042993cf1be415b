"""Cockpit figures from real bookings and gate scans, the live stream, and the exports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from datetime import timedelta

import openpyxl
from factories import make_id_number, make_slot, make_ticket

from server.admin import cockpit
from server.admin.models import AuditEntry
from server.clock import local_now
from server.reservations.models import Reservation, ReservationStatus
from server.tickets import service as tickets

WIDE_OPEN_MINUTES = 3 * 24 * 60  # tomorrow's default slot may be scanned now, at any hour


async def _scan(server, cast, ticket) -> dict:
    qr, _ = tickets.qr_text(server.app.ctx.signer, ticket, now=time.time())
    answer = await server.client.post("/api/v1/gate/scan", json={"qr": qr}, headers=cast["staff_a"])
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _busy_day(server, cast):
    """Venue A today: two confirmed tickets (one per person), one cancelled; three scans in."""
    venue = cast.venue_a
    # Today's 10:00 slot may be scanned at any hour the test runs.
    venue.entry_early_minutes = venue.entry_late_minutes = WIDE_OPEN_MINUTES
    venue.instant_capacity = 3
    await venue.save()
    today = local_now().date()
    slot = await make_slot(venue, day=today, capacity=50, booked=2)
    first = await make_ticket(venue, slot=slot, id_number=make_id_number(sequence=301))
    second = await make_ticket(venue, slot=slot, id_number=make_id_number(sequence=302))
    cancelled = await make_ticket(venue, slot=slot, id_number=make_id_number(sequence=303))
    await Reservation.filter(id=cancelled.reservation_id).update(status=ReservationStatus.CANCELLED)
    tomorrow_ticket = await make_ticket(venue)  # tomorrow's: admitted early, counted today
    for ticket in (first, second, tomorrow_ticket):
        assert (await _scan(server, cast, ticket))["admitted"] is True
    return today, slot


async def test_the_venue_table_counts_bookings_entries_and_warnings(server, cast):
    await _busy_day(server, cast)

    answer = await server.client.get("/api/v1/admin/cockpit/venues", headers=cast["admin"])

    row = next(r for r in answer.json() if r["venue_id"] == cast.venue_a.id)
    assert (row["reservations"], row["reserved_people"]) == (2, 2)
    assert (row["slot_booked"], row["slot_capacity"]) == (2, 50)
    assert (row["entered"], row["occupancy"], row["instant_capacity"]) == (3, 3, 3)
    assert (row["occupancy_percent"], row["level"]) == (100, "full")
    assert row["warnings"] == 2  # 80 % and 100 % crossed once each
    other = next(r for r in answer.json() if r["venue_id"] == cast.venue_b.id)
    assert (other["reservations"], other["entered"], other["level"]) == (0, 0, None)


async def test_hourly_figures_put_bookings_at_the_slot_hour_and_entries_at_the_scan_hour(
    server, cast
):
    today, _ = await _busy_day(server, cast)
    hour = local_now().hour

    answer = await server.client.get(
        "/api/v1/admin/cockpit/hourly", params={"date": today.isoformat()}, headers=cast["admin"]
    )

    figures = answer.json()
    assert figures["booked"][10] == 2 and sum(figures["booked"]) == 2
    assert figures["entries"][hour] == 3 and sum(figures["entries"]) == 3
    [venue] = figures["by_venue"]
    assert venue["venue_id"] == cast.venue_a.id and venue["entries"][hour] == 3


async def test_daily_figures_cover_every_day_of_the_range(server, cast):
    today, _ = await _busy_day(server, cast)
    for _ in range(4):
        await cockpit.count_usage(cockpit.FOOD_SEARCH, at=local_now())
    start = today - timedelta(days=2)

    answer = await server.client.get(
        "/api/v1/admin/cockpit/daily",
        params={"start": start.isoformat(), "end": today.isoformat()},
        headers=cast["admin"],
    )

    rows = answer.json()
    assert [row["date"] for row in rows] == [
        (start + timedelta(days=n)).isoformat() for n in range(3)
    ]
    assert rows[-1] == {
        "date": today.isoformat(), "reservations": 2, "reserved_people": 2, "cancelled": 1,
        "entered": 3, "exited": 0, "warnings": 2, "food_searches": 4,
    }  # fmt: skip
    assert rows[0]["reservations"] == 0


async def test_a_food_map_search_is_counted(server, cast):
    answer = await server.client.get(
        "/api/v1/food/restaurants", params={"lat": 28.0, "lng": 120.65, "radius_m": 2000}
    )
    assert answer.status_code == 200

    for _ in range(50):  # the count is written beside the answer
        figures = await cockpit.food_searches(start=local_now().date(), end=local_now().date())
        if figures["total"]:
            break
        await asyncio.sleep(0.05)
    assert figures["total"] == 1 and figures["by_hour"][local_now().hour] == 1


async def test_the_overview_has_every_part_and_names_missing_modules(server, cast):
    await _busy_day(server, cast)

    answer = await server.client.get(
        "/api/v1/admin/cockpit/overview", headers={**cast["admin"], "Accept-Language": "zh-CN"}
    )

    assert answer.status_code == 200, answer.text
    figures = answer.json()
    assert {"venues", "hourly", "daily", "warnings", "food_searches", "unavailable"} <= set(figures)
    assert len(figures["daily"]) == 7 and figures["warnings"]["total"] == 2
    assert figures["warnings"]["latest"][0]["venue"] == cast.venue_a.name["zh-CN"]
    for name in ("card", "chat", "complaints"):
        assert (name in figures) != (name in figures["unavailable"]), name


async def test_ranges_longer_than_a_year_or_backwards_are_refused(server, cast):
    too_long = await server.client.get(
        "/api/v1/admin/cockpit/daily",
        params={"start": "2024-01-01", "end": "2025-06-01"},
        headers=cast["admin"],
    )
    backwards = await server.client.get(
        "/api/v1/admin/cockpit/daily",
        params={"start": "2025-06-01", "end": "2025-01-01"},
        headers=cast["admin"],
    )

    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "range_too_long"
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "body"


async def test_the_stream_relays_a_gate_scan_as_an_occupancy_event(server, cast):
    venue = cast.venue_a
    venue.entry_early_minutes = WIDE_OPEN_MINUTES
    await venue.save()
    ticket = await make_ticket(venue)
    events: list[tuple[str, dict]] = []

    async with server.client.stream(
        "GET", "/api/v1/admin/cockpit/stream", headers=cast["admin"]
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        name = None
        async for line in lines:
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line.removeprefix("data:"))))
                if name == "ready":
                    await _scan(server, cast, ticket)
                if name == "occupancy":
                    break

    assert [name for name, _ in events] == ["ready", "occupancy"]
    occupancy = events[1][1]
    assert (occupancy["venue_id"], occupancy["occupancy"], occupancy["direction"]) == (
        venue.id, 1, "entry",
    )  # fmt: skip


# --- exports -----------------------------------------------------------------------------------


async def test_daily_figures_export_as_csv_and_as_xlsx_that_openpyxl_reads(server, cast):
    today, _ = await _busy_day(server, cast)
    params = {"start": today.isoformat(), "end": today.isoformat()}

    as_csv = await server.client.get(
        "/api/v1/admin/exports/daily", params=params, headers=cast["admin"]
    )
    as_xlsx = await server.client.get(
        "/api/v1/admin/exports/daily", params={**params, "format": "xlsx"}, headers=cast["admin"]
    )

    [row] = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert (row["date"], row["reservations"], row["entered"]) == (today.isoformat(), "2", "3")
    assert "attachment" in as_xlsx.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("date", "reservations", "reserved_people")
    assert rows[1][:3] == (today.isoformat(), 2, 2)


async def test_the_reservations_export_masks_names_and_id_numbers(server, cast):
    today, _ = await _busy_day(server, cast)
    full_id = make_id_number(sequence=301)

    answer = await server.client.get(
        "/api/v1/admin/exports/reservations",
        params={"start": today.isoformat(), "end": today.isoformat(), "format": "xlsx"},
        headers=cast["admin"],
    )

    assert answer.status_code == 200, answer.text
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3  # the cancelled reservation's ticket is listed too, with its status
    id_numbers = [row[header.index("id_number")] for row in rows]
    assert full_id not in id_numbers and all("*" in number for number in id_numbers)
    assert id_numbers[0][:3] == full_id[:3] and id_numbers[0][-4:] == full_id[-4:]
    assert all("*" in row[header.index("holder")] for row in rows)
    statuses = sorted(row[header.index("reservation_status")] for row in rows)
    assert statuses == ["cancelled", "confirmed", "confirmed"]
    assert full_id not in answer.content.decode("latin-1")
    export = await AuditEntry.get(action="export.reservations")
    assert export.after["rows"] == 3


async def test_the_complaints_export_opens_in_openpyxl_with_the_phone_masked(server, cast):
    from server.supervision import service as supervision

    complaint = await supervision.file_complaint(
        text="导游强迫购物，态度恶劣。",
        channel="staff",
        venue_id=cast.venue_a.id,
        contact_phone="13812345678",
        cipher=server.app.ctx.cipher,
    )
    today = local_now().date().isoformat()

    answer = await server.client.get(
        "/api/v1/admin/exports/complaints",
        params={"start": today, "end": today, "format": "xlsx"},
        headers=cast["supervisor"],
    )

    assert answer.status_code == 200, answer.text
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[0] == "reference"
    [row] = rows
    assert row[0] == complaint.reference and row[header.index("status")] == "open"
    assert row[header.index("contact_phone")] != "13812345678"
    assert "13812345678" not in answer.content.decode("latin-1")
