"""The `requires(...)` role decorator, called directly with a stand-in request object."""

from __future__ import annotations

import asyncio
import base64
import time
from types import SimpleNamespace

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from server import errors
from server.accounts import errors as account_errors
from server.accounts import service
from server.accounts.models import Role, StaffUser
from server.auth import VISITOR, Principal, issue_session_token, requires
from server.signing import TokenSigner

SIGNER = TokenSigner(b"roles-test-secret-0123456789abcdef")
OTHER_SIGNER = TokenSigner(b"another-test-secret-0123456789abcd")
HOUR = 3600


def fake_app(signer: TokenSigner = SIGNER) -> SimpleNamespace:
    """What requires() and issue_session_token() read from the app: the signer and the token TTL."""
    settings = SimpleNamespace(token_ttl_seconds=HOUR)
    return SimpleNamespace(ctx=SimpleNamespace(signer=signer, settings=settings))


def fake_request(authorization: str | None = None) -> SimpleNamespace:
    headers = {} if authorization is None else {"authorization": authorization}
    return SimpleNamespace(headers=headers, app=fake_app(), ctx=SimpleNamespace())


def bearer(principal: Principal, *, signer: TokenSigner = SIGNER) -> str:
    return f"Bearer {issue_session_token(fake_app(signer), principal)}"


def expired_bearer(principal: Principal) -> str:
    claims = {"role": principal.role, "uid": principal.user_id, "venue": principal.venue_id}
    token = SIGNER.sign(purpose="session", claims=claims, ttl_seconds=60, now=time.time() - HOUR)
    return f"Bearer {token}"


