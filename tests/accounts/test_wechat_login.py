"""Visitor sign-in (POST /api/v1/auth/wechat) through the real server and the WeChat stand-in."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from stubs.wechat_api import APPID, CODE2SESSION_PATH, SECRET, TOKEN_PATH

from server.accounts.models import Visitor

LOGIN = "/api/v1/auth/wechat"


async def sign_in(client: httpx.AsyncClient, code: str, **params: str) -> httpx.Response:
    return await client.post(LOGIN, json={"code": code}, params=params)


def assert_refused(answer: httpx.Response, status: int, code: str) -> dict:
    """The answer is the JSON error shape with this status and code; returns the error object."""
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def claims_of(server, token: str) -> dict:
    return server.app.ctx.signer.verify(token, purpose="session", now=time.time())


# --- signing in ----------------------------------------------------------------------------------


async def test_a_valid_code_signs_the_visitor_in(server, client, wechat_stub):
    answer = await sign_in(client, wechat_stub.issue_code("openid-alice"))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token"]
    assert body["expires_in"] == server.app.ctx.settings.token_ttl_seconds
    visitor = await Visitor.get(openid="openid-alice")
    assert body["user"] == {"id": visitor.id, "language": "zh-CN", "nickname": ""}
    assert visitor.last_login_at is not None


async def test_the_token_is_a_visitor_session_for_that_visitor(server, client, wechat_stub):
    answer = await sign_in(client, wechat_stub.issue_code("openid-alice"))

    claims = claims_of(server, answer.json()["token"])
    assert claims["role"] == "visitor"
    assert claims["uid"] == answer.json()["user"]["id"]
    assert claims["exp"] > time.time() + server.app.ctx.settings.token_ttl_seconds - 60


async def test_the_same_openid_twice_is_the_same_visitor(client, wechat_stub):
    first = await sign_in(client, wechat_stub.issue_code("openid-alice"))
    second = await sign_in(client, wechat_stub.issue_code("openid-alice"))

    assert first.status_code == second.status_code == 200
    assert first.json()["user"]["id"] == second.json()["user"]["id"]
    assert await Visitor.filter(openid="openid-alice").count() == 1


async def test_two_first_sign_ins_at_once_make_one_visitor(client, wechat_stub):
    codes = [wechat_stub.issue_code("openid-alice") for _ in range(2)]

    answers = await asyncio.gather(*(sign_in(client, code) for code in codes))

    assert [answer.status_code for answer in answers] == [200, 200]
    assert len({answer.json()["user"]["id"] for answer in answers}) == 1
    assert await Visitor.filter(openid="openid-alice").count() == 1


async def test_different_openids_are_different_visitors(client, wechat_stub):
    alice = await sign_in(client, wechat_stub.issue_code("openid-alice"))
    bob = await sign_in(client, wechat_stub.issue_code("openid-bob"))

    assert alice.json()["user"]["id"] != bob.json()["user"]["id"]
    assert await Visitor.all().count() == 2


async def test_the_unionid_from_wechat_is_kept(client, wechat_stub):
    await sign_in(client, wechat_stub.issue_code("openid-alice", unionid="union-alice"))

    assert (await Visitor.get(openid="openid-alice")).unionid == "union-alice"


async def test_the_server_asks_wechat_with_its_appid_and_the_right_grant_type(client, wechat_stub):
    code = wechat_stub.issue_code("openid-alice")
    await sign_in(client, code)

    [exchange] = wechat_stub.requests_to(CODE2SESSION_PATH)
    assert exchange.query["grant_type"] == "authorization_code"
    assert exchange.query["appid"] == APPID
    assert exchange.query["secret"] == SECRET
    assert exchange.query["js_code"] == code


async def test_the_access_token_is_fetched_once_for_many_sign_ins(client, wechat_stub):
    for user in ("openid-alice", "openid-bob", "openid-carol"):
        assert (await sign_in(client, wechat_stub.issue_code(user))).status_code == 200

    [token_request] = wechat_stub.requests_to(TOKEN_PATH)
    assert token_request.query["grant_type"] == "client_credential"
    assert token_request.query["appid"] == APPID


# --- WeChat's refusals ---------------------------------------------------------------------------


async def test_an_unknown_code_is_refused(client, wechat_stub):
    assert_refused(await sign_in(client, "never-issued"), 400, "wechat_code_invalid")


async def test_a_code_cannot_be_used_twice(client, wechat_stub):
    code = wechat_stub.issue_code("openid-alice")
    assert (await sign_in(client, code)).status_code == 200

    assert_refused(await sign_in(client, code), 400, "wechat_code_invalid")


async def test_the_refusal_is_in_chinese_by_default_and_in_english_on_request(client, wechat_stub):
    chinese = assert_refused(await sign_in(client, "never-issued"), 400, "wechat_code_invalid")
    english = assert_refused(
        await sign_in(client, "never-issued", lang="en"), 400, "wechat_code_invalid"
    )

    assert chinese["message"] == "微信登录凭证无效或已使用，请重新调用 wx.login。"
    assert english["message"] == (
        "The WeChat login code is invalid or already used; call wx.login again."
    )


async def test_wechat_rate_limiting_asks_the_client_to_retry_later(client, wechat_stub):
    wechat_stub.rate_limited = True

    answer = await sign_in(client, wechat_stub.issue_code("openid-alice"))

    assert_refused(answer, 429, "wechat_rate_limited")


async def test_wechat_being_busy_is_a_temporary_outage(client, wechat_stub):
    wechat_stub.busy = True

    answer = await sign_in(client, wechat_stub.issue_code("openid-alice"))

    assert_refused(answer, 503, "wechat_unavailable")


async def test_a_user_wechat_flags_as_high_risk_is_refused(client, wechat_stub):
    wechat_stub.blocked_openids.add("openid-mallory")

    answer = await sign_in(client, wechat_stub.issue_code("openid-mallory"))

    assert_refused(answer, 403, "wechat_user_blocked")
    assert not await Visitor.exists(openid="openid-mallory")


@pytest.mark.parametrize(
    "settings_overrides",
    [{"wechat_miniapp_secret": "not-the-real-secret"}, {"wechat_miniapp_appid": "wx-other"}],
    ids=["wrong-secret", "wrong-appid"],
)
async def test_wrong_wechat_credentials_are_an_outage_not_the_visitors_fault(client, wechat_stub):
    answer = await sign_in(client, wechat_stub.issue_code("openid-alice"))

    assert_refused(answer, 503, "wechat_unavailable")
    assert wechat_stub.requests_to(TOKEN_PATH), "the refusal came from the token endpoint"
    assert not wechat_stub.requests_to(CODE2SESSION_PATH)


# --- WeChat out of reach -------------------------------------------------------------------------


@pytest.fixture
def refusing_url() -> Iterator[str]:
    """A loopback URL whose port is held (bound, never listening), so connections are refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


