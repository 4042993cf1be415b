"""The mini-program login exchange with WeChat (jscode2session), through wechatpy.

wechatpy's client is synchronous (requests), so every call runs in a worker thread and the event
loop never blocks. The API base is configurable so tests and the demo can use a local stand-in.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from server.accounts import errors

log = logging.getLogger("etour.wechat")

# https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
_INVALID_CODE = {40029, 40163}  # invalid code; code already used
_HIGH_RISK_USER = 40226
_RATE_LIMITED = 45011
_SYSTEM_BUSY = -1


@dataclass(frozen=True)
class WeChatSession:
    """What jscode2session tells about the user behind a wx.login code."""

    openid: str
    unionid: str | None


class _ConfiguredClient(WeChatClient):
    """A WeChatClient whose every endpoint, the access-token one included, is under `api_base`."""

    def __init__(self, *, api_base: str, appid: str, secret: str, timeout: float) -> None:
        super().__init__(appid, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = f"{api_base}/cgi-bin/"
        self._api_base = api_base
        self.wxa.API_BASE_URL = f"{api_base}/"

    def fetch_access_token(self) -> dict:
        return self._fetch_access_token(
            url=f"{self._api_base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class MiniProgramLogin:
    """Exchanges wx.login codes for openids at WECHAT_API_BASE."""

    def __init__(self, *, api_base: str, appid: str, secret: str, timeout: float) -> None:
        self._configured = bool(appid and secret)
        self._timeout = timeout
        self._client = _ConfiguredClient(
            api_base=api_base, appid=appid, secret=secret, timeout=timeout
        )

    async def code_to_session(self, code: str) -> WeChatSession:
        """The openid for a wx.login code; WeChat's refusals become clear domain errors."""
        if not self._configured:
            log.error("WECHAT_MINIAPP_APPID / WECHAT_MINIAPP_SECRET are not set")
            raise errors.WeChatUnavailable()
        try:
            # Bounded even where wechatpy sets no timeout (its access-token fetch).
            answer = await asyncio.wait_for(
                asyncio.to_thread(self._client.wxa.code_to_session, code), 2 * self._timeout
            )
        except WeChatClientException as refusal:
            raise _domain_error(refusal.errcode) from None
        except (requests.RequestException, TimeoutError) as failure:
            log.warning("WeChat unreachable: %s", type(failure).__name__)
            raise errors.WeChatUnavailable() from None
        openid = answer.get("openid") if isinstance(answer, dict) else None
        if not openid:
            log.warning("WeChat answered jscode2session without an openid")
            raise errors.WeChatUnavailable()
        return WeChatSession(openid=openid, unionid=answer.get("unionid"))


def _domain_error(errcode: int | None) -> errors.AppError:
    if errcode in _INVALID_CODE:
        return errors.WeChatCodeInvalid()
    if errcode == _HIGH_RISK_USER:
        return errors.WeChatUserBlocked()
    if errcode == _RATE_LIMITED:
        return errors.WeChatRateLimited()
    if errcode != _SYSTEM_BUSY:
        # Anything else (bad appid/secret, HTTP errors) is our configuration or WeChat's fault.
        log.error("WeChat refused jscode2session with errcode %s", errcode)
    return errors.WeChatUnavailable()
