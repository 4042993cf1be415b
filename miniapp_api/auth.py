"""Visitor sign-in from the mini-program (wx.login code exchange)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.accounts import service as accounts
from server.accounts.schemas import VisitorOut, WeChatLoginIn, WeChatLoginOut
from server.auth import VISITOR, Principal, issue_session_token, requires
from server.clock import local_now
from server.http import body, parse_body

bp = Blueprint("visitor_auth")


@bp.post("/auth/wechat")
@openapi.summary("Sign in with the code from wx.login(); returns a session token")
@openapi.response(200, {"application/json": WeChatLoginOut.model_json_schema()})
@body(WeChatLoginIn)
async def wechat_login(request: Request) -> HTTPResponse:
    login = parse_body(request, WeChatLoginIn)
    visitor = await accounts.login_visitor(
        code=login.code, wechat=request.app.ctx.wechat, now=local_now()
    )
    answer = WeChatLoginOut(
        token=issue_session_token(request, Principal(role=VISITOR, user_id=visitor.id)),
        expires_in=request.app.ctx.settings.token_ttl_seconds,
        user=VisitorOut(id=visitor.id, language=visitor.language, nickname=visitor.nickname),
    )
    return json(answer.model_dump())


@bp.get("/me")
@openapi.summary("The signed-in visitor")
@openapi.response(200, {"application/json": VisitorOut.model_json_schema()})
@requires(VISITOR)
async def me(request: Request) -> HTTPResponse:
    visitor = await accounts.get_visitor(visitor_id=request.ctx.principal.user_id)
    answer = VisitorOut(id=visitor.id, language=visitor.language, nickname=visitor.nickname)
    return json(answer.model_dump())
