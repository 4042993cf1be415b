"""Redis: the server at REDIS_URL, or an embedded in-process one when it is unset.

Redis holds only what may be lost or rebuilt (sessions, rate limits, dialogue state, replay
guards, live counters); the database stays the truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import fakeredis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

from server.config import Settings

# Redis connections per server process. A connection is held until its task reads the reply,
# which under a crowd waits for the busy event loop: too few connections and the booking path
# queues for one behind the crowd's requests. Redis itself takes thousands.
REDIS_CONNECTIONS = 256


def connect_redis(settings: Settings) -> Redis:
    """A Redis client for the settings: real when REDIS_URL is set, embedded otherwise."""
    if settings.uses_embedded_redis:
        return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=True)
    # A bounded pool that waits for a free connection: a crowd's thousands of requests at once
    # would otherwise open a connection each, up to the pool's limit, and then fail.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=REDIS_CONNECTIONS,
        timeout=10,
        decode_responses=True,
        socket_connect_timeout=2,
        # A reply is read when the event loop gets to it: under a crowd that can take seconds,
        # which is not Redis being down. (A stopped Redis refuses connections at once.)
        socket_timeout=5,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)


async def redis_is_reachable(redis: Redis) -> bool:
    """A PING to Redis, for /healthz."""
    try:
        return bool(await redis.ping())
    except (RedisError, OSError):
        return False


async def run_script(script: AsyncScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
    """A registered Lua script's reply, in one round trip on a connection of the client's pool.

    For the booking door's script, which runs for every booking request of a crowd: redis-py's
    general command path (its retry wrapper, argument filtering, pool bookkeeping) cost a sixth
    of a sold-out answer's CPU. A script Redis does not know and a dropped connection (after a
    restart), and the embedded Redis, go that general way, which loads the script, connects
    again and retries.
    """
    pool = script.registered_client.connection_pool
    if not isinstance(pool, BlockingConnectionPool):
        return await script(keys=keys, args=args)
    connection = await pool.get_connection()
    try:
        await connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
        return await connection.read_response()
    except (NoScriptError, RedisConnectionError):
        # A script Redis does not know (its reply read whole), or a connection it dropped
        # (closed by redis-py, as on any error or cancellation with a reply unread).
        pass
    finally:
        await pool.release(connection)
    return await script(keys=keys, args=args)
