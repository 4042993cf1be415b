"""Two messages of one session at once (WeChat delivers a follower's quick messages in
parallel) are answered one after the other, so neither turn's changes are lost."""

from __future__ import annotations

import asyncio

from factories import make_id_number, make_visitor_token

from bots import dialogue, service
from bots.models import ChatChannel
from bots.routes import tools_of
from server.clock import local_now

from .test_conversations import _islet_with_slots


async def _two_people_at_once(server, *, serialise: bool) -> list[dict]:
    await _islet_with_slots()
    visitor, _ = await make_visitor_token(server.app)
    tools = await tools_of(server.app)
    caller = dialogue.Caller(
        session_key=service.session_key(session_id="race-session", visitor_id=visitor.id),
        channel=ChatChannel.API,
        visitor_id=visitor.id,
    )
    started = await dialogue.respond(tools, caller, "预约明天上午江心屿 两个人", now=local_now())
    assert "第1位" in started.reply
    await asyncio.gather(
        *(
            dialogue.respond(
                tools, caller, f"游客{n} {make_id_number(sequence=80 + n)}", now=local_now(),
                serialise=serialise,
            )
            for n in (1, 2)
        )
    )  # fmt: skip
    state = await service.load_state(tools.redis, caller.session_key)
    return state["form"].get("people", [])


async def test_concurrent_messages_of_a_session_both_count(server) -> None:
    people = await _two_people_at_once(server, serialise=True)
    assert len(people) == 2
    assert len({p["id_hash"] for p in people}) == 2


async def test_canary_without_the_session_lock_a_turn_is_lost(server) -> None:
    # Shows the test above would catch the race: unserialised, one visitor vanishes.
    people = await _two_people_at_once(server, serialise=False)
    assert len(people) == 1
