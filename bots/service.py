"""The chatbot's state and records: sessions bound to their caller, the staff handoff queue,
the turn log and the cockpit's chat figures.

Everything here but the turn log lives in Redis with an expiry (it may be lost: a lost session
starts over). Keys are built from a session key that already names its owner, so one caller can
never read another's session by guessing its id.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from tortoise.functions import Count

from bots.entities import ID_NUMBER
from bots.models import ChatChannel, ChatTurn
from server.errors import InvalidInput, NotFound, ServiceUnavailable
from server.personal_data import mask_id_number

if TYPE_CHECKING:
    from bots.dialogue import Caller

SESSION_ID = re.compile(r"[A-Za-z0-9_.:-]{8,128}")
HANDOFF_TTL_SECONDS = 24 * 3600
OUTBOX_TTL_SECONDS = 24 * 3600
HANDOFF_QUEUE = "chat:handoffs"
MAX_QUEUED_MESSAGES = 50
TOP_INTENTS = 10
LOCK_SECONDS = 30  # longer than any one answer takes
LOCK_WAIT_SECONDS = 20.0
LOCK_POLL_SECONDS = 0.02
_PHONE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")


def session_key(*, session_id: str, visitor_id: int | None) -> str:
    """The Redis name of a session, bound to its caller: a visitor's own, or an anonymous one.

    A logged-in visitor and an anonymous caller using the same session id get two different
    sessions, and so do two visitors: state holding someone's booking is reachable only with
    their token. Anonymous sessions never hold personal data (booking needs a login).
    """
    if not SESSION_ID.fullmatch(session_id):
        raise InvalidInput(field="session_id", detail="8 to 128 letters, digits, _ . : or -")
    if visitor_id is None:
        return f"anon:{session_id}"
    return f"visitor:{visitor_id}:{session_id}"


def _state_key(key: str) -> str:
    return f"chat:state:{key}"


async def load_state(redis: Redis, key: str) -> dict[str, Any]:
    """A session's dialogue state (empty for a new or expired session)."""
    raw = await redis.get(_state_key(key))
    return json.loads(raw) if raw else {}


async def save_state(redis: Redis, key: str, state: dict[str, Any], ttl_seconds: int) -> None:
    """Store a session's state; it expires `ttl_seconds` after the last message."""
    await redis.set(
        _state_key(key),
        json.dumps(state, ensure_ascii=False, separators=(",", ":")),
        ex=ttl_seconds,
    )


