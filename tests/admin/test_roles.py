"""Every admin endpoint refuses the wrong role and another venue's staff, and audits its writes.

The table below must name every route the app serves under /api/v1/admin and /admin: a new
endpoint without a row here fails `test_every_admin_route_is_in_the_role_table`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from server.admin.models import AuditEntry
from server.clock import local_now

STAFF = ("admin", "supervisor", "manager_a", "staff_a", "manager_b", "staff_b")
_names = itertools.count(1)


@dataclass(frozen=True)
class Rule:
    """Who may call a route; `venue_scoped` routes act on venue A and refuse venue B's people."""

    allowed: tuple[str, ...]
    path: Callable[[Any], str]
    body: Callable[[Any], dict] | None = None
    venue_scoped: bool = False
    public: bool = False
    audited: bool = False  # a successful call appends to the audit log
    audit_tested_in: str = ""  # a write whose audit entry another test proves (it needs set-up)
    query: dict = field(default_factory=dict)


def _closing_day() -> str:
    return (local_now().date() + timedelta(days=10)).isoformat()


def _new_staff(_: Any) -> dict:
    return {"username": f"gate-{next(_names)}", "password": "gate-password-1"}


TEMPLATE = {"windows": [{"weekdays": list(range(7)), "start": "09:00", "end": "11:00",
                         "capacity": 50}]}  # fmt: skip
VENUE_ROLES = ("admin", "manager_a")

ROUTES: dict[tuple[str, str], Rule] = {
    ("POST", "api/v1/admin/login"): Rule((), lambda c: "/api/v1/admin/login", public=True),
    ("GET", "api/v1/admin/me"): Rule(STAFF, lambda c: "/api/v1/admin/me"),
    ("PATCH", "api/v1/admin/slots/<slot_id:int>"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/slots/{c.slot_a.id}",
        lambda c: {"capacity": 30},
        venue_scoped=True,
        audited=True,
    ),
    ("GET", "api/v1/admin/venues/<venue_id:int>/slot-template"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/slot-template",
        venue_scoped=True,
    ),
    ("PUT", "api/v1/admin/venues/<venue_id:int>/slot-template"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/slot-template",
        lambda c: TEMPLATE,
        venue_scoped=True,
        audited=True,
    ),
    ("GET", "api/v1/admin/venues/<venue_id:int>/booking-rules"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/booking-rules",
        venue_scoped=True,
    ),
    ("PATCH", "api/v1/admin/venues/<venue_id:int>/booking-rules"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/booking-rules",
        lambda c: {"daily_capacity": 500},
        venue_scoped=True,
        audited=True,
    ),
    ("GET", "api/v1/admin/venues"): Rule(  # a manager sees their own venue only (tested apart)
        (*VENUE_ROLES, "manager_b"), lambda c: "/api/v1/admin/venues"
    ),
    ("PATCH", "api/v1/admin/venues/<venue_id:int>"): Rule(
        ("admin",),
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}",
        lambda c: {"phone": "0577-88888888"},
        audited=True,
    ),
    ("GET", "api/v1/admin/venues/<venue_id:int>/closing-days"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/closing-days",
        venue_scoped=True,
    ),
    ("POST", "api/v1/admin/venues/<venue_id:int>/closing-days"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/closing-days",
        lambda c: {"date": _closing_day(), "reason": {"zh-CN": "设备检修"}},
        venue_scoped=True,
        audited=True,
    ),
    ("DELETE", "api/v1/admin/venues/<venue_id:int>/closing-days/<day:ymd>"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/closing-days/{_closing_day()}",
        venue_scoped=True,
        audited=True,
    ),
    ("GET", "api/v1/admin/venues/<venue_id:int>/staff"): Rule(
        VENUE_ROLES, lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/staff", venue_scoped=True
    ),
    ("POST", "api/v1/admin/venues/<venue_id:int>/staff"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/staff",
        _new_staff,
        venue_scoped=True,
        audited=True,
    ),
    ("PATCH", "api/v1/admin/venues/<venue_id:int>/staff/<staff_id:int>"): Rule(
        VENUE_ROLES,
        lambda c: f"/api/v1/admin/venues/{c.venue_a.id}/staff/{c.staff_a.id}",
        lambda c: {"is_active": True},
        venue_scoped=True,
        audited=True,
    ),
    ("GET", "api/v1/admin/audit"): Rule(("admin",), lambda c: "/api/v1/admin/audit"),
    ("GET", "api/v1/admin/booking-refusals"): Rule(
        ("admin", "supervisor"), lambda c: "/api/v1/admin/booking-refusals"
    ),
    ("GET", "api/v1/admin/audit/export.csv"): Rule(
        ("admin",), lambda c: "/api/v1/admin/audit/export.csv"
    ),
    ("GET", "api/v1/admin/cockpit/overview"): Rule(
        ("admin",), lambda c: "/api/v1/admin/cockpit/overview"
    ),
    ("GET", "api/v1/admin/cockpit/venues"): Rule(
        ("admin",), lambda c: "/api/v1/admin/cockpit/venues"
    ),
    ("GET", "api/v1/admin/cockpit/hourly"): Rule(
        ("admin",), lambda c: "/api/v1/admin/cockpit/hourly"
    ),
    ("GET", "api/v1/admin/cockpit/daily"): Rule(
        ("admin",), lambda c: "/api/v1/admin/cockpit/daily"
    ),
    ("GET", "api/v1/admin/cockpit/warnings"): Rule(
        ("admin",), lambda c: "/api/v1/admin/cockpit/warnings"
    ),
    ("GET", "api/v1/admin/cockpit/modules"): Rule(
        ("admin",), lambda c: "/api/v1/admin/cockpit/modules"
    ),
    ("GET", "api/v1/admin/cockpit/stream"): Rule(
        ("admin",), lambda c: "/api/v1/admin/cockpit/stream"
    ),
    ("GET", "api/v1/admin/exports/daily"): Rule(
        ("admin",), lambda c: "/api/v1/admin/exports/daily"
    ),
    ("GET", "api/v1/admin/exports/reservations"): Rule(
        ("admin",), lambda c: "/api/v1/admin/exports/reservations", audited=True
    ),
    ("GET", "api/v1/admin/exports/complaints"): Rule(
        ("admin", "supervisor"), lambda c: "/api/v1/admin/exports/complaints", audited=True
    ),
    ("GET", "api/v1/admin/chat/handoffs"): Rule(
        ("admin", "supervisor"), lambda c: "/api/v1/admin/chat/handoffs"
    ),
    ("POST", "api/v1/admin/chat/handoffs/<handle:str>/answer"): Rule(
        ("admin", "supervisor"),
        lambda c: "/api/v1/admin/chat/handoffs/no-such-chat/answer",
        lambda c: {"text": "您好，请问有什么可以帮您？"},
        audit_tested_in="tests/chatbot/test_conversations.py",
    ),
    ("POST", "api/v1/admin/chat/handoffs/<handle:str>/hand-back"): Rule(
        ("admin", "supervisor"),
        lambda c: "/api/v1/admin/chat/handoffs/no-such-chat/hand-back",
        audit_tested_in="tests/chatbot/test_conversations.py",
    ),
    ("GET", "admin"): Rule((), lambda c: "/admin", public=True),
    ("GET", "admin/<__file_uri__:path>"): Rule((), lambda c: "/admin/index.html", public=True),
}


