"""Redis: the server at REDIS_URL, or an embedded in-process one when it is unset.

Redis holds only what may be lost or rebuilt (sessions, rate limits, dialogue state, replay
guards, live counters); the database stays the truth.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import fakeredis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError

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


class BatchedScript:
    """A Lua script whose calls go to Redis together: those made while a batch is on its way
    go in the next one, pipelined on one pooled connection, each answered with its own reply.

    For the booking door's script, which runs for every booking request of a crowd. One call at
    a time, a crowd's door checks queued behind each other's round trips (a reply waits for the
    busy event loop), and redis-py's general command path (its retry wrapper, argument
    filtering, pool bookkeeping) cost a sixth of a sold-out answer's CPU. Ten checks at a time,
    a batched check takes under half the CPU (bench/door_calls.py); alone, about as much. The
    mirror's updates and sold-out reads go the same way. The embedded Redis takes the general
    path.
    """

    def __init__(self, redis: Redis, script: str, *, most: int = 100) -> None:
        self._script = redis.register_script(script)
        self._most = most  # calls in one batch at most
        self._pending: list[tuple[Sequence[str], Sequence[Any], asyncio.Future]] = []
        self._sender: asyncio.Task | None = None

    @property
    def script(self) -> str:
        """The Lua source."""
        return self._script.script

    async def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """The script's reply for these keys and args (its error raised as ResponseError)."""
        if not isinstance(self._script.registered_client.connection_pool, BlockingConnectionPool):
            return await self._script(keys=keys, args=args)
        reply = asyncio.get_running_loop().create_future()
        self._pending.append((keys, args, reply))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_pending())
        return await reply

    async def _send_pending(self) -> None:
        batch: list = []
        try:
            while self._pending:
                batch, self._pending = self._pending[: self._most], self._pending[self._most :]
                try:
                    replies = await self._send(batch)
                except Exception as problem:  # RedisError: every caller of the batch gets it
                    replies = [problem] * len(batch)
                for (*_, reply), answer in zip(batch, replies, strict=True):
                    if reply.done():
                        continue  # its caller gave up (the script ran all the same)
                    if isinstance(answer, Exception):  # also a call's own ResponseError
                        reply.set_exception(answer)
                    else:
                        reply.set_result(answer)
        finally:
            self._sender = None
            # Stopped early (the server stopping): nobody is left waiting for a reply.
            for *_, reply in batch + self._pending:
                reply.cancel()

    async def _send(self, batch: list) -> list[Any]:
        commands = [("EVALSHA", self._script.sha, len(k), *k, *a) for k, a, _ in batch]
        try:
            replies = await self._pipelined(commands)
        except RedisConnectionError:
            # A connection Redis dropped (after a restart): once more on a new one, as
            # redis-py's own retry does.
            replies = await self._pipelined(commands)
        if any(isinstance(answer, NoScriptError) for answer in replies):
            # Redis forgot the script (a restart): none of the batch ran. Load it, send again.
            await self._script.registered_client.script_load(self.script)
            replies = await self._pipelined(commands)
        return replies

    async def _pipelined(self, commands: list[tuple]) -> list[Any]:
        pool = self._script.registered_client.connection_pool
        connection = await pool.get_connection()
        try:
            await connection.send_packed_command(packed(commands))
            replies: list[Any] = []
            for _ in commands:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as error:  # that command's error, read whole
                    replies.append(error)
            return replies
        finally:
            # On any other error (or cancellation) redis-py has closed the connection already,
            # so no reply left unread can answer its next user.
            await pool.release(connection)


def packed(commands: Sequence[Sequence[Any]]) -> bytes:
    """Commands in Redis's wire protocol (RESP), in one piece, encoded as redis-py does (text
    as UTF-8, numbers as their text). redis-py's general packer took 18 µs for a door check's
    command here, this 8 µs."""
    out = []
    for command in commands:
        out.append(b"*%d\r\n" % len(command))
        for arg in command:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)
