"""Text search in Chinese and English: jieba with the user dictionary, and English aliases."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

import pytest

from server.clock import LOCAL_TZ
from server.food import search
from server.food import service as food
from server.food.demo import load_demo_food
from server.food.demo_data import DEMO_DISHES

WUMA = (28.0172, 120.6553)
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
async def demo_food(database):
    await load_demo_food()


async def _dish_names(text: str) -> list[str]:
    return [dish.name["zh-CN"] for dish in await food.list_dishes(text=text)]


async def _restaurant_names(text: str, radius_m: float = 50_000) -> list[str]:
    found = await food.nearby_restaurants(
        lat=WUMA[0], lng=WUMA[1], radius_m=radius_m, now=NOON, text=text, limit=200
    )
    return [n.restaurant.name["zh-CN"] for n in found]


def test_the_user_dictionary_keeps_dish_names_whole_and_yields_their_parts():
    assert search.query_terms("温州鱼丸") == ["温州", "鱼丸", "温州鱼丸"]
    assert "江蟹生" in search.query_terms("江蟹生")
    assert "县前头" in search.query_terms("县前头的汤圆")
    assert "的" not in search.query_terms("县前头的汤圆")


def test_english_words_are_lowercased_and_plurals_dropped():
    assert search.query_terms("Fish Balls near me") == ["fish", "ball"]
    assert search.query_terms("glutinous") == ["glutinous"]
    assert search.query_terms("Rui'an") == ["ruian"]
    assert search.query_terms("！？") == []


def test_every_demo_dish_name_is_in_the_user_dictionary():
    text = resources.files("server.food").joinpath(search.USER_DICTIONARY).read_text("utf-8")
    words = {line.split()[0] for line in text.splitlines() if line.strip()}
    assert {dish["name"]["zh-CN"] for dish in DEMO_DISHES} <= words


@pytest.mark.parametrize(
    ("query", "dish"),
    [
        ("鱼丸", "温州鱼丸"),
        ("温州鱼丸", "温州鱼丸"),
        ("fish ball", "温州鱼丸"),
        ("Fish Balls", "温州鱼丸"),
        ("fishball", "温州鱼丸"),
        ("汤圆", "县前汤圆"),
        ("tangyuan", "县前汤圆"),
        ("馄饨", "长人馄饨"),
        ("wontons", "长人馄饨"),
        ("蟹", "江蟹生"),
        ("raw crab", "江蟹生"),
        ("duck tongue", "鸭舌"),
        ("lamp cake", "灯盏糕"),
        ("瑞安", "灯盏糕"),
    ],
)
async def test_dishes_are_found_in_chinese_and_english(demo_food, query, dish):
    assert dish in await _dish_names(query)


async def test_a_search_for_nothing_known_finds_nothing(demo_food):
    assert await _dish_names("pizza") == []
    assert await _restaurant_names("披萨") == []


async def test_restaurants_are_found_by_the_dishes_they_serve_in_both_languages(demo_food):
    chinese = await _restaurant_names("鱼丸", radius_m=3000)
    english = await _restaurant_names("fish balls", radius_m=3000)
    assert chinese == english
    assert "五马鱼丸店" in chinese and "南塘鱼丸馆" in chinese
    assert "信河街鸭舌铺" not in chinese


async def test_restaurants_are_found_by_street_and_county(demo_food):
    assert "县前汤圆老店" in await _restaurant_names("县前头")
    assert {"瑞安灯盏糕老店", "瑞安敲鱼馆"} <= set(await _restaurant_names("瑞安"))
    both = await _restaurant_names("Rui'an 灯盏糕")
    assert both == ["瑞安灯盏糕老店"]


async def test_dish_filter_takes_an_id_a_code_or_a_name(demo_food):
    by_code = await food.dish_ids_for("wenzhou-fish-balls")
    assert await food.dish_ids_for(str(next(iter(by_code)))) == by_code
    assert await food.dish_ids_for("鱼丸") == by_code
    assert await food.dish_ids_for("fish ball") == by_code