@asynccontextmanager
async def session_lock(redis: Redis, key: str) -> AsyncIterator[None]:
    """Hold the session's lock while one message is answered (others of it wait their turn).

    The lock expires by itself (LOCK_SECONDS) if its holder dies; a waiter gives up after
    LOCK_WAIT_SECONDS with a 503 the client may retry.
    """
    lock_key, token = f"chat:lock:{key}", secrets.token_hex(8)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while not await redis.set(lock_key, token, nx=True, px=LOCK_SECONDS * 1000):
        if time.monotonic() > deadline:
            raise ServiceUnavailable(detail="the session is busy")
        await asyncio.sleep(LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        # Released only by its holder: an expired lock may belong to someone else by now.
        if await redis.get(lock_key) == token:
            await redis.delete(lock_key)


def masked_text(text: str) -> str:
    """A visitor's message with ID-card and mobile numbers masked, for staff screens."""
    text = ID_NUMBER.sub(lambda m: mask_id_number(m[1].upper()), text)
    return _PHONE.sub(lambda m: f"{m[1]}****{m[2]}", text)


# --- the staff handoff -------------------------------------------------------------------------


def handoff_id(key: str) -> str:
    """The handle staff see for a session: a digest, so the session id itself is never shown."""
    return hashlib.sha256(key.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Handoff:
    """A session waiting for (or talking to) staff."""

    id: str
    session_key: str
    channel: str
    language: str
    queued_at: float
    wechat_openid: str | None
    messages: list[dict[str, Any]]


async def queue_for_staff(redis: Redis, caller: Caller, text: str, language: str) -> str:
    """Put the session in the staff queue (once) and add the visitor's message, masked."""
    handle = handoff_id(caller.session_key)
    record_key = f"chat:handoff:{handle}"
    now = time.time()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zadd(HANDOFF_QUEUE, {handle: now}, nx=True)
        pipe.hsetnx(record_key, "queued_at", str(now))
        pipe.hset(
            record_key,
            mapping={
                "session_key": caller.session_key,
                "channel": str(caller.channel),
                "language": language,
                "openid": caller.wechat_openid or "",
            },
        )
        pipe.rpush(f"{record_key}:messages", json.dumps({"at": now, "text": masked_text(text)}))
        pipe.ltrim(f"{record_key}:messages", -MAX_QUEUED_MESSAGES, -1)
        pipe.expire(record_key, HANDOFF_TTL_SECONDS)
        pipe.expire(f"{record_key}:messages", HANDOFF_TTL_SECONDS)
        await pipe.execute()
    return handle


async def queued_handoffs(redis: Redis) -> list[Handoff]:
    """The sessions waiting for staff, oldest first, with their recent messages."""
    handles = await redis.zrange(HANDOFF_QUEUE, 0, -1)
    found = []
    for handle in handles:
        handoff = await get_handoff(redis, handle)
        if handoff is None:
            await redis.zrem(HANDOFF_QUEUE, handle)  # expired meanwhile
            continue
        found.append(handoff)
    return found


async def get_handoff(redis: Redis, handle: str) -> Handoff | None:
    """One queued session, or None."""
    record = await redis.hgetall(f"chat:handoff:{handle}")
    if not record:
        return None
    messages = [json.loads(m) for m in await redis.lrange(f"chat:handoff:{handle}:messages", 0, -1)]
    return Handoff(
        id=handle,
        session_key=record["session_key"],
        channel=record["channel"],
        language=record.get("language", "zh-CN"),
        queued_at=float(record.get("queued_at", 0)),
        wechat_openid=record.get("openid") or None,
        messages=messages,
    )


async def _required_handoff(redis: Redis, handle: str) -> Handoff:
    handoff = await get_handoff(redis, handle)
    if handoff is None:
        raise NotFound(detail="handoff")
    return handoff


async def answer_handoff(redis: Redis, *, handle: str, text: str) -> Handoff:
    """A staff answer to a queued session, kept in its record; the caller delivers it.

    WeChat sessions get it as a customer-service message (the caller holds the official
    account's client); the others through their outbox (push_outbox).
    """
    handoff = await _required_handoff(redis, handle)
    await redis.rpush(
        f"chat:handoff:{handle}:messages",
        json.dumps({"at": time.time(), "text": text, "staff": True}, ensure_ascii=False),
    )
    return handoff


async def hand_back(redis: Redis, *, handle: str, state_ttl_seconds: int) -> Handoff:
    """The bot answers the session again; the session leaves the staff queue."""
    handoff = await _required_handoff(redis, handle)
    state = await load_state(redis, handoff.session_key)
    state["handoff"] = False
    await save_state(redis, handoff.session_key, state, state_ttl_seconds)
    await redis.zrem(HANDOFF_QUEUE, handle)
    await redis.delete(f"chat:handoff:{handle}", f"chat:handoff:{handle}:messages")
    return handoff


async def push_outbox(redis: Redis, key: str, text: str) -> None:
    """A message for the session's visitor, delivered with the bot's next answer or a poll."""
    outbox = f"chat:outbox:{key}"
    await redis.rpush(outbox, text)
    await redis.expire(outbox, OUTBOX_TTL_SECONDS)


async def take_outbox(redis: Redis, key: str) -> list[str]:
    """The session's undelivered messages, removed as they are taken."""
    outbox = f"chat:outbox:{key}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lrange(outbox, 0, -1)
        pipe.delete(outbox)
        taken, _ = await pipe.execute()
    return list(taken)


def staff_messages_first(staff: list[str], reply: str) -> str:
    """Staff answers that were waiting, then the bot's reply."""
    return "\n".join([*staff, reply]) if staff else reply


# --- turns and figures -------------------------------------------------------------------------


async def record_turn(
    *, intent: str, language: str, channel: ChatChannel, logged_in: bool, now: datetime
) -> None:
    """Log one turn's intent, language and channel (never its text) for the cockpit."""
    await ChatTurn.create(
        day=now.date(),
        created_at=now,
        channel=channel,
        intent=intent,
        language=language,
        logged_in=logged_in,
    )


async def chat_figures(start: date, end: date) -> dict:
    """Chat volume from `start` to `end` (inclusive, Wenzhou days): total, per day, top intents."""
    turns = ChatTurn.filter(day__gte=start, day__lte=end)
    by_day = (
        await turns.annotate(messages=Count("id"))
        .group_by("day")
        .order_by("day")
        .values("day", "messages")
    )
    by_intent = (
        await ChatTurn.filter(day__gte=start, day__lte=end)
        .annotate(count=Count("id"))
        .group_by("intent")
        .order_by("-count", "intent")
        .limit(TOP_INTENTS)
        .values("intent", "count")
    )
    return {
        "messages": sum(int(row["messages"]) for row in by_day),
        "by_day": [{"day": _iso(row["day"]), "messages": int(row["messages"])} for row in by_day],
        "top_intents": [{"intent": row["intent"], "count": int(row["count"])} for row in by_intent],
    }


def _iso(day: date | str) -> str:
    return day.isoformat() if isinstance(day, date) else str(day)
