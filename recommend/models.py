"""What recommendations remember: visitors' events and interests, and the items' vectors."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class EventKind(StrEnum):
    """Something a visitor did with an item.

    Only these are recorded here: bookings, gate entries, reviews and tour visits are read from
    their own domains.
    """

    VIEW = "view"
    FAVOURITE = "favourite"
    UNFAVOURITE = "unfavourite"
    CHAT_INTEREST = "chat_interest"  # the chatbot heard the visitor ask about the item


class VisitorEvent(Model):
    """One event of a visitor on an item ("venue:12", "restaurant:7", "tour:3", "dish:5")."""

    id = fields.IntField(primary_key=True)
    visitor = fields.ForeignKeyField("etour.Visitor", related_name="recommend_events")
    item_id = fields.CharField(max_length=48)
    kind = fields.CharEnumField(EventKind, max_length=16)
    created_at = fields.DatetimeField()

    class Meta:
        table = "visitor_event"
        indexes = (("visitor_id", "created_at"), ("created_at", "item_id"))


class VisitorInterests(Model):
    """The interests a visitor chose at onboarding (codes of recommend.profiles.INTERESTS)."""

    id = fields.IntField(primary_key=True)
    visitor = fields.OneToOneField("etour.Visitor", related_name="recommend_interests")
    interests = fields.JSONField(default=list)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "visitor_interests"


class ItemEmbedding(Model):
    """An item's (or an interest's) sentence vector under one model, and its content's hash.

    An item is encoded again only when the hash of its content changes.
    """

    id = fields.IntField(primary_key=True)
    model = fields.CharField(max_length=200)
    item_id = fields.CharField(max_length=48)
    content_hash = fields.CharField(max_length=64)
    vector = fields.BinaryField()  # little-endian float32, L2-normalised
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "item_embedding"
        unique_together = (("model", "item_id"),)
