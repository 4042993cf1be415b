"""The append-only audit log of admin actions: recording, searching, exporting, retention.

Every admin write goes through `record(...)`: who (staff id and role), what (an action name such
as "slot.capacity"), which target ("slot:12"), the state before and after, the request id and
the time. Rows are never changed; only rows older than the retention period may be deleted, and
the database refuses anything else (a trigger made by migration 0004).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from sanic import Request
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_answer

from server.admin.models import AuditEntry
from server.auth import Principal
from server.clock import LOCAL_TZ, local_now
from server.errors import InvalidInput

RETENTION_DAYS = 180  # the minimum: the retention job never deletes anything younger
SYSTEM_ROLE = "system"  # actions of the command line and background jobs, with no staff account
EXPORT_BATCH = 1000
CSV_COLUMNS = (
    "id", "at", "actor_id", "actor_role", "action", "target", "before", "after", "request_id",
)  # fmt: skip


def _jsonable(value: Any) -> Any:
    """`value` as plain JSON data (dates, times, enums and decimals as text)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _current_request_id() -> str | None:
    try:
        request = Request.get_current()
    except SanicException:
        return None
    return getattr(request.ctx, "request_id", None)


def split_target(target: str) -> tuple[str, str]:
    """("slot", "12") from "slot:12"; a target without a colon is a type with an empty id."""
    kind, _, identifier = target.partition(":")
    return kind, identifier


def join_target(kind: str, identifier: str) -> str:
    """ "slot:12" from ("slot", "12"); only the type when the id is empty."""
    return f"{kind}:{identifier}" if identifier else kind


async def record(
    principal: Principal | None,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    *,
    request_id: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one admin action to the audit log; `target` is "type:id", e.g. "venue:12".

    The request id is taken from the current HTTP request when not given; `principal` None
    records the system (command line, background jobs).
    """
    kind, identifier = split_target(target)
    return await AuditEntry.create(
        at=at or local_now(),
        actor_id=principal.user_id if principal else None,
        actor_role=principal.role if principal else SYSTEM_ROLE,
        action=action[:64],
        target_type=kind[:40],
        target_id=identifier[:64],
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=request_id or _current_request_id(),
    )


async def answer_recorded(
    request: Request,
    action: str,
    target: str,
    after: BaseModel | dict[str, Any],
    *,
    before: BaseModel | dict[str, Any] | None = None,
    status: int = 200,
) -> HTTPResponse:
    """Record the caller's write with the states before and after it, and answer the after.

    For the common write endpoint, whose answer is the state its audit entry records.
    """
    shown_after, shown_before = _as_json(after), _as_json(before)
    await record(request.ctx.principal, action, target, shown_before, shown_after)
    return json_answer(shown_after, status=status)


def _as_json(state: BaseModel | dict[str, Any] | None) -> Any:
    return state.model_dump(mode="json") if isinstance(state, BaseModel) else state


@dataclass(frozen=True)
class AuditFilter:
    """What to look for in the audit log; every part is optional."""

    actor_id: int | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("slot." finds slot.capacity)
    target: str | None = None  # "venue:12", or only a type: "venue"
    since: date | None = None  # local days, inclusive
    until: date | None = None


def matching(wanted: AuditFilter):
    """The query of the entries matching `wanted`; a bad range is refused here, at once."""
    query = AuditEntry.all()
    if wanted.actor_id is not None:
        query = query.filter(actor_id=wanted.actor_id)
    if wanted.action:
        if wanted.action.endswith("."):
            query = query.filter(action__startswith=wanted.action)
        else:
            query = query.filter(action=wanted.action)
    if wanted.target:
        kind, identifier = split_target(wanted.target)
        query = query.filter(target_type=kind)
        if identifier:
            query = query.filter(target_id=identifier)
    if wanted.since and wanted.until and wanted.since > wanted.until:
        raise InvalidInput(field="since", detail="since must not be after until")
    if wanted.since:
        query = query.filter(at__gte=datetime.combine(wanted.since, time(0), LOCAL_TZ))
    if wanted.until:
        next_day = datetime.combine(wanted.until + timedelta(days=1), time(0), LOCAL_TZ)
        query = query.filter(at__lt=next_day)
    return query


async def search(
    wanted: AuditFilter, *, limit: int = 50, before_id: int | None = None
) -> list[AuditEntry]:
    """Matching entries, newest first; pass the last id seen as `before_id` for the next page."""
    query = matching(wanted)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)


def entry_out(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry as the admin API shows it."""
    return {
        "id": entry.id,
        "at": entry.at.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "target": f"{entry.target_type}:{entry.target_id}"
        if entry.target_id
        else entry.target_type,
        "before": entry.before,
        "after": entry.after,
        "request_id": entry.request_id,
    }


async def export_csv(wanted: AuditFilter) -> AsyncIterator[str]:
    """The matching entries as CSV text (header first), oldest first, in batches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    after_id = 0
    while True:
        batch = await matching(wanted).filter(id__gt=after_id).order_by("id").limit(EXPORT_BATCH)
        for entry in batch:
            shown = entry_out(entry)
            writer.writerow(
                [
                    *(shown[name] for name in CSV_COLUMNS[:6]),
                    json.dumps(shown["before"], ensure_ascii=False),
                    json.dumps(shown["after"], ensure_ascii=False),
                    shown["request_id"] or "",
                ]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < EXPORT_BATCH:
            return
        after_id = batch[-1].id


async def purge_expired(*, now: datetime, keep_days: int = RETENTION_DAYS) -> int:
    """Delete entries older than `keep_days` (never fewer than 180); return how many went."""
    keep_days = max(keep_days, RETENTION_DAYS)
    return await AuditEntry.filter(at__lt=now - timedelta(days=keep_days)).delete()
