"""Loading the demo food map (`etour seed-demo`): idempotent, run it as often as needed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from tortoise.models import Model
from tortoise.transactions import in_transaction

from server.db import replace_rows
from server.food import service as food
from server.food.demo_data import DEMO_DISHES, DEMO_RESTAURANTS
from server.food.models import Dish, Restaurant, RestaurantDish, RestaurantHours

_DISH_FIELDS = ("name", "story", "county", "tags", "aliases")
_RESTAURANT_FIELDS = (
    "name", "description", "address", "county", "latitude", "longitude", "phone", "photos",
    "price_level", "certified",
)  # fmt: skip


async def _upsert(model: type[Model], entry: dict, fields: tuple[str, ...]) -> tuple[Model, bool]:
    values = {field: entry[field] for field in fields}
    row = await model.get_or_none(code=entry["code"])
    if row is None:
        return await model.create(code=entry["code"], **values), True
    changed = [field for field, value in values.items() if getattr(row, field) != value]
    if changed:
        row.update_from_dict({field: values[field] for field in changed})
        await row.save(update_fields=[*changed, "updated_at"])
    return row, bool(changed)


async def _replace_hours(restaurant: Restaurant, entry: dict) -> bool:
    wanted = {
        (weekday, time.fromisoformat(opens), time.fromisoformat(closes))
        for weekday, sessions in entry["hours"].items()
        for opens, closes in sessions
    }
    return await replace_rows(
        RestaurantHours,
        owner={"restaurant_id": restaurant.id},
        fields=("weekday", "opens_at", "closes_at"),
        wanted=wanted,
    )


async def _replace_menu(restaurant: Restaurant, entry: dict, dish_ids: dict[str, int]) -> bool:
    wanted = {
        (dish_ids[item["code"]], item.get("price_cents"), item["signature"])
        for item in entry["dishes"]
    }
    return await replace_rows(
        RestaurantDish,
        owner={"restaurant_id": restaurant.id},
        fields=("dish_id", "price_cents", "signature"),
        wanted=wanted,
    )


async def load_demo_food(*, progress: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Upsert the demo dishes and restaurants (hours, menus, search terms); count what changed."""
    counts = {"dishes_changed": 0, "restaurants_changed": 0}
    dish_ids: dict[str, int] = {}
    for entry in DEMO_DISHES:
        dish, changed = await _upsert(Dish, entry, _DISH_FIELDS)
        dish_ids[dish.code] = dish.id
        counts["dishes_changed"] += changed
        progress(entry["code"])
    for entry in DEMO_RESTAURANTS:
        async with in_transaction():
            restaurant, changed = await _upsert(Restaurant, entry, _RESTAURANT_FIELDS)
            changed |= await _replace_hours(restaurant, entry)
            changed |= await _replace_menu(restaurant, entry, dish_ids)
        counts["restaurants_changed"] += changed
        progress(entry["code"])
    # Terms are rebuilt only where they differ, so a second run writes nothing.
    await food.refresh_search_terms()
    return counts
