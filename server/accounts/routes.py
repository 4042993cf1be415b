"""Staff sign-in for the admin side and gate devices."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server import ratelimit
from server.accounts import service
from server.accounts.models import Role
from server.accounts.schemas import StaffLoginIn, StaffLoginOut, StaffOut
from server.admin.audit import record
from server.auth import Principal, issue_session_token, requires
from server.clock import local_now
from server.http import body, parse_body

bp = Blueprint("admin_accounts", url_prefix="/api/v1/admin")


@bp.post("/login")
@openapi.summary("Staff sign-in with username and password")
@openapi.response(200, {"application/json": StaffLoginOut.model_json_schema()})
@body(StaffLoginIn)
async def staff_login(request: Request) -> HTTPResponse:
    credentials = parse_body(request, StaffLoginIn)
    # Per address, on top of the per-account lockout: one address guessing many accounts' passwords
    # meets this first. Behind a proxy, remote_addr is the client's (Sanic's PROXIES_COUNT).
    address = request.remote_addr or request.ip
    await ratelimit.count_request(
        request.app.ctx.redis,
        limits=[
            ("login-address", address, request.app.ctx.settings.login_attempts_per_address_minute)
        ],
        window=60,
    )
    staff = await service.login_staff(
        username=credentials.username, password=credentials.password, now=local_now()
    )
    principal = Principal(role=staff.role.value, user_id=staff.id, venue_id=staff.venue_id)
    await record(principal, "staff.login", f"staff:{staff.id}")
    answer = StaffLoginOut(
        token=issue_session_token(request, principal),
        role=staff.role.value,
        venue_id=staff.venue_id,
        expires_in=request.app.ctx.settings.token_ttl_seconds,
    )
    return json(answer.model_dump())


@bp.get("/me")
@openapi.summary("The signed-in staff member")
@openapi.response(200, {"application/json": StaffOut.model_json_schema()})
@requires(*Role)
async def staff_me(request: Request) -> HTTPResponse:
    staff = await service.get_staff(staff_id=request.ctx.principal.user_id)
    answer = StaffOut(
        id=staff.id, username=staff.username, role=staff.role.value, venue_id=staff.venue_id
    )
    return json(answer.model_dump())
