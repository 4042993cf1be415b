"""Idempotency-Key handling: a retried request gets the first answer, not a second booking.

Records live in Redis: "running" while the first request runs, then its answer. They may be
lost. A reservation also keeps its own Idempotency-Key (unique per visitor), so a retried booking
finds its first reservation in the database, also without Redis; the booking path therefore
stores no answer in Redis, and a retry that finds the key still "running" looks there.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.reservations.errors import IdempotencyInProgress, IdempotencyKeyReused

log = logging.getLogger("etour.idempotency")
ANSWER_TTL_SECONDS = 24 * 3600
# A request still "running" after this long died with its process; the key is free again.
RUNNING_TTL_SECONDS = 60
MAX_KEY_LENGTH = 128

Answer = tuple[int, dict[str, Any]]


def fingerprint(payload: Any) -> str:
    """A stable digest of a request body, to tell a true retry from a reused key."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_key(scope: str, key: str) -> str:
    """The Redis key of (scope, key)'s record."""
    return f"idem:{scope}:{key}"


def running_record(request_fingerprint: str) -> str:
    """The record that claims a key while its first request runs (kept RUNNING_TTL_SECONDS)."""
    return json.dumps({"state": "running", "fp": request_fingerprint})


async def answer_once(
    redis: Redis,
    *,
    scope: str,
    key: str,
    request_fingerprint: str,
    work: Callable[[], Awaitable[Answer]],
) -> Answer:
    """Run `work` once per (scope, key); a retry gets the stored answer.

    A retry with another body is IdempotencyKeyReused (422); one while the first is still running
    is IdempotencyInProgress (409). A refusal is not stored, so the client may retry the same key.
    """
    claim = record_key(scope, key)
    try:
        claimed = await redis.set(
            claim, running_record(request_fingerprint), nx=True, ex=RUNNING_TTL_SECONDS
        )
        if not claimed:
            return stored_answer(await redis.get(claim), request_fingerprint)
    except RedisError:
        log.warning("Redis unavailable: running the request without its idempotency record")
        return await work()
    return await run_claimed(
        redis, scope=scope, key=key, request_fingerprint=request_fingerprint, work=work
    )


async def run_claimed(
    redis: Redis,
    *,
    scope: str,
    key: str,
    request_fingerprint: str,
    work: Callable[[], Awaitable[Answer]],
    answer_kept_elsewhere: bool = False,
) -> Answer:
    """Run `work` for a key claimed already (by `answer_once`, or by a script that claims with
    `running_record`): store its answer for retries, or free the key when it raises.

    `answer_kept_elsewhere`: the work keeps the key with what it made (a reservation keeps its
    Idempotency-Key), and a retry that finds the key still "running" looks there: no answer is
    stored, one round trip saved.
    """
    try:
        status, body = await work()
    except BaseException:
        await _forget(redis, record_key(scope, key))
        raise
    if not answer_kept_elsewhere:
        await store_answer(
            redis,
            scope=scope,
            key=key,
            request_fingerprint=request_fingerprint,
            answer=(status, body),
        )
    return status, body


def queue_id_of(raw: str | None) -> str | None:
    """The waiting room place of a key whose first request was queued (None: it was not)."""
    return json.loads(raw).get("queue_id") if raw else None


def answer_record(request_fingerprint: str, answer: Answer) -> str:
    """The record of a finished request's answer, as a retry reads it (stored_answer)."""
    status, body = answer
    done = {"state": "done", "fp": request_fingerprint, "status": status, "body": body}
    return json.dumps(done, ensure_ascii=False)


async def store_answer(
    redis: Redis,
    *,
    scope: str,
    key: str,
    request_fingerprint: str,
    answer: Answer,
) -> None:
    """Record `answer` as what a retry of (scope, key) gets."""
    record = answer_record(request_fingerprint, answer)
    try:
        await redis.set(record_key(scope, key), record, ex=ANSWER_TTL_SECONDS)
    except RedisError:
        log.warning("Redis unavailable: the idempotency record of a finished request is lost")


def stored_answer(raw: str | None, request_fingerprint: str) -> Answer:
    """What a retry gets from its key's record `raw`: the first answer, or the refusal
    (IdempotencyInProgress while the first request runs or waits in the queue)."""
    if raw is None:
        # The first request failed and released the key between our two calls.
        raise IdempotencyInProgress()
    record = json.loads(raw)
    if record["fp"] != request_fingerprint:
        raise IdempotencyKeyReused()
    if record["state"] != "done":
        raise IdempotencyInProgress()
    return record["status"], record["body"]


async def _forget(redis: Redis, claim: str) -> None:
    try:
        await redis.delete(claim)
    except RedisError:
        log.warning("Redis unavailable: an idempotency record expires on its own")
