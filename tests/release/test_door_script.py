"""The booking door's script call: one round trip on a pooled connection, never a crossed reply."""

from __future__ import annotations

import asyncio

import pytest
from conftest import BACKEND, TEST_REDIS_URL
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ResponseError

from server.cache import run_script

pytestmark = pytest.mark.skipif(
    BACKEND != "services", reason="the direct path runs on a real Redis (embedded: redis-py's)"
)

ECHO = "return {KEYS[1], ARGV[1]}"
# Busy for a while before answering: long enough to be cancelled while its reply is unread.
SLOW_ECHO = """
local finish = tonumber(redis.call('TIME')[1]) * 1000000 + tonumber(redis.call('TIME')[2]) + 200000
while tonumber(redis.call('TIME')[1]) * 1000000 + tonumber(redis.call('TIME')[2]) < finish do end
return ARGV[1]
"""
FAILING = "return redis.error_reply('ETOUR refused here')"


@pytest.fixture
async def one_connection():
    """A client whose pool holds one connection: every call reuses it."""
    redis = Redis.from_pool(
        BlockingConnectionPool.from_url(TEST_REDIS_URL, max_connections=1, decode_responses=True)
    )
    yield redis
    await redis.aclose()


async def test_the_reply_is_the_scripts_also_after_redis_forgot_the_script(one_connection):
    echo = one_connection.register_script(ECHO)
    assert await run_script(echo, ["k"], ["v"]) == ["k", "v"]
    await one_connection.script_flush()  # as after a restart: NOSCRIPT, then loaded again
    assert await run_script(echo, ["k2"], [2]) == ["k2", "2"]
    assert await run_script(echo, ["k3"], [3]) == ["k3", "3"]


async def test_a_scripts_error_is_raised_and_the_connection_answers_the_next_call(one_connection):
    failing, echo = one_connection.register_script(FAILING), one_connection.register_script(ECHO)
    with pytest.raises(ResponseError, match="ETOUR refused here"):
        await run_script(failing, ["k"], [])
    assert await run_script(echo, ["k"], ["after"]) == ["k", "after"]


async def test_a_call_cancelled_before_its_reply_does_not_answer_the_next_one(one_connection):
    slow, echo = one_connection.register_script(SLOW_ECHO), one_connection.register_script(ECHO)
    await run_script(slow, [], ["load"])  # known to Redis: the next call is one EVALSHA
    call = asyncio.create_task(run_script(slow, [], ["stale"]))
    await asyncio.sleep(0.05)  # sent, its reply not come yet
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    # The same (only) connection would still hold "stale" for whoever reads next.
    assert await run_script(echo, ["k"], ["fresh"]) == ["k", "fresh"]


async def test_a_connection_redis_dropped_is_replaced_and_the_call_answered(one_connection):
    echo = one_connection.register_script(ECHO)
    assert await run_script(echo, ["k"], [1]) == ["k", "1"]
    dropped = await one_connection.client_id()
    other = Redis.from_url(TEST_REDIS_URL)
    try:
        await other.client_kill_filter(_id=dropped)
    finally:
        await other.aclose()
    assert await run_script(echo, ["k"], [2]) == ["k", "2"]
