"""Who is calling: session tokens, the caller's principal, and the one role decorator."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic_ext.extensions.openapi import openapi

from server import errors
from server.accounts import service as accounts
from server.accounts.models import Role
from server.signing import SESSION_PURPOSE

VISITOR = "visitor"  # the role name a visitor's token carries; staff carry a Role value
Handler = Callable[..., Awaitable[HTTPResponse]]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a visitor or a staff member (with role and, maybe, venue)."""

    role: str
    user_id: int
    venue_id: int | None = None

    @property
    def is_visitor(self) -> bool:
        """True for a mini-program visitor, False for staff."""
        return self.role == VISITOR


def issue_session_token(request_or_app: Any, principal: Principal) -> str:
    """A signed session token for `principal`, valid for the configured time."""
    app = getattr(request_or_app, "app", request_or_app)
    claims = {"role": principal.role, "uid": principal.user_id, "venue": principal.venue_id}
    return app.ctx.signer.sign(
        purpose=SESSION_PURPOSE,
        claims=claims,
        ttl_seconds=app.ctx.settings.token_ttl_seconds,
        now=time.time(),
    )


async def _principal_from(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.AuthRequired()
    # Remembered: a session token comes with every request (its HMAC check is cheap, but the
    # claims' decoding is not free either).
    claims = request.app.ctx.signer.verify(
        token.strip(), purpose=SESSION_PURPOSE, now=time.time(), remember=True
    )
    principal = Principal(role=claims["role"], user_id=claims["uid"], venue_id=claims.get("venue"))
    if not principal.is_visitor:
        # A deactivated staff account loses access at once (within seconds in other processes),
        # not when its token expires.
        await _active_staff(request).ensure(principal.user_id)
    return principal


def _active_staff(request: Request) -> accounts.ActiveStaff:
    active_staff = getattr(request.app.ctx, "active_staff", None)
    if active_staff is None:
        active_staff = request.app.ctx.active_staff = accounts.ActiveStaff()
    return active_staff


def requires(*roles: str) -> Callable[[Handler], Handler]:
    """Let through only callers with one of `roles` ("visitor" or a staff Role); else 401/403."""
    allowed = {str(role) for role in roles}
    unknown = allowed - {VISITOR, *(role.value for role in Role)}
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            principal = await _principal_from(request)
            if principal.role not in allowed:
                raise errors.Forbidden()
            request.ctx.principal = principal
            return await handler(request, *args, **kwargs)

        return openapi.secured("token")(guarded)

    return decorate


async def optional_principal(request: Request) -> Principal | None:
    """The caller if a valid token is present, None when there is no token at all."""
    if not request.headers.get("authorization"):
        return None
    return await _principal_from(request)
