"""Fixed-window request counting in Redis: the one rate limiter (bookings, holds, logins)."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.errors import RateLimited

log = logging.getLogger("etour.ratelimit")

Limit = tuple[str, str, int]  # (name, subject, requests allowed per window)

# Count one request in each window: the `count` keys from KEYS[first], their limits from
# ARGV[limits_at]; stop at the first over its limit and say which (1-based), with the seconds
# its window has left, else 0, 0. A window starts at a subject's first request. Other scripts
# that count as one of their steps (the booking door's) include this function.
COUNT_REQUESTS_LUA = """
local function count_requests(first, count, limits_at, window)
  for i = 0, count - 1 do
    local key = KEYS[first + i]
    local counted = redis.call('INCR', key)
    local left = redis.call('TTL', key)
    if left < 0 then
      redis.call('EXPIRE', key, window)
      left = window
    end
    if counted > tonumber(ARGV[limits_at + i]) then return i + 1, left end
  end
  return 0, 0
end
"""
# One script, one round trip: a crowd's every request passes here. ARGV: limits, window last.
_COUNT = COUNT_REQUESTS_LUA + "return {count_requests(1, #KEYS, 1, tonumber(ARGV[#ARGV]))}"


def keys_of(limits: list[Limit]) -> list[str]:
    """The Redis counters of these limits, in their order."""
    return [f"rl:{name}:{subject}" for name, subject, _ in limits]


def refuse_if_over(limits: list[Limit], over: int, seconds_left: int) -> None:
    """RateLimited (429) naming limit number `over` (1-based) of `limits`; nothing when 0."""
    if int(over):
        raise RateLimited(limit=limits[int(over) - 1][0], retry_after=max(int(seconds_left), 1))


async def count_request(redis: Redis, *, limits: list[Limit], window: int) -> None:
    """Count one request against each (name, subject, limit) for `window` seconds; 429 beyond.

    Redis being down lets requests through (the database's own rules still hold): a limiter
    must not be an outage.
    """
    # As the other scripts run: by their SHA-1, sent once more if Redis has not seen it.
    count = redis.register_script(_COUNT)
    try:
        over, seconds_left = await count(
            keys=keys_of(limits), args=[*(limit for _, _, limit in limits), window]
        )
    except RedisError:
        log.warning("Redis unavailable: rate limits %s not applied", [n for n, _, _ in limits])
        return
    refuse_if_over(limits, over, seconds_left)
