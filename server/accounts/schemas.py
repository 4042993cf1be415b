"""Request and response shapes of sign-in."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WeChatLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=128, description="the code from wx.login()")


class VisitorOut(BaseModel):
    id: int
    language: str
    nickname: str


class WeChatLoginOut(BaseModel):
    token: str
    expires_in: int
    user: VisitorOut


class StaffLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=256)


class StaffLoginOut(BaseModel):
    token: str
    role: str
    venue_id: int | None
    expires_in: int


class StaffOut(BaseModel):
    id: int
    username: str
    role: str
    venue_id: int | None
