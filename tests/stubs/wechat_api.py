"""A stand-in for WeChat's HTTP API (access token and jscode2session), served for real on loopback.

It answers the way api.weixin.qq.com does: JSON bodies with HTTP 200, refusals included, which
carry an `errcode` and an `errmsg`. Tests register wx.login codes with `issue_code`, flip switches
(`rate_limited`, `busy`, `blocked_openids`, `delay_seconds`) and read back the `requests` it saw.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from server.standin import QuietJSONHandler, StandIn

APPID = "wx-test-appid"
SECRET = "wx-test-secret"
TOKEN_PATH = "/cgi-bin/token"
CODE2SESSION_PATH = "/sns/jscode2session"
CUSTOM_SEND_PATH = "/cgi-bin/message/custom/send"
# The official account (chatbot) has its own app id and secret, and so its own access tokens.
OA_APPID = "wx-test-oa-appid"
OA_SECRET = "wx-test-oa-secret"


@dataclass(frozen=True)
class SeenRequest:
    """One request the stand-in received: its path and query (the last value of each key)."""

    path: str
    query: dict[str, str]


@dataclass
class _IssuedCode:
    openid: str
    unionid: str | None
    used: bool = False


def _refusal(errcode: int, errmsg: str, *, with_rid: bool = False) -> dict[str, Any]:
    if with_rid:  # WeChat appends a request id to most jscode2session refusals
        errmsg = f"{errmsg}, rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return {"errcode": errcode, "errmsg": errmsg}


class WeChatAPIStub(StandIn):
    """WeChat's token and jscode2session endpoints for one app id and secret; its `url` is the
    API base to configure as WECHAT_API_BASE."""

    name = "WeChat stand-in"

    def __init__(self, *, appid: str = APPID, secret: str = SECRET) -> None:
        super().__init__()
        self.appid = appid
        self.secret = secret
        self.rate_limited = False  # every jscode2session answers 45011
        self.busy = False  # every jscode2session answers -1 (system error)
        self.blocked_openids: set[str] = set()  # their codes answer 40226 (high-risk user)
        self.delay_seconds = 0.0  # every answer comes this much later
        self.requests: list[SeenRequest] = []
        self.accounts: dict[str, str] = {appid: secret, OA_APPID: OA_SECRET}
        self.issued_tokens: set[str] = set()
        self.sent_messages: list[dict[str, Any]] = []  # customer-service messages received
        self._codes: dict[str, _IssuedCode] = {}
        self._lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def issue_code(self, openid: str, unionid: str | None = None) -> str:
        """A fresh wx.login code for the user `openid`, good for one jscode2session."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _IssuedCode(openid=openid, unionid=unionid)
        return code

    def requests_to(self, path: str) -> list[SeenRequest]:
        """The requests seen on `path`, oldest first."""
        with self._lock:
            return [seen for seen in self.requests if seen.path == path]

    def answer(self, path: str, query: dict[str, str]) -> dict[str, Any] | None:
        """WeChat's JSON answer to GET `path`?`query`; None for a path WeChat does not have."""
        with self._lock:
            self.requests.append(SeenRequest(path=path, query=dict(query)))
            if path == TOKEN_PATH:
                return self._access_token(query)
            if path == CODE2SESSION_PATH:
                return self._code_to_session(query)
        return None

    def _credentials_refusal(self, query: dict[str, str]) -> dict[str, Any] | None:
        if query.get("appid") not in self.accounts:
            return _refusal(40013, "invalid appid")
        if query.get("secret") != self.accounts[query["appid"]]:
            return _refusal(40125, "invalid appsecret")
        return None

    def answer_post(self, path: str, query: dict[str, str], payload: Any) -> dict[str, Any] | None:
        """WeChat's JSON answer to POST `path` (the customer-service send API)."""
        with self._lock:
            self.requests.append(SeenRequest(path=path, query=dict(query)))
            if path != CUSTOM_SEND_PATH:
                return None
            if query.get("access_token") not in self.issued_tokens:
                return _refusal(40001, "invalid credential, access_token is invalid or not latest")
            if not isinstance(payload, dict) or not payload.get("touser"):
                return _refusal(40003, "invalid openid")
            self.sent_messages.append(payload)
            return {"errcode": 0, "errmsg": "ok"}

    def forget_tokens(self) -> None:
        """Expire every access token issued so far (as WeChat does after 2 hours)."""
        with self._lock:
            self.issued_tokens.clear()

    def _access_token(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("grant_type") != "client_credential":
            return _refusal(40002, "invalid grant_type")
        refusal = self._credentials_refusal(query)
        if refusal:
            return refusal
        token = f"stub-token-{secrets.token_hex(16)}"
        self.issued_tokens.add(token)
        return {"access_token": token, "expires_in": 7200}

    def _code_to_session(self, query: dict[str, str]) -> dict[str, Any]:
        refusal = self._credentials_refusal(query)
        if refusal:
            return refusal
        if query.get("grant_type") != "authorization_code":
            return _refusal(40002, "invalid grant_type", with_rid=True)
        if self.rate_limited:
            return _refusal(45011, "api minute-quota reach limit  mustslower  retry next minute")
        if self.busy:
            return _refusal(-1, "system error")
        code = query.get("js_code", "")
        if not code:
            return _refusal(41008, "missing code", with_rid=True)
        issued = self._codes.get(code)
        if issued is None:
            return _refusal(40029, "invalid code", with_rid=True)
        if issued.used:
            return _refusal(40163, "code been used", with_rid=True)
        if issued.openid in self.blocked_openids:
            return _refusal(40226, "invalid user (high risk)", with_rid=True)
        issued.used = True
        session = {"openid": issued.openid, "session_key": secrets.token_urlsafe(16)}
        if issued.unionid:
            session["unionid"] = issued.unionid
        return session


def _handler_for(stub: WeChatAPIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietJSONHandler):
        content_type = "application/json; encoding=utf-8"  # as api.weixin.qq.com labels it

        def do_GET(self) -> None:
            path, query = self._request_line()
            self._send(stub.answer(path, query))

        def do_POST(self) -> None:
            path, query = self._request_line()
            self._send(stub.answer_post(path, query, self.read_json()))

        def _request_line(self) -> tuple[str, dict[str, str]]:
            if stub.delay_seconds:
                time.sleep(stub.delay_seconds)
            parts = urlsplit(self.path)
            return parts.path, {key: values[-1] for key, values in parse_qs(parts.query).items()}

        def _send(self, answer: dict[str, Any] | None) -> None:
            if answer is None:
                self.send_json(404, {"errcode": 404, "errmsg": "not found"})
            else:
                self.send_json(200, answer)

    return Handler


@pytest.fixture
def wechat_stub() -> Iterator[WeChatAPIStub]:
    """The WeChat stand-in, running for this test (appid wx-test-appid, secret wx-test-secret)."""
    stub = WeChatAPIStub()
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()
