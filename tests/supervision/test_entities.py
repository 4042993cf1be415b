"""Market entities: registration, personal data of individuals, demo data, messages."""

from __future__ import annotations

import inspect

import pytest
from factories import make_venue

import i18n
from server.clock import local_now
from server.errors import AppError
from server.supervision import errors as refusals
from server.supervision.demo import load_demo_supervision
from server.supervision.demo_data import DEMO_ENTITIES, DEMO_INSPECTORS
from server.supervision.models import CreditRecord, Inspector, MarketEntity
from supervision.factories import CIPHER, make_entity, staff_headers


async def test_a_guides_mobile_is_stored_encrypted_and_shown_masked(server):
    _, headers = await staff_headers(server.app, "supervisor")
    created = await server.client.post(
        "/api/v1/supervision/entities",
        json={"kind": "tour_guide", "licence_number": "d-3303-777001", "name": "赵导游",
              "county": "鹿城区", "contact_phone": "+86 138-0057-7001"},
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    shown = created.json()
    assert shown["licence_number"] == "D-3303-777001"
    assert shown["contact_phone"] == "138****7001"
    assert shown["credit"] == {"score": 100.0, "grade": "A", "lists": []}
    stored = await MarketEntity.get(id=shown["id"])
    assert stored.contact_phone == "" and "13800577001" not in stored.contact_phone_encrypted
    assert CIPHER.decrypt(stored.contact_phone_encrypted) == "13800577001"
    listed = await server.client.get(
        "/api/v1/supervision/entities?kind=tour_guide", headers=headers
    )
    assert "13800577001" not in listed.text and listed.json()["total"] == 1


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"kind": "tour_guide", "contact_phone": "12345"}, 422, None),
        ({"kind": "hotel", "contact_phone": "call us"}, 422, "contact_phone"),
        ({"kind": "casino"}, 422, "kind"),
        ({"licence_number": "坏的编号"}, 422, "licence_number"),
        ({"a_level": 6}, 422, "a_level"),
        ({"venue_id": 999999}, 422, "venue_id"),
    ],
)
async def test_bad_entities_are_refused_naming_the_problem(server, payload, status, field):
    _, headers = await staff_headers(server.app, "admin")
    body = {"kind": "hotel", "licence_number": "JD-TEST-1", "name": "测试酒店", **payload}
    answer = await server.client.post("/api/v1/supervision/entities", json=body, headers=headers)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    if field is None:
        assert error["code"] == "invalid_phone"
    else:
        assert error["field"] == field
    assert "12345" not in error["message"]


async def test_a_licence_number_is_registered_once(database):
    await make_entity(licence_number="L-ZJ-DUP01")
    with pytest.raises(refusals.LicenceNumberTaken):
        await make_entity(licence_number="l-zj-dup01")


async def test_grade_filter_and_search(server):
    clean = await make_entity(name="诚信旅行社")
    await make_entity(name="问题旅行社", licence_number="L-ZJ-BAD01")
    _, headers = await staff_headers(server.app, "supervisor")
    bad = (await server.client.get("/api/v1/supervision/entities?q=BAD01", headers=headers)).json()
    [entity] = bad["items"]
    recorded = await server.client.post(
        f"/api/v1/supervision/entities/{entity['id']}/credit-records",
        json={"kind": "administrative_penalty", "category": "licence_revoked",
              "reason": "吊销旅行社业务经营许可证", "occurred_on": local_now().date().isoformat()},
        headers=headers,
    )  # fmt: skip
    assert recorded.status_code == 201 and recorded.json()["points"] == -60
    graded = await server.client.get("/api/v1/supervision/entities?grade=D", headers=headers)
    assert [e["id"] for e in graded.json()["items"]] == [entity["id"]]
    good = await server.client.get("/api/v1/supervision/entities?grade=A", headers=headers)
    assert [e["id"] for e in good.json()["items"]] == [clean.id]
    lists = await server.client.get("/api/v1/supervision/credit-lists", headers=headers)
    [entry] = lists.json()
    assert (entry["list_kind"], entry["basis"]) == ("serious_dishonesty", "licence_revoked")
    early = await server.client.post(
        f"/api/v1/supervision/credit-lists/{entry['id']}/remove",
        json={"reason": "已整改"}, headers=headers,
    )  # fmt: skip
    assert early.status_code == 409 and "earliest" in early.json()["error"]
    wrong = await server.client.post(
        f"/api/v1/supervision/entities/{entity['id']}/credit-records",
        json={"kind": "commendation", "category": "fine", "reason": "x1",
              "occurred_on": "2026-01-01"},
        headers=headers,
    )  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "category"


async def test_demo_data_loads_once_and_again_changes_nothing(database):
    await make_venue(code="jiangxin-islet")
    first = await load_demo_supervision(cipher=CIPHER, now=local_now())
    assert first["entities_changed"] == len(DEMO_ENTITIES)
    assert first["inspectors_added"] == len(DEMO_INSPECTORS)
    counts = (await MarketEntity.all().count(), await Inspector.all().count(),
              await CreditRecord.all().count())  # fmt: skip
    again = await load_demo_supervision(cipher=CIPHER, now=local_now())
    assert again == {"entities_changed": 0, "inspectors_added": 0, "credit_records_added": 0}
    assert counts == (await MarketEntity.all().count(), await Inspector.all().count(),
                      await CreditRecord.all().count())  # fmt: skip
    islet = await MarketEntity.get(licence_number="AJ-330302-01")
    assert islet.venue_id is not None and islet.a_level == 5
    guide = await MarketEntity.get(licence_number="D-3303-900101")
    assert guide.contact_phone == "" and guide.contact_phone_masked == "138****7101"


def test_every_supervision_refusal_has_a_message_in_both_languages():
    codes = [
        cls.code
        for _, cls in inspect.getmembers(refusals, inspect.isclass)
        if issubclass(cls, AppError) and cls.__module__ == refusals.__name__ and cls.code
        and not cls.__name__.startswith("_")
    ]  # fmt: skip
    for language in ("zh-CN", "en"):
        missing = [c for c in codes if f"error.{c}" not in i18n.catalogue(language)]
        assert missing == [], language