class TestWhenWeChatCannotBeReached:
    @pytest.fixture
    def settings_overrides(self, refusing_url: str) -> dict[str, object]:
        return {"wechat_api_base": refusing_url}

    async def test_sign_in_is_a_quick_503(self, client):
        started = time.monotonic()
        answer = await sign_in(client, "any-code")

        assert_refused(answer, 503, "wechat_unavailable")
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("settings_overrides", [{"wechat_timeout_seconds": 0.1}])
async def test_a_wechat_that_does_not_answer_in_time_is_a_503(client, wechat_stub):
    # The first call is wechatpy's access-token fetch, which has no timeout of its own.
    wechat_stub.delay_seconds = 1.5
    started = time.monotonic()

    answer = await sign_in(client, wechat_stub.issue_code("openid-alice"))

    assert_refused(answer, 503, "wechat_unavailable")
    assert time.monotonic() - started < 1.2, "answered before WeChat did"


# --- malformed requests --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_body", "status", "code", "field"),
    [
        ({"json": {}}, 422, "validation_error", "code"),
        ({"json": {"code": ""}}, 422, "validation_error", "code"),
        ({"json": {"code": "x" * 129}}, 422, "validation_error", "code"),
        ({"json": {"code": 12345}}, 422, "validation_error", "code"),
        ({"json": {"code": "abc", "openid": "someone-else"}}, 422, "validation_error", "openid"),
        ({"content": b""}, 400, "invalid_json", None),
        ({"content": b"code=abc"}, 400, "invalid_json", None),
        ({"json": ["abc"]}, 400, "invalid_json", None),
    ],
    ids=[
        "missing-code",
        "empty-code",
        "code-too-long",
        "code-not-a-string",
        "unexpected-field",
        "empty-body",
        "not-json",
        "not-an-object",
    ],
)
async def test_a_malformed_request_is_refused_without_asking_wechat(
    client, wechat_stub, request_body, status, code, field
):
    answer = await client.post(LOGIN, **request_body)

    error = assert_refused(answer, status, code)
    assert error.get("field") == field
    assert not wechat_stub.requests
