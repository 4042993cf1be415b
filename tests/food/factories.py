"""Small factories of food-map rows for tests: sensible defaults, any field overridable."""

from __future__ import annotations

import itertools
from datetime import time
from typing import Any

from server.food import service as food
from server.food.models import Dish, Restaurant, RestaurantDish, RestaurantHours

_serial = itertools.count(1)


async def make_dish(**overrides: Any) -> Dish:
    """A Lucheng dish with a unique code and its search terms filled in."""
    number = next(_serial)
    fields: dict[str, Any] = {
        "code": f"test-dish-{number}",
        "name": {"zh-CN": f"测试菜{number}", "en": f"Test dish {number}"},
        "county": "lucheng",
        **overrides,
    }
    dish = await Dish.create(**fields)
    dish.search_terms = food.dish_search_terms(dish)
    await dish.save(update_fields=["search_terms"])
    return dish


async def make_restaurant(
    *,
    dishes: tuple[Dish, ...] = (),
    sessions: tuple[tuple[time, time], ...] = ((time(8), time(21)),),
    weekdays: tuple[int, ...] = tuple(range(7)),
    **overrides: Any,
) -> Restaurant:
    """A restaurant on Wuma Street open 08:00-21:00 daily, serving `dishes`, searchable."""
    number = next(_serial)
    fields: dict[str, Any] = {
        "code": f"test-restaurant-{number}",
        "name": {"zh-CN": f"测试餐厅{number}", "en": f"Test Restaurant {number}"},
        "county": "lucheng",
        "latitude": 28.0172,
        "longitude": 120.6553,
        "price_level": 2,
        **overrides,
    }
    restaurant = await Restaurant.create(**fields)
    await RestaurantHours.bulk_create(
        [
            RestaurantHours(restaurant=restaurant, weekday=day, opens_at=opens, closes_at=closes)
            for day in weekdays
            for opens, closes in sessions
        ]
    )
    await RestaurantDish.bulk_create(
        [RestaurantDish(restaurant=restaurant, dish=dish) for dish in dishes]
    )
    restaurant.search_terms = food.restaurant_search_terms(restaurant, dishes)
    await restaurant.save(update_fields=["search_terms"])
    return restaurant
