"""The audit log: recorded with who, what, when and before/after; append-only; kept 180 days."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from tortoise import connections

from server.admin import audit
from server.admin.models import AuditEntry
from server.auth import Principal
from server.clock import local_now

ADMIN = Principal(role="admin", user_id=7)
MANAGER = Principal(role="venue_manager", user_id=9, venue_id=3)


async def test_an_action_is_recorded_with_actor_target_and_both_states(database):
    entry = await audit.record(
        ADMIN, "slot.capacity", "slot:12", {"capacity": 20}, {"capacity": 30}, request_id="r-1"
    )

    stored = await AuditEntry.get(id=entry.id)
    assert (stored.actor_id, stored.actor_role, stored.action) == (7, "admin", "slot.capacity")
    assert (stored.target_type, stored.target_id) == ("slot", "12")
    assert (stored.before, stored.after, stored.request_id) == (
        {"capacity": 20}, {"capacity": 30}, "r-1",
    )  # fmt: skip


async def test_the_system_is_recorded_when_there_is_no_principal(database):
    entry = await audit.record(None, "audit.purge", "audit_entry", None, {"deleted": 0})

    assert (entry.actor_id, entry.actor_role) == (None, "system")


async def test_dates_and_times_in_states_are_kept_as_text(database):
    day = local_now().date()
    entry = await audit.record(ADMIN, "venue.closing_day.add", "venue:1", None, {"date": day})

    assert (await AuditEntry.get(id=entry.id)).after == {"date": day.isoformat()}


async def test_search_filters_by_actor_action_target_and_days(database):
    now = local_now()
    await audit.record(ADMIN, "slot.capacity", "slot:1", at=now - timedelta(days=3))
    await audit.record(ADMIN, "venue.update", "venue:2", at=now)
    await audit.record(MANAGER, "slot.capacity", "slot:2", at=now)
    await audit.record(MANAGER, "staff.create", "staff:5", at=now)

    def actions(entries):
        return [(e.actor_id, e.action, e.target_id) for e in entries]

    assert actions(await audit.search(audit.AuditFilter(actor_id=9))) == [
        (9, "staff.create", "5"), (9, "slot.capacity", "2"),
    ]  # fmt: skip
    assert len(await audit.search(audit.AuditFilter(action="slot.capacity"))) == 2
    assert len(await audit.search(audit.AuditFilter(action="slot."))) == 2
    assert actions(await audit.search(audit.AuditFilter(target="venue:2"))) == [
        (7, "venue.update", "2")
    ]
    assert len(await audit.search(audit.AuditFilter(target="slot"))) == 2
    today = now.date()
    assert len(await audit.search(audit.AuditFilter(since=today, until=today))) == 3
    old = await audit.search(audit.AuditFilter(until=today - timedelta(days=1)))
    assert actions(old) == [(7, "slot.capacity", "1")]


async def test_search_pages_backwards_by_id(database):
    for n in range(5):
        await audit.record(ADMIN, "slot.capacity", f"slot:{n}")
    first = await audit.search(audit.AuditFilter(), limit=2)
    second = await audit.search(audit.AuditFilter(), limit=2, before_id=first[-1].id)

    assert [e.target_id for e in first + second] == ["4", "3", "2", "1"]


async def test_the_csv_export_has_a_header_and_one_row_per_entry(database, monkeypatch):
    monkeypatch.setattr(audit, "EXPORT_BATCH", 2)  # several batches
    for n in range(5):
        await audit.record(ADMIN, "slot.capacity", f"slot:{n}", {"capacity": n}, {"capacity": 9})

    text = "".join([part async for part in audit.export_csv(audit.AuditFilter())])
    rows = list(csv.DictReader(io.StringIO(text)))

    assert [row["target"] for row in rows] == [f"slot:{n}" for n in range(5)]
    assert rows[0]["before"] == '{"capacity": 0}' and rows[0]["actor_role"] == "admin"


async def test_the_database_refuses_to_change_an_entry(database):
    entry = await audit.record(ADMIN, "slot.capacity", "slot:1", {"capacity": 1}, {"capacity": 2})

    with pytest.raises(Exception, match="append-only"):
        await AuditEntry.filter(id=entry.id).update(action="forged")
    assert (await AuditEntry.get(id=entry.id)).action == "slot.capacity"


async def test_the_database_refuses_to_delete_a_young_entry(database):
    entry = await audit.record(
        ADMIN, "slot.capacity", "slot:1", at=local_now() - timedelta(days=179)
    )

    # Past the ORM, as a careless script would: the database itself refuses.
    with pytest.raises(Exception, match="append-only"):
        await connections.get("default").execute_query(
            "DELETE FROM audit_entry WHERE action = 'slot.capacity'"
        )
    assert await AuditEntry.filter(id=entry.id).exists()


async def test_retention_deletes_only_entries_older_than_180_days(database):
    now = local_now()
    old = await audit.record(ADMIN, "slot.capacity", "slot:1", at=now - timedelta(days=181))
    young = await audit.record(ADMIN, "slot.capacity", "slot:2", at=now - timedelta(days=179))

    assert await audit.purge_expired(now=now, keep_days=30) == 1  # 30 is raised to 180

    assert not await AuditEntry.filter(id=old.id).exists()
    assert await AuditEntry.filter(id=young.id).exists()
