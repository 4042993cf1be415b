"""Who-am-I endpoints: a token only opens its own kind of door."""

from __future__ import annotations

from server.accounts import service as accounts
from server.accounts.models import Visitor
from server.auth import VISITOR, Principal, issue_session_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_visitor_token_reads_the_visitor_and_not_the_admin_side(server):
    visitor = await Visitor.create(openid="o-visitor-1", nickname="小温")
    token = issue_session_token(server.app, Principal(role=VISITOR, user_id=visitor.id))
    me = await server.client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["id"] == visitor.id
    admin_side = await server.client.get("/api/v1/admin/me", headers=bearer(token))
    assert admin_side.status_code == 403
    assert admin_side.json()["error"]["code"] == "forbidden"


async def test_staff_token_reads_the_admin_side_and_not_the_visitor_side(server):
    staff = await accounts.create_staff_user(
        username="inspector", password="a-long-password", role="supervisor"
    )
    login = await server.client.post(
        "/api/v1/admin/login", json={"username": "inspector", "password": "a-long-password"}
    )
    token = login.json()["token"]
    me = await server.client.get("/api/v1/admin/me", headers=bearer(token))
    assert me.json() == {"id": staff.id, "username": "inspector", "role": "supervisor",
                         "venue_id": None}  # fmt: skip
    visitor_side = await server.client.get("/api/v1/me", headers=bearer(token))
    assert visitor_side.status_code == 403


async def test_missing_forged_and_disabled_tokens_are_refused(server):
    assert (await server.client.get("/api/v1/me")).json()["error"]["code"] == "auth_required"
    forged = await server.client.get("/api/v1/me", headers=bearer("eyJ4Ijo1fQ.bm90LWEtbWFj"))
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "token_invalid"
    staff = await accounts.create_staff_user(
        username="leaver", password="a-long-password", role="admin"
    )
    token = issue_session_token(server.app, Principal(role="admin", user_id=staff.id))
    staff.is_active = False
    await staff.save()
    refused = await server.client.get("/api/v1/admin/me", headers=bearer(token))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "account_disabled"
