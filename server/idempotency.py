"""Idempotency-Key handling: a retried request gets the first answer, not a second booking.

Records live in Redis (they may be lost: the per-person daily claim still stops a double booking
when Redis is gone; the retry then gets a clear "already booked" instead of the first answer).
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
    record_key = f"idem:{scope}:{key}"
    running = json.dumps({"state": "running", "fp": request_fingerprint})
    try:
        claimed = await redis.set(record_key, running, nx=True, ex=RUNNING_TTL_SECONDS)
        if not claimed:
            return _stored_answer(await redis.get(record_key), request_fingerprint)
    except RedisError:
        log.warning("Redis unavailable: running the request without its idempotency record")
        return await work()
    try:
        status, body = await work()
    except BaseException:
        await _forget(redis, record_key)
        raise
    await store_answer(
        redis, scope=scope, key=key, request_fingerprint=request_fingerprint, answer=(status, body)
    )
    return status, body


async def store_answer(
    redis: Redis, *, scope: str, key: str, request_fingerprint: str, answer: Answer
) -> None:
    """Record `answer` as what a retry of (scope, key) gets, e.g. a queued request's outcome."""
    status, body = answer
    done = {"state": "done", "fp": request_fingerprint, "status": status, "body": body}
    try:
        await redis.set(
            f"idem:{scope}:{key}", json.dumps(done, ensure_ascii=False), ex=ANSWER_TTL_SECONDS
        )
    except RedisError:
        log.warning("Redis unavailable: the idempotency record of a finished request is lost")


def _stored_answer(raw: str | None, request_fingerprint: str) -> Answer:
    if raw is None:
        # The first request failed and released the key between our two calls.
        raise IdempotencyInProgress()
    record = json.loads(raw)
    if record["fp"] != request_fingerprint:
        raise IdempotencyKeyReused()
    if record["state"] != "done":
        raise IdempotencyInProgress()
    return record["status"], record["body"]


async def _forget(redis: Redis, record_key: str) -> None:
    try:
        await redis.delete(record_key)
    except RedisError:
        log.warning("Redis unavailable: an idempotency record expires on its own")
