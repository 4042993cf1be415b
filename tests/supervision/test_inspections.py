"""双随机、一公开: the draw is reproducible, respects conflicts, and its rates follow grades."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.clock import LOCAL_TZ
from server.supervision import credit, inspections
from server.supervision import errors as refusals
from server.supervision.models import CreditRecordKind, InspectionTask
from supervision.factories import make_entity, make_inspector, staff_headers

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=LOCAL_TZ)


def synthetic_snapshot(entities: int, inspectors: int, conflicts: list[tuple[int, int]]) -> dict:
    grades = "ABCD"
    return {
        "entities": [[n, grades[n % 4]] for n in range(1, entities + 1)],
        "inspectors": list(range(101, 101 + inspectors)),
        "conflicts": [list(pair) for pair in conflicts],
    }


def test_the_same_seed_and_snapshot_give_the_same_draw_and_another_seed_another():
    snapshot = synthetic_snapshot(200, 8, [])
    rates = {"A": 0.1, "B": 0.2, "C": 0.5, "D": 1.0}
    first = inspections.compute_draw("2026-Q4", snapshot, rates)
    assert inspections.compute_draw("2026-Q4", snapshot, rates) == first
    assert inspections.compute_draw("2026-Q4-bis", snapshot, rates) != first
    drawn_by_grade = {g: 0 for g in "ABCD"}
    for task in first:
        drawn_by_grade["ABCD"[task.entity_id % 4]] += 1
    # 50 entities per grade: lower grades are drawn more.
    assert drawn_by_grade == {"A": 5, "B": 10, "C": 25, "D": 50}
    assert all(task.inspector_a != task.inspector_b for task in first)


def test_declared_conflicts_are_never_drawn():
    # Inspector 101 is conflicted with every entity, 102 with every even one.
    conflicts = [(101, n) for n in range(1, 61)] + [(102, n) for n in range(2, 61, 2)]
    snapshot = synthetic_snapshot(60, 4, conflicts)
    for seed in ("a", "b", "c", "d", "e"):
        for task in inspections.compute_draw(seed, snapshot, {"A": 1, "B": 1, "C": 1, "D": 1}):
            pair = {task.inspector_a, task.inspector_b}
            assert 101 not in pair
            assert not (task.entity_id % 2 == 0 and 102 in pair)
    # Canary: without the conflicts, inspector 101 is drawn somewhere.
    free = inspections.compute_draw("a", synthetic_snapshot(60, 4, []), {g: 1 for g in "ABCD"})
    assert any(101 in (t.inspector_a, t.inspector_b) for t in free)


def test_an_entity_without_two_free_inspectors_stops_the_draw():
    snapshot = synthetic_snapshot(4, 3, [(101, 4), (102, 4)])
    with pytest.raises(refusals.NotEnoughInspectors) as refused:
        inspections.compute_draw("x", snapshot, {g: 1 for g in "ABCD"})
    assert refused.value.extra()["entity_id"] == 4


async def test_a_stored_plan_redraws_identically_even_after_the_pool_changes(database):
    entities = [await make_entity() for _ in range(12)]
    pool = [await make_inspector() for _ in range(5)]
    conflicted = entities[0]
    for inspector in pool[:3]:
        await inspections.declare_conflict(
            inspector_id=inspector.id, entity_id=conflicted.id, reason="亲属关系", now=NOW
        )
    await credit.add_record(
        entity_id=conflicted.id, kind=CreditRecordKind.ADMINISTRATIVE_PENALTY,
        category="licence_revoked", reason="吊销许可", occurred_on=NOW.date(), now=NOW,
    )  # fmt: skip
    plan = await inspections.draw(name="2026年第四季度旅行社抽查", seed="wz-2026-q4", now=NOW)
    tasks = await InspectionTask.filter(plan_id=plan.id)
    drawn = {t.entity_id: {t.inspector_a_id, t.inspector_b_id} for t in tasks}
    # A grade D entity is always drawn, and only by the two inspectors free of conflict.
    assert drawn[conflicted.id] == {pool[3].id, pool[4].id}
    assert dict(plan.snapshot["entities"])[conflicted.id] == "D"
    # The pool changes afterwards; the stored plan still verifies from its own snapshot.
    await make_entity()
    await make_inspector()
    assert await inspections.verify_plan(plan_id=plan.id)
    again = await inspections.draw(name="复核", seed="wz-2026-q4", now=NOW + timedelta(days=1))
    assert again.snapshot != plan.snapshot
    # Tampering with a stored task is detected.
    await InspectionTask.filter(plan_id=plan.id, entity_id=conflicted.id).update(
        inspector_a_id=pool[0].id
    )
    assert not await inspections.verify_plan(plan_id=plan.id)


async def test_results_feed_credit_once_and_are_published_without_personal_data(server):
    guide = await make_entity(
        kind="tour_guide", name="林晓瓯", licence_number="D-3303-123456",
        contact_phone="13800577101",
    )  # fmt: skip
    [await make_inspector() for _ in range(2)]
    _, headers = await staff_headers(server.app, "supervisor")
    drawn = await server.client.post(
        "/api/v1/supervision/inspection-plans",
        json={"name": "导游专项抽查", "seed": "guides-1", "rates": {"A": 1.0}},
        headers=headers,
    )
    assert drawn.status_code == 201, drawn.text
    plan = drawn.json()
    assert plan["seed"] == "guides-1" and plan["pool_size"] == 1
    task = plan["tasks"][0]
    assert task["entity_id"] == guide.id and len(task["inspectors"]) == 2
    verified = await server.client.get(
        f"/api/v1/supervision/inspection-plans/{plan['id']}/verify", headers=headers
    )
    assert verified.json()["reproducible"] is True
    result = {"result": "failed", "findings": "未佩戴导游证", "inspected_on": "2026-11-28"}
    url = f"/api/v1/supervision/inspection-tasks/{task['id']}/result"
    recorded = await server.client.post(url, json=result, headers=headers)
    assert recorded.status_code == 200 and recorded.json()["result"] == "failed"
    twice = await server.client.post(url, json=result, headers=headers)
    assert twice.status_code == 409
    standing = await credit.standing(guide.id, now=NOW)
    assert standing.score < 100
    public = await server.client.get("/api/v1/public/inspections")
    assert public.status_code == 200
    [item] = public.json()["items"]
    assert item == {
        "plan": "导游专项抽查",
        "drawn_at": item["drawn_at"],
        "entity_kind": "tour_guide",
        "entity_name": "林**",
        "licence_number": "D-33*******56",
        "county": "鹿城区",
        "result": "failed",
        "inspected_on": "2026-11-28",
    }
    assert "13800577101" not in public.text and "未佩戴" not in public.text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x"}, "name"),
        ({"name": "抽查", "rates": {"A": 2}}, "rates"),
        ({"name": "抽查", "rates": {"E": 0.1}}, "rates.E.[key]"),
        ({"name": "抽查", "kinds": ["casino"]}, "kinds[0]"),
    ],
)
async def test_bad_draw_requests_are_refused_naming_the_field(server, payload, field):
    _, headers = await staff_headers(server.app, "admin")
    answer = await server.client.post(
        "/api/v1/supervision/inspection-plans", json=payload, headers=headers
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field


async def test_an_empty_pool_cannot_be_drawn(database):
    with pytest.raises(refusals.EmptyInspectionPool):
        await inspections.draw(name="空库", now=NOW)
