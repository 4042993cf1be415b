"""Entity parsing: dates resolved in Wenzhou's calendar, times, party sizes, people, choices,
and venue, dish and county names from the live catalogue through the jieba dictionary."""

from __future__ import annotations

from datetime import date

import pytest
from factories import make_venue

from bots import entities
from bots.entities import TimeOfDay, extract, parse_date, parse_party_size, parse_time_of_day
from server.food.models import Dish

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天去", date(2026, 11, 25)),
        ("明天上午", date(2026, 11, 26)),
        ("后天", date(2026, 11, 27)),
        ("大后天", date(2026, 11, 28)),
        ("周六去江心屿", date(2026, 11, 28)),
        ("星期三", date(2026, 11, 25)),
        ("下周三", date(2026, 12, 2)),
        ("下个礼拜天", date(2026, 12, 6)),
        ("12月1日", date(2026, 12, 1)),
        ("5月1日", date(2027, 5, 1)),
        ("十二月三号", date(2026, 12, 3)),
        ("2026-12-24", date(2026, 12, 24)),
        ("28号", date(2026, 11, 28)),
        ("tomorrow", date(2026, 11, 26)),
        ("the day after tomorrow", date(2026, 11, 27)),
        ("Saturday", date(2026, 11, 28)),
        ("next Wednesday", date(2026, 12, 2)),
        ("on May 1st", date(2027, 5, 1)),
        ("1 December", date(2026, 12, 1)),
        ("江心屿几点开门", None),
    ],
)
def test_dates_resolve_against_the_given_day(text: str, expected: date | None) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("上午", TimeOfDay("morning", None)),
        ("下午3点", TimeOfDay("afternoon", 15)),
        ("晚上7点半", TimeOfDay("evening", 19)),
        ("10点", TimeOfDay(None, 10)),
        ("3点", TimeOfDay(None, 15)),
        ("3pm", TimeOfDay(None, 15)),
        ("at 10:30", TimeOfDay(None, 10)),
        ("tomorrow morning", TimeOfDay("morning", None)),
        ("明天", None),
    ],
)
def test_times_of_day(text: str, expected: TimeOfDay | None) -> None:
    assert parse_time_of_day(text) == expected


def test_an_hour_picks_the_slot_that_covers_it() -> None:
    assert TimeOfDay(None, 10).matches(9, 11)
    assert not TimeOfDay(None, 14).matches(9, 11)
    assert TimeOfDay("afternoon", None).matches(14, 16)
    assert not TimeOfDay("morning", None).matches(14, 16)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("两个人", 2),
        ("3位", 3),
        ("我们一家四口", 4),
        ("我一个人", 1),
        ("订两张票", 2),
        ("two of us", 2),
        ("for 3 people", 3),
        ("book for two", 2),
        ("just me", 1),
        ("下午3点", None),
        ("5月1日", None),
        ("第二个", None),
    ],
)
def test_party_sizes(text: str, expected: int | None) -> None:
    assert parse_party_size(text) == expected


def test_a_person_is_a_name_and_an_id_number_in_any_order() -> None:
    given = entities.parse_person("张三 33030219900517123x")
    assert given == entities.PersonGiven("张三", "33030219900517123X")
    assert entities.parse_person("ID 330302199005171234, name Li Lei").name == "Li Lei"
    assert entities.parse_person("张三") is None
    assert entities.parse_person("330302199005171234") is None


def test_yes_no_and_numbered_choices() -> None:
    assert entities.parse_yes_no("确认") is True
    assert entities.parse_yes_no("OK!") is True
    assert entities.parse_yes_no("不要") is False
    assert entities.parse_yes_no("明天") is None
    assert entities.is_quit("不要了") and entities.is_quit("never mind")
    assert entities.parse_choice("2", 3) == 2
    assert entities.parse_choice("第三个", 3) == 3
    assert entities.parse_choice("option 1", 3) == 1
    assert entities.parse_choice("4", 3) is None


def test_the_reply_language_is_the_one_written_in() -> None:
    assert entities.language_of_text("我想book江心屿") == "zh-CN"
    assert entities.language_of_text("book Jiangxin Islet") == "en"
    assert entities.language_of_text("2", fallback="en") == "en"


async def test_catalogue_names_are_found_by_name_short_name_and_english_name(
    database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entities.catalogue_cache, "recheck_seconds", 0.0)
    museum = await make_venue(name={"zh-CN": "温州博物馆", "en": "Wenzhou Museum"})
    islet = await make_venue(name={"zh-CN": "江心屿", "en": "Jiangxin Islet"})
    village = await make_venue(name={"zh-CN": "刘伯温故里", "en": "Liu Bowen's Hometown"})
    dish = await Dish.create(
        code="fish-balls",
        name={"zh-CN": "温州鱼丸", "en": "Wenzhou fish balls"},
        county="lucheng",
        aliases={"zh-CN": ["鱼丸"]},
    )

    async def venue_in(text: str) -> int | None:
        return (await extract(text, today=TODAY)).venue_id

    assert await venue_in("明天去江心屿玩") == islet.id
    assert await venue_in("博物馆几点开门") == museum.id  # 温州 left out
    assert await venue_in("刘伯温那边怎么走") == village.id  # 故里 left out
    assert await venue_in("when does jiangxin islet open") == islet.id
    assert await venue_in("tickets for the Wenzhou Museum") == museum.id
    assert await venue_in("今天天气好") is None
    found = await extract("哪里的鱼丸好吃 in 瑞安", today=TODAY)
    assert found.dish_id == dish.id
    assert found.county == "ruian"
    # A venue added later is known at once: the names follow the catalogue.
    cave = await make_venue(name={"zh-CN": "仙岩洞", "en": "Xianyan Cave"})
    assert await venue_in("仙岩洞开门吗") == cave.id