def _served_admin_routes(app) -> set[tuple[str, str]]:
    served = set()
    for route in app.router.routes:
        if route.path == "admin" or route.path.startswith(("admin/", "api/v1/admin")):
            methods = set(route.methods) - {"HEAD", "OPTIONS"}
            served |= {(method, route.path) for method in methods}
    return served


def test_every_admin_route_is_in_the_role_table(server):
    served = _served_admin_routes(server.app)

    assert served - set(ROUTES) == set(), "admin routes without a role rule in this test"
    assert set(ROUTES) - served == set(), "rules for routes the app no longer serves"


async def _call(server, method: str, rule: Rule, cast, who: str) -> int:
    """The status of one call; an event stream is closed as soon as its status is known."""
    kwargs: dict[str, Any] = {"headers": cast[who]}
    if rule.body is not None:
        kwargs["json"] = rule.body(cast)
    async with server.client.stream(method, rule.path(cast), **kwargs) as answer:
        if answer.status_code >= 400:
            await answer.aread()
            assert answer.headers["content-type"].startswith("application/json")
            assert "error" in answer.json(), answer.text
        return answer.status_code


async def _refusals_of(server, cast, method: str, rule: Rule) -> list[str]:
    """What is wrong with one route's answers to each kind of caller (empty when all is right)."""
    problems = []
    if rule.public:
        if await _call(server, method, rule, cast, "anonymous") in (401, 403):
            problems.append("a public route refused an anonymous caller")
        return problems
    expected = {"anonymous": 401, "visitor": 403}
    for who in STAFF:
        if who not in rule.allowed:
            # Another venue's manager finds venue A "not found"; everyone else is forbidden.
            expected[who] = 404 if rule.venue_scoped and who == "manager_b" else 403
    for who, status in expected.items():
        got = await _call(server, method, rule, cast, who)
        if got != status:
            problems.append(f"{who}: {got}, expected {status}")
    for who in rule.allowed:
        got = await _call(server, method, rule, cast, who)
        if got in (401, 403) or got >= 500:
            problems.append(f"{who} (allowed): {got}")
    return problems


async def test_every_route_refuses_the_wrong_role_and_other_venues(server, cast):
    # One server for all routes: starting one per route would take minutes.
    problems = {
        f"{method} {pattern}": found
        for (method, pattern), rule in ROUTES.items()
        if (found := await _refusals_of(server, cast, method, rule))
    }

    assert problems == {}


async def test_a_venue_manager_lists_only_their_own_venue(server, cast):
    answer = await server.client.get("/api/v1/admin/venues", headers=cast["manager_b"])

    assert [venue["id"] for venue in answer.json()] == [cast.venue_b.id]
    everyone = await server.client.get("/api/v1/admin/venues", headers=cast["admin"])
    assert {venue["id"] for venue in everyone.json()} >= {cast.venue_a.id, cast.venue_b.id}


async def test_every_successful_write_is_in_the_audit_log(server, cast):
    missing = []
    for (method, pattern), rule in ROUTES.items():
        if not rule.audited:
            continue
        if method == "DELETE":  # reopening needs a closed day first
            create = ROUTES[("POST", "api/v1/admin/venues/<venue_id:int>/closing-days")]
            await _call(server, "POST", create, cast, "admin")
        before = await AuditEntry.all().count()
        status = await _call(server, method, rule, cast, "admin")
        entry = await AuditEntry.all().order_by("-id").first()
        if status >= 300 or await AuditEntry.all().count() != before + 1:
            missing.append(f"{method} {pattern}: {status}")
        elif entry.actor_role != "admin" or not entry.request_id:
            missing.append(f"{method} {pattern}: entry without actor or request id")

    assert missing == []


def test_writes_are_all_audited():
    writes = {
        key
        for key, rule in ROUTES.items()
        if key[0] != "GET" and not rule.public and not rule.audit_tested_in
    }

    assert writes <= {key for key, rule in ROUTES.items() if rule.audited}
