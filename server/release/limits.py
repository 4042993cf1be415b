"""Anti-scalping limits: daily quotas per account and per person, request rates per account and
device, and the trail of refusals they make."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import NoReturn

from redis.asyncio import Redis
from redis.exceptions import RedisError
from tortoise.backends.base.client import BaseDBAsyncClient

from server import ratelimit
from server.clock import local_now
from server.config import Settings
from server.errors import AppError
from server.release.errors import QuotaReached
from server.release.models import BookingRefusal, QuotaKind
from server.reservations import sql

log = logging.getLogger("etour.release.limits")


@dataclass(frozen=True)
class BookingLimits:
    """The anti-scalping rules in force (from the settings)."""

    reservations_per_account_day: int = 4
    venues_per_person_day: int = 3
    requests_per_account_minute: int = 20
    requests_per_device_minute: int = 60
    hold_minutes: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> BookingLimits:
        """The limits the settings set."""
        return cls(
            reservations_per_account_day=settings.reservations_per_account_day,
            venues_per_person_day=settings.venues_per_person_day,
            requests_per_account_minute=settings.booking_requests_per_account_minute,
            requests_per_device_minute=settings.booking_requests_per_device_minute,
            hold_minutes=settings.hold_minutes,
        )


# One statement for the account and every person of the party (`:people`, a JSON list of
# {"id_number_hash": ...}, so one text serves every party size): a row at its limit is left as
# it is (the DO UPDATE's WHERE), so fewer rows come back than were offered and the booking is
# refused inside its transaction. Quota rows are per account or person: never a hot row.
# The PostgreSQL text is also a part of the booking's single statement (reservations.service).
CLAIM_QUOTAS = {
    "postgres": (
        "INSERT INTO booking_quota (kind, subject, date, used) "
        "SELECT 'account', CAST(:account AS VARCHAR), CAST(:day AS DATE), 1 "
        "UNION ALL SELECT 'person', person.id_number_hash, CAST(:day AS DATE), 1 "
        "FROM jsonb_to_recordset(CAST(:people AS JSONB)) AS person(id_number_hash TEXT) "
        "ON CONFLICT (kind, subject, date) DO UPDATE SET used = booking_quota.used + 1 "
        "WHERE booking_quota.used < CASE booking_quota.kind "
        "WHEN 'account' THEN CAST(:account_limit AS INTEGER) "
        "ELSE CAST(:person_limit AS INTEGER) END RETURNING kind"
    ),
    # SQLite's upsert needs the WHERE after a SELECT ... FROM (else ON reads as a join's).
    "sqlite": (
        "INSERT INTO booking_quota (kind, subject, date, used) "
        "SELECT 'account', :account, :day, 1 "
        "UNION ALL SELECT 'person', json_extract(value, '$.id_number_hash'), :day, 1 "
        "FROM json_each(:people) WHERE TRUE "
        "ON CONFLICT (kind, subject, date) DO UPDATE SET used = booking_quota.used + 1 "
        "WHERE booking_quota.used < CASE booking_quota.kind "
        "WHEN 'account' THEN :account_limit ELSE :person_limit END RETURNING kind"
    ),
}
# Which of the account and the party's people are at their limit (placeholders only: no values).
_AT_LIMIT = (
    "SELECT kind, subject FROM booking_quota WHERE date = $1 AND "
    "((kind = 'account' AND subject = $2 AND used >= CAST($3 AS INTEGER)) OR "
    "(kind = 'person' AND used >= CAST($4 AS INTEGER) AND subject IN ({party})))"
)
_RETURN_QUOTA = (
    "UPDATE booking_quota SET used = used - 1 WHERE date = $1 AND used > 0 "
    "AND ((kind = 'account' AND subject = $2) OR (kind = 'person' AND subject IN ({people})))"
)


def quota_values(*, limits: BookingLimits, visitor_id: int, day: date) -> dict[str, object]:
    """CLAIM_QUOTAS' values but `people` (the booking's statement has that already)."""
    return {
        "account": str(visitor_id),
        "day": day,
        "account_limit": limits.reservations_per_account_day,
        "person_limit": limits.venues_per_person_day,
    }


def quotas_wanted(id_hashes: list[str]) -> int:
    """How many quota rows a claim for these people counts: the account's and each person's."""
    return 1 + len(id_hashes)


async def refuse_quotas(
    connection: BaseDBAsyncClient | None,
    *,
    limits: BookingLimits,
    visitor_id: int,
    id_hashes: list[str],
    day: date,
) -> NoReturn:
    """QuotaReached for a claim that counted fewer rows than it offered, naming who is at the
    limit: the account first, else the first person of the party."""
    party = ", ".join(f"${i + 5}" for i in range(len(id_hashes))) or "NULL"
    full = await sql.fetch_rows(
        _AT_LIMIT.format(party=party),
        [
            day,
            str(visitor_id),
            limits.reservations_per_account_day,
            limits.venues_per_person_day,
            *id_hashes,
        ],
        connection,
    )
    if any(row["kind"] == QuotaKind.ACCOUNT for row in full):
        raise QuotaReached(rule="account_day", limit=limits.reservations_per_account_day)
    at_limit = {row["subject"] for row in full}
    position = next((i for i, h in enumerate(id_hashes) if h in at_limit), 0)
    raise QuotaReached(rule="person_day", limit=limits.venues_per_person_day, visitor=position + 1)


async def return_quotas(
    connection: BaseDBAsyncClient, *, visitor_id: int, id_hashes: list[str], day: date
) -> None:
    """Give a cancelled reservation's quota back to its account and people."""
    people = ", ".join(f"${i + 3}" for i in range(len(id_hashes))) or "NULL"
    await sql.execute(
        _RETURN_QUOTA.format(people=people), [day, str(visitor_id), *id_hashes], connection
    )


