"""Fixed-window request counting in Redis: the one rate limiter (bookings, holds, logins)."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.errors import RateLimited

log = logging.getLogger("etour.ratelimit")

# Count one request in each window (KEYS, with their limits in ARGV, the window last); stop at
# the first over its limit and say which, with the seconds its window has left. One script, one
# round trip: a crowd's every request passes here.
_COUNT = """
local window = tonumber(ARGV[#ARGV])
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local left = redis.call('TTL', key)
  if left < 0 then
    redis.call('EXPIRE', key, window)
    left = window
  end
  if count > tonumber(ARGV[i]) then return {i, left} end
end
return {0, 0}
"""


async def count_request(redis: Redis, *, limits: list[tuple[str, str, int]], window: int) -> None:
    """Count one request against each (name, subject, limit) for `window` seconds; 429 beyond.

    A window starts at a subject's first request. Redis being down lets requests through (the
    database's own rules still hold): a limiter must not be an outage.
    """
    # As the other scripts run: by their SHA-1, sent once more if Redis has not seen it.
    count = redis.register_script(_COUNT)
    try:
        over, seconds_left = await count(
            keys=[f"rl:{name}:{subject}" for name, subject, _ in limits],
            args=[*(limit for _, _, limit in limits), window],
        )
    except RedisError:
        log.warning("Redis unavailable: rate limits %s not applied", [n for n, _, _ in limits])
        return
    if int(over):
        raise RateLimited(limit=limits[int(over) - 1][0], retry_after=max(int(seconds_left), 1))
