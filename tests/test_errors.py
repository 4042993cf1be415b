"""Every bad request gets the one JSON error shape with a 4xx, in the caller's language."""

from __future__ import annotations

import pytest

import i18n
from server import errors
from server.accounts import errors as account_errors  # noqa: F401 - registers its subclasses
from server.venues import errors as venue_errors  # noqa: F401


def _all_error_types(base: type[errors.AppError] = errors.AppError) -> list[type]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *_all_error_types(sub)]
    return found


def test_every_error_code_has_a_chinese_and_an_english_message():
    for error_type in [errors.AppError, *_all_error_types()]:
        key = f"error.{error_type.code}"
        assert key in i18n.catalogue("zh-CN"), key
        assert key in i18n.catalogue("en"), key


async def test_unknown_path_is_a_json_404(client):
    answer = await client.get("/api/v1/nowhere", params={"lang": "en"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert answer.headers["x-request-id"]


async def test_wrong_method_is_a_json_405(client):
    answer = await client.delete("/api/v1/venues")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"{not json", "invalid_json"), (b"[1, 2]", "invalid_json"), (b"", "invalid_json")],
)
async def test_malformed_json_is_a_400_naming_the_problem(client, content, code):
    answer = await client.post(
        "/api/v1/admin/login",
        content=content,
        headers={"content-type": "application/json", "accept-language": "en"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code


async def test_oversized_body_is_a_json_413(client, server):
    limit = server.app.ctx.settings.max_body_bytes
    answer = await client.post("/api/v1/admin/login", content=b"x" * (limit + 1))
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


async def test_validation_error_names_the_field_in_chinese_by_default(client):
    answer = await client.post("/api/v1/admin/login", json={"username": "a"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "password"
    assert "字段 password 无效" in error["message"]


async def test_request_id_from_the_client_is_echoed_and_a_bad_one_replaced(client):
    kept = await client.get("/healthz", headers={"x-request-id": "gate-7.abc"})
    assert kept.headers["x-request-id"] == "gate-7.abc"
    replaced = await client.get("/healthz", headers={"x-request-id": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"


async def test_openapi_document_lists_the_public_contract(client):
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.")
    for path in ("/api/v1/venues", "/api/v1/venues/{venue_id}/slots", "/api/v1/auth/wechat"):
        assert path in document["paths"], path
    assert (await client.get("/docs")).status_code == 200


async def test_metrics_count_answered_requests(client):
    await client.get("/api/v1/venues")
    metrics = (await client.get("/metrics")).text
    assert 'etour_http_requests_total{method="GET",route="api/v1/venues",status="200"}' in metrics


async def test_a_locked_database_is_a_503_to_retry_not_a_500(client, monkeypatch):
    from tortoise.exceptions import OperationalError

    from server.venues import service as venues

    async def locked(**_):
        raise OperationalError("database is locked")

    monkeypatch.setattr(venues, "list_venues", locked)
    answer = await client.get("/api/v1/venues")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "service_unavailable"


async def test_an_unexpected_failure_is_a_500_without_a_traceback(client, monkeypatch):
    from server.venues import service as venues

    async def broken(**_):
        raise ZeroDivisionError("secret detail 330302199005171234")

    monkeypatch.setattr(venues, "list_venues", broken)
    answer = await client.get("/api/v1/venues", params={"lang": "en"})
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "Traceback" not in answer.text and "330302" not in answer.text
