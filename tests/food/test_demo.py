"""The demo food map: the required Wenzhou dishes, plausible places, and idempotent loading."""

from __future__ import annotations

from server.food.counties import COUNTIES
from server.food.demo import load_demo_food
from server.food.demo_data import DEMO_DISHES, DEMO_RESTAURANTS
from server.food.models import Dish, Restaurant, RestaurantDish, RestaurantHours

REQUIRED_DISHES = {
    "温州鱼丸", "灯盏糕", "县前汤圆", "长人馄饨", "糯米饭",
    "江蟹生", "瓯柑", "鸭舌", "猪脏粉", "松糕",
}  # fmt: skip


def test_demo_dishes_and_restaurants_are_complete_and_plausible():
    assert {dish["name"]["zh-CN"] for dish in DEMO_DISHES} >= REQUIRED_DISHES
    for dish in DEMO_DISHES:
        assert dish["county"] in COUNTIES
        assert dish["story"]["zh-CN"] and dish["story"]["en"] and dish["aliases"]["en"]
    assert len(DEMO_RESTAURANTS) >= 30
    old_city = [r for r in DEMO_RESTAURANTS if r["county"] == "lucheng"]
    assert len(old_city) >= 15 and len({r["county"] for r in DEMO_RESTAURANTS}) >= 10
    dish_codes = {dish["code"] for dish in DEMO_DISHES}
    for restaurant in DEMO_RESTAURANTS:
        # Wenzhou's prefecture spans about 27.0-28.6 N and 119.6-121.3 E.
        assert 27.0 < restaurant["latitude"] < 28.6 and 119.6 < restaurant["longitude"] < 121.3
        assert restaurant["name"]["zh-CN"] and restaurant["name"]["en"].isascii()
        assert {item["code"] for item in restaurant["dishes"]} <= dish_codes
        assert 1 <= restaurant["price_level"] <= 4 and restaurant["hours"]
    served = {item["code"] for r in DEMO_RESTAURANTS for item in r["dishes"]}
    assert served == dish_codes  # every dish can be eaten somewhere


async def _snapshot() -> tuple:
    return (
        await Dish.all().order_by("id").values_list("id", "updated_at", "search_terms"),
        await Restaurant.all().order_by("id").values_list("id", "updated_at", "search_terms"),
        await RestaurantHours.all().order_by("id").values_list("id", flat=True),
        await RestaurantDish.all().order_by("id").values_list("id", flat=True),
    )


async def test_loading_twice_changes_nothing(database):
    first = await load_demo_food()
    assert first == {
        "dishes_changed": len(DEMO_DISHES),
        "restaurants_changed": len(DEMO_RESTAURANTS),
    }
    before = await _snapshot()
    again = await load_demo_food()
    assert again == {"dishes_changed": 0, "restaurants_changed": 0}
    assert await _snapshot() == before
    assert all(terms.startswith(" ") for _, _, terms in before[1])
