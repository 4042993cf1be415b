"""Accounts: visitors signing in through WeChat, staff with hashed passwords and lockout."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from server.accounts import errors
from server.accounts.models import Role, StaffUser, Visitor
from server.accounts.wechat import MiniProgramLogin
from server.errors import TokenInvalid
from server.reservations import sql
from server.venues import service as venues

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MAX_ACTIVE_STAFF_SEEN = 10_000
VENUE_ROLES = frozenset({Role.VENUE_MANAGER, Role.VENUE_STAFF})

_hasher = PasswordHasher()
# Verifying against this when the username is unknown keeps both answers equally slow.
_DUMMY_HASH = _hasher.hash("etour-no-such-user")


async def login_visitor(*, code: str, wechat: MiniProgramLogin, now: datetime) -> Visitor:
    """Exchange a wx.login code with WeChat and find or create the visitor by openid."""
    session = await wechat.code_to_session(code)
    try:
        visitor, _ = await Visitor.get_or_create(
            openid=session.openid, defaults={"unionid": session.unionid}
        )
    except IntegrityError:
        # Two first logins of one person raced; the other request created the row.
        visitor = await Visitor.get(openid=session.openid)
    visitor.last_login_at = now
    if session.unionid and visitor.unionid != session.unionid:
        visitor.unionid = session.unionid
    await visitor.save(update_fields=["last_login_at", "unionid"])
    return visitor


async def create_staff_user(
    *, username: str, password: str, role: Role | str, venue_code: str | None = None
) -> StaffUser:
    """Create a staff account; venue roles must name their venue, others must not."""
    try:
        role = Role(role)
    except ValueError:
        choices = [r.value for r in Role]
        raise errors.InvalidStaffAccount(detail=f"role must be one of {choices}") from None
    username = username.strip()
    if not username or len(username) > 64:
        raise errors.InvalidStaffAccount(detail="username must be 1 to 64 characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise errors.InvalidStaffAccount(
            detail=f"password must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    venue = None
    if role in VENUE_ROLES:
        if not venue_code:
            raise errors.InvalidStaffAccount(detail=f"role {role} needs --venue")
        venue = await venues.get_venue_by_code(venue_code)
    elif venue_code:
        raise errors.InvalidStaffAccount(detail=f"role {role} is not tied to a venue")
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    try:
        return await StaffUser.create(
            username=username, password_hash=password_hash, role=role, venue=venue
        )
    except IntegrityError:
        raise errors.UsernameTaken(username=username) from None


async def login_staff(*, username: str, password: str, now: datetime) -> StaffUser:
    """Check a staff password; five failures in a row lock the account for fifteen minutes."""
    staff = await StaffUser.get_or_none(username=username.strip())
    if staff is None:
        await asyncio.to_thread(_verify, _DUMMY_HASH, password)
        raise errors.LoginFailed()
    if staff.locked_until and staff.locked_until > now:
        raise errors.AccountLocked(until=staff.locked_until.isoformat(timespec="minutes"))
    if not await asyncio.to_thread(_verify, staff.password_hash, password):
        # Counted in the database: parallel guesses must not overwrite each other's count.
        await StaffUser.filter(id=staff.id).update(failed_logins=F("failed_logins") + 1)
        await StaffUser.filter(id=staff.id, failed_logins__gte=MAX_FAILED_LOGINS).update(
            locked_until=now + LOCKOUT, failed_logins=0
        )
        raise errors.LoginFailed()
    if not staff.is_active:
        raise errors.AccountDisabled()
    staff.failed_logins, staff.locked_until, staff.last_login_at = 0, None, now
    await staff.save(update_fields=["failed_logins", "locked_until", "last_login_at"])
    return staff


async def get_visitor(*, visitor_id: int) -> Visitor:
    """The visitor behind a session token (gone visitors are refused like bad tokens)."""
    visitor = await Visitor.get_or_none(id=visitor_id)
    if visitor is None:
        raise TokenInvalid()
    return visitor


async def get_staff(*, staff_id: int) -> StaffUser:
    """An active staff account by id."""
    staff = await StaffUser.get_or_none(id=staff_id, is_active=True)
    if staff is None:
        raise errors.AccountDisabled()
    return staff


# Every staff request runs this (a gate scans hundreds of times a minute): one fixed statement,
# not a query the ORM builds anew each time.
_STAFF_IS_ACTIVE = "SELECT 1 FROM staff_user WHERE id = $1 AND is_active = $2"


async def ensure_staff_active(*, staff_id: int) -> None:
    """Refuse a staff token whose account is gone or disabled."""
    if not await sql.fetch_rows(_STAFF_IS_ACTIVE, [staff_id, True]):
        raise errors.AccountDisabled()


async def set_staff_active(*, staff_id: int, is_active: bool) -> None:
    """Enable or disable a staff account; disabled, its tokens stop working (see ActiveStaff)."""
    await StaffUser.filter(id=staff_id).update(is_active=is_active)
    ActiveStaff.changes += 1


# How long a process trusts that a staff account it found active still is. A busy gate scans
# several times a second, each scan a request: this spares most of them a database round trip.
# A process that disables an account forgets at once; the other processes within this time.
ACTIVE_STAFF_SECONDS = 2.0


class ActiveStaff:
    """Staff accounts one app found active within ACTIVE_STAFF_SECONDS (see ensure)."""

    # Accounts enabled or disabled by this process so far: what was seen before the last
    # change is forgotten, so the change counts at once here.
    changes = 0

    def __init__(self, seconds: float = ACTIVE_STAFF_SECONDS) -> None:
        self.seconds = seconds
        self._seen: dict[int, tuple[int, float]] = {}  # staff id -> (changes then, until)

    async def ensure(self, staff_id: int) -> None:
        """Like ensure_staff_active, asking the database at most every few seconds per account."""
        now, changes = time.monotonic(), ActiveStaff.changes
        seen = self._seen.get(staff_id)
        if seen is not None and seen[0] == changes and now < seen[1]:
            return
        await ensure_staff_active(staff_id=staff_id)
        if len(self._seen) >= MAX_ACTIVE_STAFF_SEEN:
            self._seen.clear()
        # Stamped with the changes counted before asking: one made meanwhile forgets this too.
        self._seen[staff_id] = (changes, now + self.seconds)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
