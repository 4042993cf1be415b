"""The food map (百县千碗): dishes, restaurants with their hours and dishes, visitors' reviews."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.fields import LocalTimeField


class Dish(Model):
    """A Wenzhou dish. Text fields hold {"zh-CN": ..., "en": ...}, `county` a county code."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    name = fields.JSONField()
    story = fields.JSONField(default=dict)
    county = fields.CharField(max_length=20, db_index=True)
    tags = fields.JSONField(default=dict)  # {"zh-CN": ["小吃", ...], "en": ["snack", ...]}
    # Other names visitors type: {"zh-CN": ["鱼圆"], "en": ["fish ball", "fishball"]}.
    aliases = fields.JSONField(default=dict)
    photo = fields.CharField(max_length=255, default="")
    # Space-separated search terms (jieba words, single characters, English words), with a
    # space at both ends so a term is matched whole by LIKE '% term %'. Rebuilt by the service.
    search_terms = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "dish"


class Restaurant(Model):
    """A place to eat, found by position: latitude and longitude are indexed for the box search."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    name = fields.JSONField()
    description = fields.JSONField(default=dict)
    address = fields.JSONField(default=dict)
    county = fields.CharField(max_length=20, db_index=True)
    latitude = fields.FloatField()
    longitude = fields.FloatField()
    phone = fields.CharField(max_length=32, default="")
    photos = fields.JSONField(default=list)
    price_level = fields.SmallIntField(db_index=True)  # 1 (under ¥30 a head) .. 4 (over ¥150)
    certified = fields.BooleanField(default=False, db_index=True)  # a "百县千碗" certified shop
    # Published reviews only; kept in step with them by one UPDATE in the review's transaction.
    rating = fields.FloatField(null=True)
    review_count = fields.IntField(default=0)
    hidden = fields.BooleanField(default=False)
    search_terms = fields.TextField(default="")  # as Dish.search_terms, with its dishes' terms
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "restaurant"
        # The nearby search's bounding box: a latitude range scanned in the index, the longitude
        # range and `hidden` checked there too, so only rows inside the box are read (and on
        # SQLite the candidates' id and position come from the index alone). A separate
        # longitude index would tempt SQLite into scanning a whole longitude strip instead.
        indexes = (("latitude", "longitude", "hidden"),)


class RestaurantHours(Model):
    """One opening session of a weekday (0 = Monday): lunch and dinner are two rows.

    A session with `closes_at` at or before `opens_at` runs past midnight (夜宵 until 02:00).
    """

    id = fields.IntField(primary_key=True)
    restaurant = fields.ForeignKeyField("etour.Restaurant", related_name="hours")
    weekday = fields.SmallIntField()
    opens_at = LocalTimeField()
    closes_at = LocalTimeField()

    class Meta:
        table = "restaurant_hours"
        unique_together = (("restaurant", "weekday", "opens_at"),)


class RestaurantDish(Model):
    """A dish on a restaurant's menu: `signature` marks what the house is known for."""

    id = fields.IntField(primary_key=True)
    restaurant = fields.ForeignKeyField("etour.Restaurant", related_name="menu")
    dish = fields.ForeignKeyField("etour.Dish", related_name="served_at")
    price_cents = fields.IntField(null=True)
    signature = fields.BooleanField(default=False)

    class Meta:
        table = "restaurant_dish"
        unique_together = (("restaurant", "dish"),)


class ReviewStatus(StrEnum):
    """Whether a review is shown: held ones wait for a moderator."""

    PUBLISHED = "published"
    PENDING = "pending"
    REJECTED = "rejected"


class Review(Model):
    """A visitor's review of a restaurant: at most one each (the unique key), editable."""

    id = fields.IntField(primary_key=True)
    restaurant = fields.ForeignKeyField("etour.Restaurant", related_name="reviews")
    visitor = fields.ForeignKeyField("etour.Visitor", related_name="restaurant_reviews")
    rating = fields.SmallIntField()
    text = fields.TextField(default="")
    status = fields.CharEnumField(ReviewStatus, max_length=16)
    flagged_terms = fields.JSONField(default=list)  # for the moderator, never shown to visitors
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "restaurant_review"
        unique_together = (("restaurant", "visitor"),)
        indexes = (("restaurant_id", "status", "updated_at"),)
