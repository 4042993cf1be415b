"""Who uses the service: visitors (by WeChat openid) and the bureau's and venues' staff."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    """Staff roles, as in API.md."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    VENUE_MANAGER = "venue_manager"
    VENUE_STAFF = "venue_staff"


class Visitor(Model):
    """A tourist, known by the openid WeChat gives for the mini-program."""

    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, unique=True)
    unionid = fields.CharField(max_length=64, null=True)
    nickname = fields.CharField(max_length=64, default="")
    language = fields.CharField(max_length=8, default="zh-CN")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "visitor"


class StaffUser(Model):
    """A staff account: bureau admin, supervisor, venue manager or gate staff."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(Role, max_length=16)
    venue = fields.ForeignKeyField(
        "etour.Venue", related_name="staff", null=True, on_delete=fields.RESTRICT
    )
    is_active = fields.BooleanField(default=True)
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_user"
