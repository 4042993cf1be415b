"""Fixed-window request counting in Redis: the one rate limiter (bookings, holds, logins)."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.errors import RateLimited

log = logging.getLogger("etour.ratelimit")


async def count_request(redis: Redis, *, name: str, subject: str, limit: int, window: int) -> None:
    """Count one request of `subject` under the limit `name`; RateLimited (429) beyond `limit`.

    A window of `window` seconds starts at the subject's first request. Redis being down lets
    requests through (the database's own rules still hold): a limiter must not be an outage.
    """
    key = f"rl:{name}:{subject}"
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, count, seconds_left = await pipe.execute()
    except RedisError:
        log.warning("Redis unavailable: rate limit %s not applied", name)
        return
    if count > limit:
        raise RateLimited(limit=name, retry_after=max(int(seconds_left), 1))
