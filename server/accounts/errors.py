"""Refusals of the accounts domain: logins, WeChat answers, staff accounts."""

from __future__ import annotations

from server.errors import AppError


class LoginFailed(AppError):
    code = "login_failed"
    status = 401


class AccountLocked(AppError):
    code = "account_locked"
    status = 429


class AccountDisabled(AppError):
    code = "account_disabled"
    status = 403


class InvalidStaffAccount(AppError):
    """A create-user request that breaks a rule (weak password, venue role without venue...)."""

    code = "invalid_staff_account"
    status = 422


class UsernameTaken(AppError):
    code = "username_taken"
    status = 409


class WeChatCodeInvalid(AppError):
    """The wx.login code is unknown, expired or already used (WeChat 40029 / 40163)."""

    code = "wechat_code_invalid"
    status = 400


class WeChatUserBlocked(AppError):
    """WeChat flags the user as high-risk (40226)."""

    code = "wechat_user_blocked"
    status = 403


class WeChatRateLimited(AppError):
    """WeChat's minute quota is used up (45011); the client should retry a little later."""

    code = "wechat_rate_limited"
    status = 429


class WeChatUnavailable(AppError):
    """WeChat could not be reached, was busy (-1), or rejected our own credentials."""

    code = "wechat_unavailable"
    status = 503