BOOKING_RATE_WINDOW_SECONDS = 60


def booking_rates(*, limits: BookingLimits, visitor_id: int, device: str) -> list[ratelimit.Limit]:
    """The rate limits a booking or hold request counts against: its account's and device's.

    `device` is "" when the client named none. There is deliberately no limit per address: a
    mobile carrier's NAT puts thousands of visitors behind one, exactly in a flash crowd.
    """
    counted = [("book-account", str(visitor_id), limits.requests_per_account_minute)]
    if device:
        counted.append(("book-device", device, limits.requests_per_device_minute))
    return counted


# --- the refusal trail ---------------------------------------------------------------------------
# A flash crowd can refuse thousands of requests a second: each refusal is pushed to a Redis list
# (one round trip) and written to the database in batches by `keep_refusals_saved`.
_REFUSALS = "release:refusals"
_REFUSALS_KEPT = 200_000  # beyond this backlog the oldest are dropped rather than Redis filling
FLUSH_INTERVAL_SECONDS = 2.0
_BATCH = 500


async def record_refusal(
    redis: Redis,
    refusal: AppError,
    *,
    visitor_id: int | None,
    slot_id: int | None,
    device: str,
    now: datetime | None = None,
) -> None:
    """Note an anti-scalping refusal for the bureau's trail (never fails the request)."""
    entry = {
        "at": (now or local_now()).isoformat(),
        "rule": str(refusal.params.get("rule") or refusal.params.get("limit") or refusal.code),
        "visitor_id": visitor_id,
        "slot_id": slot_id,
        "device": device,
        "detail": refusal.code,
    }
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.lpush(_REFUSALS, json.dumps(entry))
            pipe.ltrim(_REFUSALS, 0, _REFUSALS_KEPT - 1)
            await pipe.execute()
    except RedisError:
        log.warning("Redis unavailable: a refusal (%s) is not in the trail", entry["rule"])


async def save_refusals(redis: Redis) -> int:
    """Move the waiting refusals from Redis into the database, oldest first; return how many."""
    saved = 0
    while True:
        raw = await redis.rpop(_REFUSALS, _BATCH)
        if not raw:
            return saved
        entries = [json.loads(item) for item in raw]
        await BookingRefusal.bulk_create(
            [
                BookingRefusal(
                    at=datetime.fromisoformat(entry["at"]),
                    rule=entry["rule"][:32],
                    visitor_id=entry["visitor_id"],
                    slot_id=entry["slot_id"],
                    device=entry["device"],
                    detail=entry["detail"][:200],
                )
                for entry in entries
            ]
        )
        saved += len(entries)


async def list_refusals(
    *, rule: str | None, visitor_id: int | None, since: datetime | None, limit: int
) -> list[BookingRefusal]:
    """The saved refusals, newest first, narrowed by rule, visitor and time."""
    found = BookingRefusal.all()
    if rule:
        found = found.filter(rule=rule)
    if visitor_id:
        found = found.filter(visitor_id=visitor_id)
    if since:
        found = found.filter(at__gte=since)
    return await found.order_by("-at", "-id").limit(limit)
