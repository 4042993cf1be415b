"""The booking door's script calls: batched on one connection, each with its own reply."""

from __future__ import annotations

import asyncio

import pytest
from conftest import BACKEND, TEST_REDIS_URL
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import Connection
from redis.exceptions import ResponseError

from server.cache import BatchedScript, packed

pytestmark = pytest.mark.skipif(
    BACKEND != "services", reason="batches go to a real Redis (embedded: redis-py's path)"
)

# Appends to a list, so the order in which Redis ran the calls shows.
APPEND = "redis.call('RPUSH', KEYS[1], ARGV[1]) return {KEYS[1], ARGV[1]}"
# Refuses the call whose argument is 'bad', as the door's script refuses with an error reply.
REFUSE_BAD = """
if ARGV[1] == 'bad' then return redis.error_reply('ETOUR refused ' .. ARGV[1]) end
return ARGV[1]
"""
# Busy for a while before answering: long enough to be cancelled while its reply is unread.
SLOW_ECHO = """
local function now() local t = redis.call('TIME') return t[1] * 1000000 + t[2] end
local finish = now() + 200000
while now() < finish do end
return ARGV[1]
"""


@pytest.fixture
async def redis():
    """A client whose pool holds one connection: every batch reuses it."""
    client = Redis.from_pool(
        BlockingConnectionPool.from_url(TEST_REDIS_URL, max_connections=1, decode_responses=True)
    )
    await client.delete("door-test")
    yield client
    await client.delete("door-test")
    await client.aclose()


async def test_calls_made_together_run_in_order_and_each_gets_its_own_reply(redis, monkeypatch):
    append = BatchedScript(redis, APPEND, most=4)
    await redis.script_load(APPEND)  # known to Redis: no batch is sent twice to load it
    sizes, pipelined = [], append._pipelined

    async def counted(commands):
        sizes.append(len(commands))
        return await pipelined(commands)

    monkeypatch.setattr(append, "_pipelined", counted)
    replies = await asyncio.gather(*(append(["door-test"], [n]) for n in range(10)))
    assert sizes == [4, 4, 2]  # three round trips, at most 4 calls each
    assert replies == [["door-test", str(n)] for n in range(10)]
    assert await redis.lrange("door-test", 0, -1) == [str(n) for n in range(10)]


async def test_a_calls_error_goes_to_that_caller_only(redis):
    refuse = BatchedScript(redis, REFUSE_BAD)
    calls = [refuse([], [word]) for word in ("a", "bad", "c")]
    first, refused, third = await asyncio.gather(*calls, return_exceptions=True)
    assert (first, third) == ("a", "c")
    assert isinstance(refused, ResponseError) and "ETOUR refused bad" in str(refused)
    assert await refuse([], ["after"]) == "after"


async def test_a_script_redis_forgot_is_loaded_and_the_batch_sent_again_once(redis):
    append = BatchedScript(redis, APPEND)
    assert await append(["door-test"], ["first"]) == ["door-test", "first"]
    await redis.script_flush()  # as after a restart: NOSCRIPT for the whole batch
    replies = await asyncio.gather(append(["door-test"], ["x"]), append(["door-test"], ["y"]))
    assert replies == [["door-test", "x"], ["door-test", "y"]]
    assert await redis.lrange("door-test", 0, -1) == ["first", "x", "y"]


async def test_a_caller_that_gives_up_does_not_take_or_cross_the_others_replies(redis):
    slow = BatchedScript(redis, SLOW_ECHO)
    await slow([], ["load"])
    given_up = asyncio.create_task(slow([], ["given up"]))
    await asyncio.sleep(0.05)  # sent, its reply not come yet
    given_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await given_up
    assert await asyncio.gather(slow([], ["next"]), slow([], ["and next"])) == [
        "next",
        "and next",
    ]


async def test_a_connection_redis_dropped_is_replaced_and_the_calls_answered(redis):
    append = BatchedScript(redis, APPEND)
    assert await append(["door-test"], [1]) == ["door-test", "1"]
    dropped = await redis.client_id()
    other = Redis.from_url(TEST_REDIS_URL)
    try:
        await other.client_kill_filter(_id=dropped)
    finally:
        await other.aclose()
    assert await append(["door-test"], [2]) == ["door-test", "2"]


def test_commands_are_packed_as_redis_py_packs_them():
    commands = [
        ("EVALSHA", "f" * 40, 2, "release:{wr}:queue", "release:slot:7", 0, -3, 1.5, 1e-7),
        ("EVALSHA", "f" * 40, 0, "游客 ✓", b"\x00raw\r\n", ""),
    ]
    assert packed(commands) == b"".join(Connection().pack_commands(commands))
