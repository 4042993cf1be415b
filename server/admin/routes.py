"""The admin API: venues, closing days and staff; the audit log; cockpit figures; exports.

Roles (API.md): an admin may do everything here; a venue manager only their own venue's
closing days and gate staff (other venues are "not found"); the cockpit, the audit log and the
exports are the bureau's (admin), the complaints export also the supervisors'.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, ResponseStream, json, raw
from sanic_ext.extensions.openapi import openapi

from server.accounts.models import Role
from server.admin import audit, cockpit, exports, operations
from server.admin.schemas import (
    AuditQuery,
    ClosingDayIn,
    ClosingDaysQuery,
    DayQuery,
    ExportQuery,
    RangeQuery,
    StaffChangeIn,
    StaffIn,
    VenueEditIn,
    VenueListQuery,
)
from server.admin.stream import MAX_STREAM_SECONDS, relay_gate_events
from server.auth import Principal, requires
from server.clock import local_now
from server.http import body, language_of, parse_body, parse_query, query

bp = Blueprint("admin_operations", url_prefix="/api/v1/admin")
VENUE_ROLES = (Role.ADMIN, Role.VENUE_MANAGER)


def _principal(request: Request) -> Principal:
    return request.ctx.principal


def _manager_venue(request: Request) -> int | None:
    principal = _principal(request)
    return principal.venue_id if principal.role == Role.VENUE_MANAGER else None


# --- venues ------------------------------------------------------------------------------------


@bp.get("/venues")
@openapi.summary("Venues to manage: all for an admin, their own for a venue manager")
@query(VenueListQuery)
@requires(*VENUE_ROLES)
async def list_venues(request: Request) -> HTTPResponse:
    wanted = parse_query(request, VenueListQuery)
    venues = await operations.list_managed_venues(manager_venue_id=_manager_venue(request))
    shown = [v for v in venues if wanted.kind is None or v.kind == wanted.kind]
    return json([operations.venue_admin_out(venue) for venue in shown])


@bp.patch("/venues/<venue_id:int>")
@openapi.summary("Edit a venue's details and weekly opening hours (admin)")
@body(VenueEditIn)
@requires(Role.ADMIN)
async def edit_venue(request: Request, venue_id: int) -> HTTPResponse:
    edit = parse_body(request, VenueEditIn)
    before, venue = await operations.update_venue(
        venue_id=venue_id, changes=edit.changes(), opening_hours=edit.hours()
    )
    after = operations.venue_admin_out(venue)
    return await audit.answer_recorded(
        request, "venue.update", f"venue:{venue.id}", after, before=before
    )


# --- closing days ------------------------------------------------------------------------------


@bp.get("/venues/<venue_id:int>/closing-days")
@openapi.summary("A venue's coming closing days")
@query(ClosingDaysQuery)
@requires(*VENUE_ROLES)
async def list_closing_days(request: Request, venue_id: int) -> HTTPResponse:
    wanted = parse_query(request, ClosingDaysQuery)
    rows = await operations.list_closing_days(
        venue_id=venue_id,
        manager_venue_id=_manager_venue(request),
        since=wanted.since or local_now().date(),
    )
    return json([operations.closing_day_out(row) for row in rows])


@bp.post("/venues/<venue_id:int>/closing-days")
@openapi.summary("Close a venue for a day (refused while places are booked that day: 409)")
@body(ClosingDayIn)
@requires(*VENUE_ROLES)
async def add_closing_day(request: Request, venue_id: int) -> HTTPResponse:
    closing = parse_body(request, ClosingDayIn)
    row = await operations.add_closing_day(
        venue_id=venue_id,
        manager_venue_id=_manager_venue(request),
        day=closing.date,
        reason=closing.reason.as_json(),
        today=local_now().date(),
    )
    shown = operations.closing_day_out(row)
    return await audit.answer_recorded(
        request, "venue.closing_day.add", f"venue:{row.venue_id}", shown, status=201
    )


@bp.delete("/venues/<venue_id:int>/closing-days/<day:ymd>")
@openapi.summary("Reopen a closed day; its slots come back from the weekly template")
@requires(*VENUE_ROLES)
async def remove_closing_day(request: Request, venue_id: int, day: date) -> HTTPResponse:
    row = await operations.remove_closing_day(
        venue_id=venue_id,
        manager_venue_id=_manager_venue(request),
        day=day,
        today=local_now().date(),
        days_ahead=request.app.ctx.settings.slot_days_ahead,
    )
    shown = operations.closing_day_out(row)
    await audit.record(
        _principal(request), "venue.closing_day.remove", f"venue:{row.venue_id}", shown, None
    )
    return json({"date": shown["date"], "removed": True})


# --- a venue's staff ---------------------------------------------------------------------------


@bp.get("/venues/<venue_id:int>/staff")
@openapi.summary("A venue's staff accounts")
@requires(*VENUE_ROLES)
async def list_staff(request: Request, venue_id: int) -> HTTPResponse:
    staff = await operations.list_staff(venue_id=venue_id, manager_venue_id=_manager_venue(request))
    return json([operations.staff_out(member) for member in staff])


@bp.post("/venues/<venue_id:int>/staff")
@openapi.summary("Add a gate-staff account (an admin may also add a venue manager)")
@body(StaffIn)
@requires(*VENUE_ROLES)
async def create_staff(request: Request, venue_id: int) -> HTTPResponse:
    wanted = parse_body(request, StaffIn)
    staff = await operations.create_staff(
        venue_id=venue_id,
        manager_venue_id=_manager_venue(request),
        username=wanted.username,
        password=wanted.password,
        role=Role(wanted.role),
    )
    shown = operations.staff_out(staff)
    return await audit.answer_recorded(
        request, "staff.create", f"staff:{staff.id}", shown, status=201
    )


@bp.patch("/venues/<venue_id:int>/staff/<staff_id:int>")
@openapi.summary("Enable or disable a staff account of the venue (takes effect at once)")
@body(StaffChangeIn)
@requires(*VENUE_ROLES)
async def change_staff(request: Request, venue_id: int, staff_id: int) -> HTTPResponse:
    change = parse_body(request, StaffChangeIn)
    before, staff = await operations.set_staff_active(
        venue_id=venue_id,
        manager_venue_id=_manager_venue(request),
        staff_id=staff_id,
        is_active=change.is_active,
    )
    shown = operations.staff_out(staff)
    return await audit.answer_recorded(
        request, "staff.update", f"staff:{staff.id}", shown, before=before
    )


# --- the audit log -----------------------------------------------------------------------------


def _audit_filter(wanted: AuditQuery) -> audit.AuditFilter:
    return audit.AuditFilter(
        actor_id=wanted.actor_id,
        action=wanted.action,
        target=wanted.target,
        since=wanted.since,
        until=wanted.until,
    )


@bp.get("/audit")
@openapi.summary("Search the audit log (newest first; page with before_id)")
@query(AuditQuery)
@requires(Role.ADMIN)
async def search_audit(request: Request) -> HTTPResponse:
    wanted = parse_query(request, AuditQuery)
    entries = await audit.search(
        _audit_filter(wanted), limit=wanted.limit, before_id=wanted.before_id
    )
    shown = [audit.entry_out(entry) for entry in entries]
    next_before = shown[-1]["id"] if len(shown) == wanted.limit else None
    return json({"entries": shown, "next_before_id": next_before})


@bp.get("/audit/export.csv")
@openapi.summary("The matching audit entries as CSV, oldest first")
@query(AuditQuery)
@requires(Role.ADMIN)
async def export_audit(request: Request) -> ResponseStream:
    wanted = _audit_filter(parse_query(request, AuditQuery))
    audit.matching(wanted)  # a bad range is refused before the answer starts

    async def write(response: Any) -> None:
        async for part in audit.export_csv(wanted):
            await response.write(part)

    return ResponseStream(
        write,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


# --- the cockpit -------------------------------------------------------------------------------


def _range(request: Request, model: type[RangeQuery] = RangeQuery) -> tuple[Any, date, date]:
    wanted = parse_query(request, model)
    start, end = cockpit.day_range(wanted.start, wanted.end, today=local_now().date())
    return wanted, start, end


@bp.get("/cockpit/overview")
@openapi.summary("The cockpit's one screen: today's venues and hours, the range's figures")
@query(RangeQuery)
@requires(Role.ADMIN)
async def cockpit_overview(request: Request) -> HTTPResponse:
    _, start, end = _range(request)
    figures = await cockpit.overview(
        start=start, end=end, today=local_now().date(), language=language_of(request)
    )
    return json(figures)


@bp.get("/cockpit/venues")
@openapi.summary("Per venue on a day: reservations, booked vs capacity, people inside vs caps")
@query(DayQuery)
@requires(Role.ADMIN)
async def cockpit_venues(request: Request) -> HTTPResponse:
    wanted = parse_query(request, DayQuery)
    day = wanted.date or local_now().date()
    return json(await cockpit.venue_table(day=day, language=language_of(request)))


@bp.get("/cockpit/hourly")
@openapi.summary("Booked places by slot hour and gate entries by hour, per venue and in total")
@query(DayQuery)
@requires(Role.ADMIN)
async def cockpit_hourly(request: Request) -> HTTPResponse:
    wanted = parse_query(request, DayQuery)
    return json(await cockpit.hourly(day=wanted.date or local_now().date()))


@bp.get("/cockpit/daily")
@openapi.summary("Figures per day of a date range (history)")
@query(RangeQuery)
@requires(Role.ADMIN)
async def cockpit_daily(request: Request) -> HTTPResponse:
    _, start, end = _range(request)
    return json(await cockpit.daily_figures(start=start, end=end))


@bp.get("/cockpit/warnings")
@openapi.summary("Crowd warnings of a date range: per venue and the latest")
@query(RangeQuery)
@requires(Role.ADMIN)
async def cockpit_warnings(request: Request) -> HTTPResponse:
    _, start, end = _range(request)
    return json(await cockpit.warnings(start=start, end=end, language=language_of(request)))


@bp.get("/cockpit/modules")
@openapi.summary("Card entries and loans, chat volume and intents, complaints by status")
@query(RangeQuery)
@requires(Role.ADMIN)
async def cockpit_modules(request: Request) -> HTTPResponse:
    _, start, end = _range(request)
    return json(await cockpit.other_modules(start=start, end=end))


@bp.get("/cockpit/stream")
@openapi.summary("Live occupancy and warnings as server-sent events (text/event-stream)")
@requires(Role.ADMIN)
async def cockpit_stream(request: Request) -> None:
    ctx = request.app.ctx
    await relay_gate_events(request, ctx.redis, ctx.cockpit_closing, max_seconds=MAX_STREAM_SECONDS)


# --- exports -----------------------------------------------------------------------------------


def _file(table: exports.Table, file_format: str, name: str, start: date, end: date) -> Any:
    content, content_type = table.render(file_format)
    filename = f"{name}-{start.isoformat()}-{end.isoformat()}.{file_format}"
    return raw(
        content,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/exports/daily")
@openapi.summary("Daily figures of a date range as CSV or XLSX")
@query(ExportQuery)
@requires(Role.ADMIN)
async def export_daily(request: Request) -> HTTPResponse:
    wanted, start, end = _range(request, ExportQuery)
    table = await exports.daily_table(start=start, end=end)
    return _file(table, wanted.format, "daily", start, end)


@bp.get("/exports/reservations")
@openapi.summary("Tickets of reservations in a date range, names and ID numbers masked")
@query(ExportQuery)
@requires(Role.ADMIN)
async def export_reservations(request: Request) -> HTTPResponse:
    wanted, start, end = _range(request, ExportQuery)
    table = await exports.reservations_table(start=start, end=end, language=language_of(request))
    await audit.record(
        _principal(request),
        "export.reservations",
        "reservation",
        None,
        {"start": start, "end": end, "rows": len(table.rows)},
    )
    return _file(table, wanted.format, "reservations", start, end)


@bp.get("/exports/complaints")
@openapi.summary("Complaints filed in a date range as CSV or XLSX (phones masked)")
@query(ExportQuery)
@requires(Role.ADMIN, Role.SUPERVISOR)
async def export_complaints(request: Request) -> HTTPResponse:
    wanted, start, end = _range(request, ExportQuery)
    table = await exports.complaints_table(start=start, end=end, now=local_now())
    await audit.record(
        _principal(request),
        "export.complaints",
        "complaint",
        None,
        {"start": start, "end": end, "rows": len(table.rows)},
    )
    return _file(table, wanted.format, "complaints", start, end)
