"""Complaints over HTTP: the visitor files, supervisors handle, other roles are refused."""

from __future__ import annotations

import pytest
from factories import make_venue

from server.admin.models import AuditEntry
from server.supervision.models import Complaint
from supervision.factories import make_entity, staff_headers, visitor_headers


async def test_a_visitor_files_a_complaint_and_follows_it(server):
    venue = await make_venue()
    _, headers = await visitor_headers(server.app)
    filed = await server.client.post(
        "/api/v1/complaints", json={"text": "排队秩序混乱", "venue_id": venue.id}, headers=headers
    )
    assert filed.status_code == 201, filed.text
    answer = filed.json()
    assert set(answer) == {"id", "reference", "status"}
    assert answer["reference"].startswith("TS") and answer["status"] == "open"
    stored = await Complaint.get(id=answer["id"])
    assert stored.channel == "miniapp" and stored.venue_id == venue.id
    own = await server.client.get("/api/v1/complaints", headers=headers)
    assert [c["reference"] for c in own.json()] == [answer["reference"]]
    _, stranger = await visitor_headers(server.app)
    assert (await server.client.get("/api/v1/complaints", headers=stranger)).json() == []


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({}, 422, "validation_error", "text"),
        ({"text": ""}, 422, "validation_error", "text"),
        ({"text": "好", "venue_id": "abc"}, 422, "validation_error", "text"),
        ({"text": "服务差", "venue_id": 999999}, 422, "referenced_not_found", "venue_id"),
        ({"text": "服务差", "entity_id": 999999}, 422, "referenced_not_found", "entity_id"),
        ({"text": "服务差", "surprise": 1}, 422, "validation_error", "surprise"),
    ],
)
async def test_bad_complaints_get_a_clear_4xx(server, payload, status, code, field):
    _, headers = await visitor_headers(server.app)
    answer = await server.client.post("/api/v1/complaints", json=payload, headers=headers)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["field"] == field
    assert error["message"]


async def test_filing_needs_a_visitor_token(server):
    answer = await server.client.post("/api/v1/complaints", json={"text": "服务差"})
    assert answer.status_code == 401
    _, headers = await staff_headers(server.app, "supervisor")
    answer = await server.client.post(
        "/api/v1/complaints", json={"text": "服务差"}, headers=headers
    )
    assert answer.status_code == 403


async def test_a_supervisor_handles_a_complaint_and_every_step_is_audited(server):
    entity = await make_entity()
    supervisor, headers = await staff_headers(server.app, "supervisor")
    filed = await server.client.post(
        "/api/v1/supervision/complaints",
        json={"text": "导游辱骂游客", "entity_id": entity.id, "contact_phone": "13912345678"},
        headers=headers,
    )
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()["id"]
    base = f"/api/v1/supervision/complaints/{complaint_id}"
    shown = (await server.client.get(base, headers=headers)).json()
    assert shown["channel"] == "phone" and shown["contact_phone"] == "139****5678"
    assigned = await server.client.post(
        f"{base}/assign", json={"assignee_id": supervisor.id}, headers=headers
    )
    assert assigned.json()["status"] == "assigned"
    answered = await server.client.post(
        f"{base}/answer", json={"answer": "经查属实，已处理", "upheld": True}, headers=headers
    )
    assert answered.json()["status"] == "answered" and answered.json()["upheld"] is True
    closed = await server.client.post(f"{base}/close", headers=headers)
    assert closed.json()["status"] == "closed"
    again = await server.client.post(f"{base}/close", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["status"] == "closed"
    actions = await AuditEntry.filter(target_type="complaint", target_id=str(complaint_id))
    assert sorted(a.action for a in actions) == [
        "complaint.answer", "complaint.assign", "complaint.close", "complaint.file",
    ]  # fmt: skip
    assert all(a.actor_id == supervisor.id for a in actions)
    assert "13912345678" not in str([a.after for a in actions])
    listed = await server.client.get(
        "/api/v1/supervision/complaints?status=closed", headers=headers
    )
    assert listed.json()["total"] == 1
    entity_page = await server.client.get(
        f"/api/v1/supervision/entities/{entity.id}", headers=headers
    )
    assert entity_page.json()["credit"]["score"] == 95.0


@pytest.mark.parametrize("role", ["venue_manager", "venue_staff"])
async def test_venue_roles_are_refused_the_supervision_desk(server, role):
    venue = await make_venue()
    _, headers = await staff_headers(server.app, role, venue)
    for path in ("/api/v1/supervision/complaints", "/api/v1/supervision/entities"):
        answer = await server.client.get(path, headers=headers)
        assert answer.status_code == 403, path
    answer = await server.client.post(
        "/api/v1/supervision/complaints", json={"text": "投诉"}, headers=headers
    )
    assert answer.status_code == 403


async def test_figures_answer_for_a_period(server):
    _, visitor = await visitor_headers(server.app)
    await server.client.post("/api/v1/complaints", json={"text": "投诉一"}, headers=visitor)
    _, headers = await staff_headers(server.app, "admin")
    today = (await Complaint.first()).filed_on.isoformat()
    figures = await server.client.get(
        f"/api/v1/supervision/complaints/figures?start={today}&end={today}", headers=headers
    )
    assert figures.status_code == 200
    assert figures.json()["by_status"]["open"] == 1
    bad = await server.client.get(
        "/api/v1/supervision/complaints/figures?start=yesterday&end=x", headers=headers
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "start"
