"""The HTTP layer's answers to outages and impossible input, and its OpenAPI document."""

from __future__ import annotations

import asyncpg
import pytest
from factories import make_staff_token, make_visitor_token
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tortoise.exceptions import OperationalError

from server import errors
from server.clock import local_now
from server.http import LARGEST_ID, _as_app_error, hoist_schema_definitions


def wrapped(cause: Exception) -> OperationalError:
    """An error as tortoise raises it: its own type, the driver's error as the cause."""
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as error:
        return error


@pytest.mark.parametrize(
    "outage",
    [
        asyncpg.exceptions.AdminShutdownError(
            "terminating connection due to administrator command"
        ),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
        asyncpg.InterfaceError("connection is closed"),
        wrapped(
            asyncpg.InterfaceError(
                "cannot call Connection.fetch(): connection has been released back to the pool"
            )
        ),
        asyncpg.exceptions._base.InternalClientError(
            "cannot switch to state 11; another operation (2) is in progress"
        ),
        ConnectionRefusedError(111, "Connection refused"),
        wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")),
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379"),
        RedisTimeoutError("Timeout reading from socket"),
        OperationalError("database is locked"),
    ],
    ids=lambda outage: type(outage).__name__,
)
def test_a_database_or_redis_outage_is_a_503_the_client_may_retry(outage):
    assert isinstance(_as_app_error(outage), errors.ServiceUnavailable)


@pytest.mark.parametrize(
    "bug",
    [
        ValueError("a bug"),
        OperationalError("no such column: x"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    ],
    ids=lambda bug: str(bug),
)
def test_a_bug_stays_a_500(bug):
    assert isinstance(_as_app_error(bug), errors.InternalError)


@pytest.mark.parametrize(
    "path", [f"/api/v1/reservations/{LARGEST_ID + 1}", "/api/v1/venues/-9" + "9" * 30]
)
async def test_an_id_no_table_can_hold_is_a_clear_404_not_a_500(client, path):
    answer = await client.get(path)
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "not_found"


async def test_every_ref_of_the_openapi_document_resolves_and_it_declares_3_1(client):
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    refs = set()

    def collect(node):
        if isinstance(node, dict):
            assert "$defs" not in node
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)
    schemas = document["components"]["schemas"]
    assert refs, "no $ref at all: the check below would prove nothing"
    for ref in refs:
        assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in schemas, ref


def test_two_different_models_of_one_name_both_keep_their_schema():
    hours = {"type": "object", "properties": {"day": {"type": "integer"}}}
    other_hours = {"type": "object", "properties": {"opens": {"type": "string"}}}
    document = {
        "paths": {
            "/a": {"get": {"schema": {"$ref": "#/$defs/Hours", "$defs": {"Hours": hours}}}},
            "/b": {"get": {"schema": {"$ref": "#/$defs/Hours", "$defs": {"Hours": other_hours}}}},
        }
    }
    hoisted = hoist_schema_definitions(document)
    schemas = hoisted["components"]["schemas"]
    assert schemas == {"Hours": hours, "Hours2": other_hours}
    assert hoisted["paths"]["/b"]["get"]["schema"] == {"$ref": "#/components/schemas/Hours2"}
    assert "$defs" in document["paths"]["/a"]["get"]["schema"]  # the input is left as it was


async def test_an_item_id_in_a_body_or_path_no_table_can_hold_is_a_4xx_not_a_500(server):
    _, token = await make_visitor_token(server.app)
    too_large = f"restaurant:{LARGEST_ID + 1}"
    planned = await server.client.post(
        "/api/v1/planner",
        json={
            "date": local_now().date().isoformat(),
            "places": [{"id": too_large}],
            "start": {"lat": 28.0172, "lng": 120.6553},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert planned.status_code == 422, planned.text
    assert planned.json()["error"]["field"] == "places[0].id"
    similar = await server.client.get(f"/api/v1/items/{too_large}/similar")
    assert similar.status_code == 404, similar.text


async def test_a_complaint_naming_a_venue_no_table_can_hold_is_a_4xx(server):
    _, token = await make_visitor_token(server.app)
    filed = await server.client.post(
        "/api/v1/complaints",
        json={"text": "排队太久了", "venue_id": LARGEST_ID + 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert filed.status_code == 422, filed.text
    assert filed.json()["error"]["field"] == "venue_id"


TOO_LARGE = LARGEST_ID + 1


# (who asks, method, path, body or query, the field the 422 names)
ROW_ID_CASES = [
    ("visitor", "POST", "/api/v1/complaints", {"text": "排队太久了", "entity_id": TOO_LARGE},
     "entity_id"),
    ("visitor", "POST", "/api/v1/events", {"item_id": f"venue:{TOO_LARGE}", "kind": "view"},
     "item_id"),
    ("visitor", "POST", "/api/v1/planner",
     {"places": ["venue:1"], "start": {"place": f"venue:{TOO_LARGE}"}}, "start.place"),
    ("visitor", "POST", "/api/v1/tours/1/progress", {"stop_id": TOO_LARGE}, "stop_id"),
    ("visitor", "GET", "/api/v1/tours", {"venue_id": TOO_LARGE}, "venue_id"),
    ("visitor", "POST", "/api/v1/card/loans", {"card_id": TOO_LARGE, "barcode": "B0001"},
     "card_id"),
    ("admin", "GET", "/api/v1/supervision/complaints", {"assignee_id": TOO_LARGE},
     "assignee_id"),
    ("admin", "POST", "/api/v1/supervision/complaints/1/assign", {"assignee_id": TOO_LARGE},
     "assignee_id"),
    ("admin", "POST", "/api/v1/supervision/entities",
     {"kind": "hotel", "licence_number": "L-ZJ-0001", "name": "江心宾馆",
      "venue_id": TOO_LARGE}, "venue_id"),
    ("admin", "POST", "/api/v1/supervision/inspectors",
     {"name": "执法员甲", "badge_number": "ZF-001", "staff_id": TOO_LARGE}, "staff_id"),
    ("admin", "POST", "/api/v1/supervision/inspectors/1/conflicts",
     {"entity_id": TOO_LARGE, "reason": "亲属经营"}, "entity_id"),
    ("admin", "GET", "/api/v1/admin/audit", {"actor_id": TOO_LARGE}, "actor_id"),
    ("admin", "GET", "/api/v1/admin/audit", {"before_id": 2**63}, "before_id"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("role", "method", "path", "sent", "field"),
    ROW_ID_CASES,
    ids=[f"{method} {path} {field}" for _, method, path, _, field in ROW_ID_CASES],
)
async def test_a_row_id_no_table_can_hold_is_refused_at_parsing_naming_the_field(
    server, role, method, path, sent, field
):
    if role == "visitor":
        _, token = await make_visitor_token(server.app)
    else:
        _, token = await make_staff_token(server.app, None, role=role)
    headers = {"Authorization": f"Bearer {token}"}
    if method == "GET":
        answer = await server.client.get(path, params=sent, headers=headers)
    else:
        answer = await server.client.post(path, json=sent, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