class RecordingHandler:
    """An async route handler that remembers whether it ran."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, request: SimpleNamespace) -> str:
        self.calls += 1
        return "handled"


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def admin_only(handler: RecordingHandler):
    return requires("admin")(handler)


async def make_admin(*, active: bool = True) -> Principal:
    staff = await service.create_staff_user(
        username="admin.li", password="correct horse battery", role=Role.ADMIN
    )
    if not active:
        await StaffUser.filter(id=staff.id).update(is_active=False)
    return Principal(role=Role.ADMIN.value, user_id=staff.id)


VISITOR_42 = Principal(role=VISITOR, user_id=42)


# --- refusals that need no database --------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "refusal"),
    [
        (None, errors.AuthRequired),
        ("", errors.AuthRequired),
        ("Bearer", errors.AuthRequired),
        ("Bearer    ", errors.AuthRequired),
        ("Basic YWRtaW46cGFzc3dvcmQ=", errors.AuthRequired),
        ("Token abc.def", errors.AuthRequired),
        ("Bearer not-a-token", errors.TokenInvalid),
        ("Bearer abc.def", errors.TokenInvalid),
    ],
    ids=[
        "no-header",
        "empty-header",
        "scheme-only",
        "blank-token",
        "basic-auth",
        "other-scheme",
        "no-signature",
        "garbage-token",
    ],
)
async def test_a_missing_or_malformed_authorization_is_refused(
    admin_only, handler, authorization, refusal
):
    with pytest.raises(refusal):
        await admin_only(fake_request(authorization))
    assert handler.calls == 0


async def test_a_token_signed_with_another_key_is_invalid(admin_only, handler):
    forged = bearer(VISITOR_42, signer=TokenSigner(b"someone-elses-secret-0123456789abc"))

    with pytest.raises(errors.TokenInvalid):
        await admin_only(fake_request(forged))
    assert handler.calls == 0


async def test_a_token_for_another_purpose_is_invalid(admin_only, handler):
    claims = {"role": "admin", "uid": 1, "venue": None}
    ticket = SIGNER.sign(purpose="ticket", claims=claims, ttl_seconds=HOUR, now=time.time())

    with pytest.raises(errors.TokenInvalid):
        await admin_only(fake_request(f"Bearer {ticket}"))


async def test_an_expired_token_is_refused_as_expired(admin_only, handler):
    with pytest.raises(errors.TokenExpired):
        await admin_only(fake_request(expired_bearer(VISITOR_42)))
    assert handler.calls == 0


async def test_a_visitor_cannot_use_an_admin_route(admin_only, handler):
    with pytest.raises(errors.Forbidden):
        await admin_only(fake_request(bearer(VISITOR_42)))
    assert handler.calls == 0


async def test_a_visitor_route_lets_a_visitor_in(handler):
    request = fake_request(bearer(VISITOR_42))

    assert await requires(VISITOR)(handler)(request) == "handled"
    assert request.ctx.principal == VISITOR_42


def test_unknown_role_names_are_refused_when_decorating():
    with pytest.raises(ValueError, match="superuser"):
        requires("admin", "superuser")


def test_role_members_and_role_names_are_both_accepted():
    requires(Role.ADMIN, "supervisor", VISITOR)


def test_the_decorated_handler_keeps_its_name():
    async def list_reservations(request):
        return None

    assert requires("admin")(list_reservations).__name__ == "list_reservations"


# --- staff tokens, checked against the account ------------------------------------------------


async def test_an_admin_gets_in_and_the_handler_sees_the_principal(database, admin_only, handler):
    admin = await make_admin()
    request = fake_request(bearer(admin))

    assert await admin_only(request) == "handled"
    assert handler.calls == 1
    assert request.ctx.principal == admin


async def test_a_staff_member_with_another_role_is_forbidden(database, handler):
    admin = await make_admin()

    with pytest.raises(errors.Forbidden):
        await requires(Role.SUPERVISOR)(handler)(fake_request(bearer(admin)))
    assert handler.calls == 0


async def test_a_deactivated_account_loses_access_before_its_token_expires(
    database, admin_only, handler
):
    admin = await make_admin(active=False)

    with pytest.raises(account_errors.AccountDisabled):
        await admin_only(fake_request(bearer(admin)))
    assert handler.calls == 0


async def test_a_token_of_a_deleted_account_is_refused(database, admin_only, handler):
    admin = await make_admin()
    await StaffUser.filter(id=admin.user_id).delete()

    with pytest.raises(account_errors.AccountDisabled):
        await admin_only(fake_request(bearer(admin)))


# --- what a process remembers between requests ---------------------------------------------------


def test_a_remembered_session_token_still_expires():
    token = SIGNER.sign(purpose="session", claims={"uid": 7}, ttl_seconds=60, now=1_000)
    assert SIGNER.verify(token, purpose="session", now=1_001, remember=True)["uid"] == 7
    assert SIGNER.verify(token, purpose="session", now=1_002, remember=True)["uid"] == 7
    with pytest.raises(errors.TokenExpired):
        SIGNER.verify(token, purpose="session", now=1_060, remember=True)


def test_a_remembered_token_is_still_refused_for_another_purpose_or_key():
    token = SIGNER.sign(purpose="session", claims={"uid": 7}, ttl_seconds=60, now=time.time())
    SIGNER.verify(token, purpose="session", now=time.time(), remember=True)
    with pytest.raises(errors.TokenInvalid):
        SIGNER.verify(token, purpose="ticket", now=time.time(), remember=True)
    with pytest.raises(errors.TokenInvalid):
        OTHER_SIGNER.verify(token, purpose="session", now=time.time(), remember=True)


def test_a_forged_token_is_refused_every_time_it_comes_back():
    token = SIGNER.sign(purpose="session", claims={"uid": 7}, ttl_seconds=60, now=time.time())
    body, _, signature = token.partition(".")
    forged = f"{body}.{signature[::-1]}"
    for _ in range(2):
        with pytest.raises(errors.TokenInvalid):
            SIGNER.verify(forged, purpose="session", now=time.time(), remember=True)


async def test_an_account_disabled_by_this_process_is_refused_at_once(database):
    admin = await make_admin()
    active_staff = service.ActiveStaff(seconds=60)
    await active_staff.ensure(admin.user_id)
    await service.set_staff_active(staff_id=admin.user_id, is_active=False)
    with pytest.raises(account_errors.AccountDisabled):
        await active_staff.ensure(admin.user_id)


async def test_an_account_disabled_by_another_process_is_refused_within_seconds(database):
    admin = await make_admin()
    active_staff = service.ActiveStaff(seconds=0.2)
    await active_staff.ensure(admin.user_id)
    # Another process's change: this one learns it when its trust of a few seconds runs out.
    await StaffUser.filter(id=admin.user_id).update(is_active=False)
    await active_staff.ensure(admin.user_id)
    await asyncio.sleep(0.25)
    with pytest.raises(account_errors.AccountDisabled):
        await active_staff.ensure(admin.user_id)


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_session_token_is_checked_by_this_service_alone_and_a_ticket_by_its_public_key():
    # Session tokens: HMAC, which only the servers' secret checks (a gate's public key cannot).
    session = SIGNER.sign(purpose="session", claims={"uid": 7}, ttl_seconds=60, now=time.time())
    body, _, signature = session.partition(".")
    public_key = Ed25519PublicKey.from_public_bytes(_b64decode(SIGNER.public_key_b64))
    with pytest.raises(InvalidSignature):
        public_key.verify(_b64decode(signature), f"session.{body}".encode())
    # Ticket QR texts: Ed25519, which a gate device checks offline with the public key.
    ticket = SIGNER.sign(purpose="ticket", claims={"t": 1}, ttl_seconds=60, now=time.time())
    body, _, signature = ticket.partition(".")
    public_key.verify(_b64decode(signature), f"ticket.{body}".encode())
    # And a ticket's token is no session token.
    swapped = SIGNER.sign(purpose="ticket", claims={"uid": 7}, ttl_seconds=60, now=time.time())
    with pytest.raises(errors.TokenInvalid):
        SIGNER.verify(swapped, purpose="session", now=time.time())
