"""Live cockpit updates: gate events from Redis pub/sub, relayed as server-sent events.

The gate publishes occupancy changes and crowd warnings on Redis (server/tickets); every
`etour serve` process subscribes for its own cockpit viewers, so a scan on any worker reaches
every open cockpit. Redis may lose a message: the page reloads its table now and then anyway.
"""

from __future__ import annotations

import asyncio
import json
import time

from redis.asyncio import Redis
from sanic import Request

from server.tickets.service import OCCUPANCY_CHANNEL, WARNINGS_CHANNEL

EVENT_NAMES = {OCCUPANCY_CHANNEL: "occupancy", WARNINGS_CHANNEL: "warning"}
KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 1.0
# A stream ends after this long and the page reconnects: no connection lives forever behind
# proxies, and a revoked account's stream cannot outlive it by much.
MAX_STREAM_SECONDS = 300.0


def sse_event(event: str, data: str) -> str:
    """One server-sent event; `data` is one line of JSON."""
    return f"event: {event}\ndata: {data}\n\n"


async def relay_gate_events(
    request: Request, redis: Redis, closing: asyncio.Event, *, max_seconds: float
) -> None:
    """Answer with an event stream of the gate's occupancy and warning messages."""
    response = await request.respond(
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    pubsub = redis.pubsub()
    await pubsub.subscribe(*EVENT_NAMES)
    try:
        await response.send(sse_event("ready", json.dumps({"retry_ms": 3000})))
        started = last_sent = time.monotonic()
        while not closing.is_set() and time.monotonic() - started < max_seconds:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_SECONDS)
            now = time.monotonic()
            if message is not None and message.get("type") == "message":
                await response.send(sse_event(EVENT_NAMES[message["channel"]], message["data"]))
                last_sent = now
            elif now - last_sent >= KEEPALIVE_SECONDS:
                await response.send(": keep-alive\n\n")
                last_sent = now
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
    await response.eof()
