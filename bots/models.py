"""What the chatbot stores: one row per conversation turn, for the cockpit's chat figures.

Dialogue state lives in Redis (it may be lost); only these counts are kept, and never the text a
visitor wrote (it may hold names, ID-card or phone numbers).
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ChatChannel(StrEnum):
    """Where a message came from."""

    API = "api"  # POST /api/v1/chat (mini-program, H5 page)
    WECHAT = "wechat"  # the official account
    CLI = "cli"  # `etour chat`


class ChatTurn(Model):
    """One visitor message and the bot's understanding of it: intent, language, when, where."""

    id = fields.IntField(primary_key=True)
    # The Wenzhou day of the turn, stored so per-day figures group alike on SQLite and PostgreSQL.
    day = fields.DateField()
    created_at = fields.DatetimeField()
    channel = fields.CharEnumField(ChatChannel, max_length=8)
    intent = fields.CharField(max_length=24)
    language = fields.CharField(max_length=8)
    logged_in = fields.BooleanField(default=False)

    class Meta:
        table = "chat_turn"
        indexes = (("day", "intent"),)
