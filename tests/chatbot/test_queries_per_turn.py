"""What one chat turn costs the database: catalogue data (names, hours, prices) comes from the
process's cache, while live figures (crowds, places left) are read on every turn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pytest
from factories import make_id_number, make_reservable_venue, make_slot, make_venue

from bots import dialogue, entities
from bots.intents import IntentClassifier
from bots.models import ChatChannel
from recommend.runtime import Recommender
from server import cache
from server.accounts.models import Visitor
from server.clock import LOCAL_TZ, local_now
from server.config import Settings
from server.personal_data import FieldCipher
from server.reservations.models import TimeSlot
from server.venues.models import ClosingDay

ISLET = {"zh-CN": "江心屿", "en": "Jiangxin Islet"}
# Single-turn questions, each on a fresh anonymous session, and the statements each may cost.
# One is the turn's own row for the cockpit; crowds add the live reads of occupancy and slots.
QUESTIONS = {
    "江心屿几点开门": 1,
    "when does Jiangxin Islet open": 1,
    "江心屿门票多少钱": 1,
    "几点开门": 1,  # asks which venue
    "你好": 1,
    "给我讲个笑话": 1,
    "江心屿现在人多吗": 7,
    "江心屿附近有什么好吃的": 4,
}


class StatementCounter(logging.Handler):
    """Collects the SQL statements tortoise sends while it is installed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection", "Closed connection")):
            self.statements.append(message)


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """The statements sent inside the block (tortoise logs each one at DEBUG)."""
    logger = logging.getLogger("tortoise.db_client")
    counter, level = StatementCounter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter.statements
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


@pytest.fixture
async def tools(database: Settings, classifier: IntentClassifier) -> AsyncIterator[dialogue.Tools]:
    """The conversation tools on the test's database, without a server around them."""
    redis = cache.connect_redis(database)
    recommender = Recommender(database.embedding_model)
    yield dialogue.Tools(
        redis=redis,
        cipher=FieldCipher(database.secret()),
        recommender=recommender,
        classifier=classifier,
    )
    await recommender.stop()
    await redis.aclose()


async def _say(
    tools: dialogue.Tools,
    session: str,
    text: str,
    visitor_id: int | None = None,
    now: datetime | None = None,
) -> tuple[dialogue.Answer, list[str]]:
    caller = dialogue.Caller(
        session_key=f"test:{session}", channel=ChatChannel.API, visitor_id=visitor_id
    )
    with counting_statements() as statements:
        answer = await dialogue.respond(tools, caller, text, now=now or local_now())
    return answer, statements


async def _islet_and_other_venues() -> None:
    islet = await make_reservable_venue(name=ISLET)
    tomorrow = local_now().date() + timedelta(days=1)
    for day in (local_now().date(), tomorrow):
        await make_slot(islet, day=day, starts=time(9), ends=time(23), capacity=20)
    for _ in range(5):
        await make_venue()


@pytest.fixture
def steady_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    """No catalogue recheck during the test (in service: one statement every few seconds)."""
    monkeypatch.setattr(entities.catalogue_cache, "recheck_seconds", 3600.0)


@pytest.mark.usefixtures("steady_catalogue")
async def test_single_turn_questions_read_only_live_figures(tools: dialogue.Tools) -> None:
    await _islet_and_other_venues()
    await _say(tools, "warm-up", "江心屿几点开门")  # the first turn reads the catalogue
    counts = {}
    for number, (text, budget) in enumerate(QUESTIONS.items()):
        answer, statements = await _say(tools, f"single-{number}", text)
        counts[text] = len(statements)
        print(f"{len(statements):>3} statements  [{answer.intent}] {text}")
        assert len(statements) <= budget, (text, statements)
    assert counts["江心屿几点开门"] == counts["你好"]  # hours cost no more than a greeting


@pytest.mark.usefixtures("steady_catalogue")
async def test_a_booking_conversation_reads_the_venue_once(tools: dialogue.Tools) -> None:
    await _islet_and_other_venues()
    visitor = await Visitor.create(openid="openid-queries")
    await _say(tools, "warm-up", "你好")
    turns = [
        "我想预约明天去江心屿",
        "1",
        "两个人",
        f"张三 {make_id_number(sequence=11)}",
        f"李四 {make_id_number(sequence=12)}",
        "确认",
    ]
    total = 0
    for text in turns:
        answer, statements = await _say(tools, "booking", text, visitor_id=visitor.id)
        total += len(statements)
        print(f"{len(statements):>3} statements  [{answer.intent}] {text}")
    assert "reservation_id" in answer.slots
    # Only the turns that read live slots or book go beyond the turn's own row (and the venue
    # interest, recorded once for the conversation).
    assert total <= 40, total


async def test_live_figures_are_never_cached_and_catalogue_changes_follow(
    tools: dialogue.Tools, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _islet_and_other_venues()
    islet = await make_reservable_venue(name={"zh-CN": "仙岩", "en": "Xianyan"})
    today = local_now().date()
    # The conversation happens at noon: a slot already over (say at 23:59:30) offers no places.
    noon = datetime.combine(today, time(12), LOCAL_TZ)
    slot = await make_slot(islet, day=today, starts=time(0), ends=time(23, 59), capacity=20)
    first, _ = await _say(tools, "live", "仙岩还有名额吗", now=noon)
    assert "余20" in first.reply
    await TimeSlot.filter(id=slot.id).update(booked=15)
    again, _ = await _say(tools, "live", "仙岩还有名额吗", now=noon)
    assert "余5" in again.reply  # within the cache's recheck time: places are read live
    monkeypatch.setattr(entities.catalogue_cache, "recheck_seconds", 0.0)
    await ClosingDay.create(venue=islet, date=today, reason={"zh-CN": "台风"})
    closed, _ = await _say(tools, "live", "仙岩今天开门吗", now=noon)
    assert "台风" in closed.reply
