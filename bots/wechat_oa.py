"""The WeChat official account's callback at /wechat, with wechatpy.

WeChat's servers call GET /wechat once to verify the URL (echo `echostr`), then POST every
message a follower sends. Each call is signed with the account's token: we check the signature
in constant time, refuse timestamps more than 5 minutes off and nonces seen before (replays), and
in safe mode (WECHAT_OA_AES_KEY set) decrypt and encrypt with WeChat's AES scheme. WeChat gives up
after 5 seconds and retries the same message three times: a message id is answered once, and an
answer not ready within REPLY_DEADLINE_SECONDS goes out later as a customer-service message
through WECHAT_API_BASE, the passive answer being "success" (WeChat's "no reply").
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from contextlib import suppress
from dataclasses import dataclass, field

import httpx
from redis.asyncio import Redis
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text
from sanic_ext.extensions.openapi import openapi
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

import i18n
from bots import dialogue, service
from bots.models import ChatChannel
from server.clock import local_now
from server.config import Settings
from server.errors import Forbidden, InvalidInput, ServiceUnavailable

log = logging.getLogger("etour.wechat")

TIMESTAMP_WINDOW_SECONDS = 300
NONCE_TTL_SECONDS = 2 * TIMESTAMP_WINDOW_SECONDS
MESSAGE_TTL_SECONDS = 300  # WeChat's three retries come within about 15 seconds
REPLY_DEADLINE_SECONDS = 4.0  # WeChat waits 5 s; leave room for the network
ACCESS_TOKEN_KEY = "wechat:oa:access_token"  # noqa: S105 (a Redis key name)
TOKEN_EXPIRED = {40001, 40014, 42001}
PENDING = "\x00pending"
SUCCESS = "success"

bp = Blueprint("wechat_oa")


def signature_of(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted, concatenated parts."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def same_signature(expected: str, given: str) -> bool:
    """Compare signatures in constant time (no early exit an attacker could time)."""
    return hmac.compare_digest(expected.encode(), (given or "").encode())


@dataclass
class OfficialAccount:
    """The official account's settings, its crypto, its API client and its pending deliveries."""

    appid: str
    token: str
    aes_key: str
    secret: str
    api_base: str
    timeout: float
    reply_deadline: float = REPLY_DEADLINE_SECONDS
    crypto: WeChatCrypto | None = None
    deliveries: set[asyncio.Task] = field(default_factory=set)
    _client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OfficialAccount:
        """The account as configured (WECHAT_OA_*); unconfigured, /wechat answers 503."""
        account = cls(
            appid=settings.wechat_oa_appid,
            token=settings.wechat_oa_token,
            aes_key=settings.wechat_oa_aes_key,
            secret=settings.wechat_oa_secret,
            api_base=settings.wechat_api_base,
            timeout=settings.wechat_timeout_seconds,
        )
        if account.aes_key:
            account.crypto = WeChatCrypto(account.token, account.aes_key, account.appid)
        return account

    @property
    def configured(self) -> bool:
        """True when a token is set (the least the callback needs)."""
        return bool(self.token)

    def client(self) -> httpx.AsyncClient:
        """The HTTP client of WeChat's API (one per account, kept open)."""
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.api_base, timeout=self.timeout)
        return self._client

    async def close(self) -> None:
        """Let pending deliveries finish (briefly), then close the client."""
        if self.deliveries:
            await asyncio.wait(list(self.deliveries), timeout=self.timeout)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def access_token(self, redis: Redis, *, fresh: bool = False) -> str:
        """The account's access token, shared through Redis by every process until it expires."""
        if not fresh:
            cached = await redis.get(ACCESS_TOKEN_KEY)
            if cached:
                return cached
        answer = (
            await self.client().get(
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )
        ).json()
        if "access_token" not in answer:
            raise ServiceUnavailable(detail=f"wechat token errcode {answer.get('errcode')}")
        # Renewed a little before WeChat's expiry, so no send races the end of its life.
        ttl = max(60, int(answer.get("expires_in", 7200)) - 300)
        await redis.set(ACCESS_TOKEN_KEY, answer["access_token"], ex=ttl)
        return answer["access_token"]

    async def send_text(self, redis: Redis, openid: str, content: str) -> None:
        """A customer-service text message to a follower (retried once with a fresh token)."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        for fresh in (False, True):
            token = await self.access_token(redis, fresh=fresh)
            answer = (
                await self.client().post(
                    "/cgi-bin/message/custom/send", params={"access_token": token}, json=payload
                )
            ).json()
            errcode = answer.get("errcode", 0)
            if errcode == 0:
                return
            if errcode not in TOKEN_EXPIRED:
                break
        log.warning("customer-service message refused: errcode %s", answer.get("errcode"))


def _account(request: Request) -> OfficialAccount:
    account: OfficialAccount = request.app.ctx.wechat_oa
    if not account.configured:
        raise ServiceUnavailable(detail="WECHAT_OA_TOKEN is not set")
    return account


def _checked_timestamp(request: Request) -> str:
    raw = request.args.get("timestamp", "")
    try:
        stamp = int(raw)
    except ValueError:
        raise InvalidInput(field="timestamp", detail="not a number") from None
    # WeChat stamps whole seconds, so the window is counted in whole seconds too.
    if abs(int(time.time()) - stamp) > TIMESTAMP_WINDOW_SECONDS:
        # An old (or future) request is a replay or a wrong clock: refused either way.
        raise Forbidden(detail="timestamp outside the 5-minute window")
    return raw


def _check_signature(account: OfficialAccount, request: Request, timestamp: str) -> str:
    nonce = request.args.get("nonce", "")
    if not nonce:
        raise InvalidInput(field="nonce", detail="missing")
    expected = signature_of(account.token, timestamp, nonce)
    if not same_signature(expected, request.args.get("signature", "")):
        raise Forbidden(detail="bad signature")
    return nonce


@bp.get("/wechat")
@openapi.summary("WeChat's URL verification: echoes echostr when the signature is right")
@openapi.exclude()
async def verify_url(request: Request) -> HTTPResponse:
    account = _account(request)
    _check_signature(account, request, _checked_timestamp(request))
    return text(request.args.get("echostr", ""))


@bp.post("/wechat")
@openapi.summary("WeChat's message callback (text and events), in plain or safe mode")
@openapi.exclude()
async def receive(request: Request) -> HTTPResponse:
    account = _account(request)
    timestamp = _checked_timestamp(request)
    nonce = _check_signature(account, request, timestamp)
    xml = _plain_xml(account, request, timestamp, nonce)
    redis = request.app.ctx.redis
    if not await redis.set(f"wechat:nonce:{timestamp}:{nonce}", "1", nx=True, ex=NONCE_TTL_SECONDS):
        raise Forbidden(detail="nonce already used")
    try:
        message = parse_message(xml)
    except Exception:
        raise InvalidInput(field="body", detail="not a WeChat message") from None
    reply = await _answer_once(request, account, message)
    if reply is None:
        return text(SUCCESS)
    rendered = TextReply(content=reply, message=message).render()
    if account.crypto is not None:
        rendered = account.crypto.encrypt_message(rendered, nonce, timestamp)
    return text(rendered, content_type="application/xml")


def _plain_xml(account: OfficialAccount, request: Request, timestamp: str, nonce: str) -> str:
    body = request.body.decode("utf-8", errors="replace")
    if account.crypto is None:
        return body
    if request.args.get("encrypt_type") != "aes":
        # Safe mode: a plain message did not come from WeChat for this account.
        raise Forbidden(detail="safe mode expects encrypt_type=aes")
    try:
        import xmltodict

        encrypted = xmltodict.parse(body)["xml"]["Encrypt"]
    except Exception:
        raise InvalidInput(field="body", detail="no Encrypt element") from None
    expected = signature_of(account.token, timestamp, nonce, encrypted)
    if not same_signature(expected, request.args.get("msg_signature", "")):
        raise Forbidden(detail="bad msg_signature")
    try:
        return account.crypto.decrypt_message(
            body, request.args.get("msg_signature", ""), timestamp, nonce
        )
    except (InvalidSignatureException, InvalidAppIdException, ValueError):
        raise Forbidden(detail="cannot decrypt") from None


def _message_key(message) -> str:
    msgid = getattr(message, "id", None)
    if msgid:
        return f"wechat:msg:{msgid}"
    # Events carry no MsgId: WeChat's own advice is FromUserName + CreateTime.
    created = message.create_time
    stamp = int(created.timestamp()) if hasattr(created, "timestamp") else created
    return f"wechat:msg:{message.source}:{stamp}"


async def _answer_once(request: Request, account: OfficialAccount, message) -> str | None:
    """The passive reply to a message, None for "success"; a retried message is answered once."""
    redis = request.app.ctx.redis
    key = _message_key(message)
    if not await redis.set(key, PENDING, nx=True, ex=MESSAGE_TTL_SECONDS):
        earlier = await redis.get(key)
        # Still being answered (it will go out as a customer-service message), or answered.
        return None if earlier in (None, PENDING, SUCCESS) else earlier
    work = asyncio.ensure_future(_reply_to(request, message))
    try:
        reply = await asyncio.wait_for(asyncio.shield(work), timeout=account.reply_deadline)
    except TimeoutError:
        delivery = asyncio.ensure_future(_deliver_later(request, account, message, work, key))
        account.deliveries.add(delivery)
        delivery.add_done_callback(account.deliveries.discard)
        await redis.set(key, SUCCESS, ex=MESSAGE_TTL_SECONDS)
        return None
    await redis.set(key, reply or SUCCESS, ex=MESSAGE_TTL_SECONDS)
    return reply


async def _deliver_later(
    request: Request, account: OfficialAccount, message, work: asyncio.Future, key: str
) -> None:
    with suppress(Exception):
        reply = await work
        if reply:
            await account.send_text(request.app.ctx.redis, message.source, reply)
            return
    if work.done() and not work.cancelled() and work.exception() is not None:
        log.error("a WeChat message could not be answered: %r", work.exception())


async def _reply_to(request: Request, message) -> str | None:
    """The bot's answer to one WeChat message or event."""
    redis = request.app.ctx.redis
    caller = dialogue.Caller(
        session_key=f"wechat:{message.source}",
        channel=ChatChannel.WECHAT,
        wechat_openid=message.source,
    )
    if message.type == "event":
        event = getattr(message, "event", "")
        if event == "subscribe":
            await service.record_turn(
                intent="greeting",
                language=i18n.DEFAULT_LANGUAGE,
                channel=ChatChannel.WECHAT,
                logged_in=False,
                now=local_now(),
            )
            return await dialogue.welcome(redis, caller, language=i18n.DEFAULT_LANGUAGE)
        if event == "unsubscribe":
            await redis.delete(f"chat:state:{caller.session_key}")
        return None
    content = getattr(message, "content", None)
    if message.type == "voice":
        content = getattr(message, "recognition", None)
    if not content or not content.strip():
        state = await service.load_state(redis, caller.session_key)
        return i18n.gettext("chat.wechat.unsupported", state.get("lang", i18n.DEFAULT_LANGUAGE))
    from bots.routes import tools_of

    answer = await dialogue.respond(
        await tools_of(request.app), caller, content[:500], now=local_now()
    )
    return answer.reply
