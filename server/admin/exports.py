"""Exports of the admin side as CSV or XLSX: daily figures, reservations (masked), complaints.

Personal data leaves only masked: ticket holders' names and ID numbers as stored masked at
booking time, complainants' phone numbers masked; nothing is decrypted for an export.
"""

from __future__ import annotations

import csv
import importlib
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from i18n import pick
from server.admin import cockpit
from server.admin.errors import SupervisionUnavailable
from server.clock import LOCAL_TZ
from server.tickets.models import Ticket

BATCH = 1000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"

DAILY_COLUMNS = (
    "date", "reservations", "reserved_people", "cancelled", "entered", "exited", "warnings",
    "food_searches",
)  # fmt: skip
RESERVATION_COLUMNS = (
    "reservation_id", "reservation_status", "date", "venue_code", "venue", "slot_start",
    "slot_end", "ticket_id", "holder", "id_number", "ticket_status", "price_yuan",
    "admitted_at", "booked_at",
)  # fmt: skip
COMPLAINT_COLUMNS = (
    "reference", "filed_at", "channel", "category", "venue_id", "entity_id", "status",
    "overdue", "assignee_id", "deadline", "answered_at", "contact_phone", "text",
)  # fmt: skip


class Table:
    """A named table of rows: what an export writes as CSV or as an XLSX sheet."""

    def __init__(self, name: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        self.name = name
        self.columns = tuple(columns)
        self.rows = rows

    def as_csv(self) -> bytes:
        """UTF-8 CSV with a byte-order mark, so spreadsheet programs read Chinese right."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    def as_xlsx(self) -> bytes:
        """One sheet with a bold, frozen header row."""
        book = Workbook()
        sheet = book.active
        sheet.title = self.name[:31]
        sheet.append(list(self.columns))
        for row in self.rows:
            sheet.append(list(row))
        sheet.freeze_panes = "A2"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for position, column in enumerate(self.columns, start=1):
            sheet.column_dimensions[get_column_letter(position)].width = max(12, len(column) + 2)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def render(self, file_format: str) -> tuple[bytes, str]:
        """The file's bytes and content type for "csv" or "xlsx"."""
        if file_format == "xlsx":
            return self.as_xlsx(), XLSX_TYPE
        return self.as_csv(), CSV_TYPE


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment else ""


async def daily_table(*, start: date, end: date) -> Table:
    """The cockpit's daily figures of the range."""
    rows = await cockpit.daily_figures(start=start, end=end)
    return Table("daily", DAILY_COLUMNS, [[row[c] for c in DAILY_COLUMNS] for row in rows])


async def reservations_table(*, start: date, end: date, language: str) -> Table:
    """One row per ticket of the range's reservations, names and ID numbers masked."""
    rows: list[list[Any]] = []
    after_id = 0
    while True:
        batch = (
            await Ticket.filter(date__gte=start, date__lte=end, id__gt=after_id)
            .order_by("id")
            .limit(BATCH)
            .values(
                "id",
                "reservation_id",
                "reservation__status",
                "reservation__created_at",
                "date",
                "venue__code",
                "venue__name",
                "slot__starts_at",
                "slot__ends_at",
                "holder_name_masked",
                "id_number_masked",
                "status",
                "price_cents",
                "admitted_at",
            )
        )
        for ticket in batch:
            rows.append(
                [
                    ticket["reservation_id"],
                    str(ticket["reservation__status"]),
                    str(ticket["date"]),
                    ticket["venue__code"],
                    pick(ticket["venue__name"], language),
                    str(ticket["slot__starts_at"])[:5],
                    str(ticket["slot__ends_at"])[:5],
                    ticket["id"],
                    ticket["holder_name_masked"],
                    ticket["id_number_masked"],
                    str(ticket["status"]),
                    ticket["price_cents"] / 100,
                    _local(ticket["admitted_at"]),
                    _local(ticket["reservation__created_at"]),
                ]
            )
        if len(batch) < BATCH:
            return Table("reservations", RESERVATION_COLUMNS, rows)
        after_id = batch[-1]["id"]


async def complaints_table(*, start: date, end: date, now: datetime) -> Table:
    """The complaints filed in the range, through the supervision module's own listing."""
    try:
        supervision = importlib.import_module("server.supervision.service")
    except ImportError:
        raise SupervisionUnavailable() from None
    rows: list[list[Any]] = []
    offset = 0
    while True:
        _, batch = await supervision.list_complaints(
            now=now, since=start, until=end, limit=BATCH, offset=offset
        )
        for complaint in batch:
            rows.append(
                [
                    complaint.reference,
                    _local(complaint.filed_at),
                    str(complaint.channel),
                    complaint.category or "",
                    complaint.venue_id or "",
                    complaint.entity_id or "",
                    str(complaint.status),
                    "yes" if supervision.is_overdue(complaint, now) else "no",
                    complaint.assignee_id or "",
                    _local(complaint.deadline),
                    _local(complaint.answered_at),
                    complaint.contact_phone_masked,
                    complaint.text,
                ]
            )
        if len(batch) < BATCH:
            return Table("complaints", COMPLAINT_COLUMNS, rows)
        offset += BATCH
