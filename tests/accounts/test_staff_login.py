"""Staff accounts: creation rules (service level) and sign-in (POST /api/v1/admin/login)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from factories import make_venue

from server.accounts import errors, service
from server.accounts.models import Role, StaffUser
from server.clock import LOCAL_TZ, local_now

LOGIN = "/api/v1/admin/login"
PASSWORD = "correct horse battery"


async def make_staff(username: str = "zhang.wei", role: Role = Role.ADMIN, **fields) -> StaffUser:
    """A staff account with PASSWORD; venue roles get a fresh venue unless one is named."""
    if role in service.VENUE_ROLES and "venue_code" not in fields:
        fields["venue_code"] = (await make_venue()).code
    return await service.create_staff_user(
        username=username, password=PASSWORD, role=role, **fields
    )


async def log_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


def assert_refused(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


# --- signing in over HTTP ------------------------------------------------------------------------


async def test_an_admin_signs_in_with_the_right_password(server, client):
    admin = await make_staff("admin.li", Role.ADMIN)

    answer = await log_in(client, "admin.li", PASSWORD)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["role"] == "admin"
    assert body["venue_id"] is None
    assert body["expires_in"] == server.app.ctx.settings.token_ttl_seconds
    claims = server.app.ctx.signer.verify(body["token"], purpose="session", now=time.time())
    assert (claims["role"], claims["uid"]) == ("admin", admin.id)


async def test_venue_staff_sign_in_with_their_venue(client):
    staff = await make_staff("gate.wang", Role.VENUE_STAFF)

    answer = await log_in(client, "gate.wang", PASSWORD)

    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "venue_staff"
    assert answer.json()["venue_id"] == staff.venue_id is not None


async def test_a_wrong_password_is_refused(client):
    await make_staff("admin.li")

    assert_refused(await log_in(client, "admin.li", "not the password"), 401, "login_failed")


async def test_an_unknown_user_gets_the_same_refusal_as_a_wrong_password(client):
    assert_refused(await log_in(client, "nobody", PASSWORD), 401, "login_failed")


async def test_five_wrong_passwords_lock_the_account(client):
    await make_staff("admin.li")
    for _ in range(service.MAX_FAILED_LOGINS):
        assert_refused(await log_in(client, "admin.li", "guess"), 401, "login_failed")

    assert_refused(await log_in(client, "admin.li", "guess"), 429, "account_locked")
    assert_refused(await log_in(client, "admin.li", PASSWORD), 429, "account_locked")


async def test_wrong_passwords_sent_in_parallel_still_lock_the_account(client):
    await make_staff("admin.li")
    attempts = [
        log_in(client, "admin.li", f"guess-{n}") for n in range(2 * service.MAX_FAILED_LOGINS)
    ]
    await asyncio.gather(*attempts)

    assert_refused(await log_in(client, "admin.li", PASSWORD), 429, "account_locked")


async def test_a_success_forgives_earlier_failures(client):
    await make_staff("admin.li")
    for _ in range(service.MAX_FAILED_LOGINS - 1):
        await log_in(client, "admin.li", "guess")
    assert (await log_in(client, "admin.li", PASSWORD)).status_code == 200

    assert_refused(await log_in(client, "admin.li", "guess"), 401, "login_failed")
    assert (await log_in(client, "admin.li", PASSWORD)).status_code == 200


async def test_a_disabled_account_cannot_sign_in(client):
    staff = await make_staff("admin.li")
    await StaffUser.filter(id=staff.id).update(is_active=False)

    assert_refused(await log_in(client, "admin.li", PASSWORD), 403, "account_disabled")


async def test_the_lockout_message_says_until_when(client):
    await make_staff("admin.li")
    for _ in range(service.MAX_FAILED_LOGINS):
        await log_in(client, "admin.li", "guess")

    answer = await client.post(
        LOGIN, json={"username": "admin.li", "password": PASSWORD}, params={"lang": "en"}
    )

    locked_until = (await StaffUser.get(username="admin.li")).locked_until.astimezone(LOCAL_TZ)
    message = answer.json()["error"]["message"]
    assert message.startswith("Too many failed sign-ins")
    assert locked_until.isoformat(timespec="minutes") in message


# --- the lockout over time (service level, with an explicit clock) ------------------------------


async def test_the_lock_lifts_after_fifteen_minutes(database):
    await make_staff("admin.li")
    start = local_now()
    for _ in range(service.MAX_FAILED_LOGINS):
        with pytest.raises(errors.LoginFailed):
            await service.login_staff(username="admin.li", password="guess", now=start)

    with pytest.raises(errors.AccountLocked):
        await service.login_staff(
            username="admin.li", password=PASSWORD, now=start + timedelta(minutes=14)
        )
    staff = await service.login_staff(
        username="admin.li", password=PASSWORD, now=start + service.LOCKOUT + timedelta(seconds=1)
    )
    assert staff.username == "admin.li"


# --- creating accounts ---------------------------------------------------------------------------


async def test_the_password_is_stored_as_an_argon2_hash(database):
    staff = await make_staff("admin.li")

    stored = (await StaffUser.get(id=staff.id)).password_hash
    assert stored.startswith("$argon2")
    assert PASSWORD not in stored


async def test_a_password_shorter_than_ten_characters_is_refused(database):
    with pytest.raises(errors.InvalidStaffAccount):
        await service.create_staff_user(username="admin.li", password="123456789", role="admin")
    assert not await StaffUser.exists(username="admin.li")


async def test_a_venue_role_needs_a_venue(database):
    with pytest.raises(errors.InvalidStaffAccount):
        await service.create_staff_user(username="gate.wang", password=PASSWORD, role="venue_staff")


async def test_a_bureau_role_cannot_be_tied_to_a_venue(database):
    venue = await make_venue()

    with pytest.raises(errors.InvalidStaffAccount):
        await make_staff("admin.li", Role.ADMIN, venue_code=venue.code)


async def test_an_unknown_role_is_refused(database):
    with pytest.raises(errors.InvalidStaffAccount):
        await service.create_staff_user(username="root", password=PASSWORD, role="superuser")


async def test_a_username_can_be_taken_only_once(database):
    await make_staff("admin.li")

    with pytest.raises(errors.UsernameTaken):
        await make_staff("admin.li", Role.SUPERVISOR)


@pytest.mark.parametrize("settings_overrides", [{"login_attempts_per_address_minute": 3}])
async def test_one_address_trying_many_accounts_is_slowed_down_with_429(server, client):
    await make_staff("admin.wu", Role.ADMIN)
    for username in ("guess.1", "guess.2", "guess.3"):
        assert_refused(await log_in(client, username, "wrong"), 401, "login_failed")
    # The fourth attempt in the minute is refused before any password is checked, right or not.
    limited = await log_in(client, "admin.wu", PASSWORD)
    assert_refused(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
