"""The official account's callback, with WeChat's side played by wechatpy's own crypto: URL
verification, signatures, safe mode, replayed timestamps and nonces, retried messages, the
5-second limit with a customer-service message, and the subscribe greeting."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest
import xmltodict
from stubs.wechat_api import WeChatAPIStub
from wechatpy.crypto import WeChatCrypto

from bots.models import ChatTurn
from bots.wechat_oa import signature_of

from .conftest import OA_AES_KEY, OA_APPID, OA_TOKEN

FOLLOWER = "oa-follower-openid-1"


class WeChatServer:
    """What WeChat's servers do when a follower writes to the account: sign, encrypt, POST."""

    def __init__(self, client, *, safe: bool = True) -> None:
        self.client = client
        self.crypto = WeChatCrypto(OA_TOKEN, OA_AES_KEY, OA_APPID) if safe else None

    def query(self, *, timestamp: int | None = None, nonce: str | None = None) -> dict:
        timestamp_text = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or secrets.token_hex(5)
        return {
            "signature": signature_of(OA_TOKEN, timestamp_text, nonce),
            "timestamp": timestamp_text,
            "nonce": nonce,
            "openid": FOLLOWER,
        }

    async def post(self, xml: str, **query_overrides) -> tuple[int, str]:
        query = self.query(
            timestamp=query_overrides.pop("timestamp", None),
            nonce=query_overrides.pop("nonce", None),
        )
        body = xml
        if self.crypto is not None:
            envelope = self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
            encrypted = xmltodict.parse(envelope)["xml"]["Encrypt"]
            body = (
                "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
            )
            query.update(
                encrypt_type="aes",
                msg_signature=signature_of(OA_TOKEN, query["timestamp"], query["nonce"], encrypted),
            )
        query.update(query_overrides)
        answer = await self.client.post(
            "/wechat", params=query, content=body.encode(), headers={"Content-Type": "text/xml"}
        )
        return answer.status_code, answer.text

    def read_reply(self, status_and_text: tuple[int, str], query_nonce: str | None = None) -> str:
        """The text of a passive reply, decrypted as WeChat would."""
        status, text = status_and_text
        assert status == 200, text
        if text == "success":
            return text
        if self.crypto is not None:
            envelope = xmltodict.parse(text)["xml"]
            text = self.crypto.decrypt_message(
                text, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
            )
        return xmltodict.parse(text)["xml"]["Content"]


def text_message(content: str, msgid: int | None = None) -> str:
    msgid = msgid or secrets.randbelow(10**15)
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
        f"<FromUserName><![CDATA[{FOLLOWER}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msgid}</MsgId></xml>"
    )


def subscribe_event() -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
        f"<FromUserName><![CDATA[{FOLLOWER}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[subscribe]]></Event></xml>"
    )


async def test_url_verification_echoes_only_with_the_right_signature(client) -> None:
    wechat = WeChatServer(client)
    good = await client.get("/wechat", params={**wechat.query(), "echostr": "echo-123"})
    assert (good.status_code, good.text) == (200, "echo-123")
    forged = {**wechat.query(), "echostr": "echo-123", "signature": "0" * 40}
    assert (await client.get("/wechat", params=forged)).status_code == 403


async def test_safe_mode_messages_are_decrypted_and_answered_encrypted(client) -> None:
    wechat = WeChatServer(client)
    answered = await wechat.post(text_message("你好"))
    assert "<Encrypt>" in answered[1] and "你好" not in answered[1]
    assert "E游温州" in wechat.read_reply(answered)
    english = wechat.read_reply(await wechat.post(text_message("hello")))
    assert english.startswith("Hello")


async def test_forged_signatures_and_plain_messages_in_safe_mode_are_refused(client) -> None:
    wechat = WeChatServer(client)
    assert (await wechat.post(text_message("你好"), signature="f" * 40))[0] == 403
    assert (await wechat.post(text_message("你好"), msg_signature="f" * 40))[0] == 403
    plain = WeChatServer(client, safe=False)
    assert (await plain.post(text_message("你好")))[0] == 403
    assert await ChatTurn.all().count() == 0


async def test_stale_timestamps_and_reused_nonces_are_refused(client) -> None:
    wechat = WeChatServer(client)
    # Well past the 5-minute window either way: a loaded test machine may take seconds between
    # stamping and checking, and a stamp just past the edge would then be back inside it.
    stale = await wechat.post(text_message("你好"), timestamp=int(time.time()) - 330)
    assert stale[0] == 403
    future = await wechat.post(text_message("你好"), timestamp=int(time.time()) + 330)
    assert future[0] == 403
    slow_clock = await wechat.post(text_message("你好"), timestamp=int(time.time()) + 270)
    assert slow_clock[0] == 200
    # A replay is the same signed request again: same timestamp, same nonce. Pinning the timestamp
    # keeps the two posts one request even when a second boundary falls between them.
    sent_at = int(time.time())
    first = await wechat.post(text_message("你好"), timestamp=sent_at, nonce="nonce-once")
    assert first[0] == 200
    replayed = await wechat.post(text_message("你好"), timestamp=sent_at, nonce="nonce-once")
    assert replayed[0] == 403
    assert await ChatTurn.all().count() == 2  # the slow clock's message and the first


async def test_a_retried_message_is_answered_once(client) -> None:
    wechat = WeChatServer(client)
    message = text_message("江心屿几点开门", msgid=987654321)
    replies = [wechat.read_reply(await wechat.post(message)) for _ in range(4)]
    assert len(set(replies)) == 1
    assert await ChatTurn.all().count() == 1


async def test_a_slow_answer_goes_out_as_a_customer_service_message(
    server, wechat_stub: WeChatAPIStub
) -> None:
    server.app.ctx.wechat_oa.reply_deadline = 0.0  # nothing can be answered in time
    wechat = WeChatServer(server.client)
    message = text_message("你好", msgid=555)
    assert wechat.read_reply(await wechat.post(message)) == "success"
    for _ in range(100):
        if wechat_stub.sent_messages:
            break
        await asyncio.sleep(0.05)
    sent = wechat_stub.sent_messages
    assert len(sent) == 1 and sent[0]["touser"] == FOLLOWER
    assert "E游温州" in sent[0]["text"]["content"]
    # WeChat's retry of the same message gets "success" and nothing is sent or counted again.
    assert wechat.read_reply(await wechat.post(message)) == "success"
    await asyncio.sleep(0.3)
    assert len(wechat_stub.sent_messages) == 1
    assert await ChatTurn.all().count() == 1


async def test_an_expired_access_token_is_renewed_once(server, wechat_stub: WeChatAPIStub) -> None:
    account = server.app.ctx.wechat_oa
    redis = server.app.ctx.redis
    await account.send_text(redis, FOLLOWER, "第一条")
    wechat_stub.forget_tokens()
    await account.send_text(redis, FOLLOWER, "第二条")
    assert [m["text"]["content"] for m in wechat_stub.sent_messages] == ["第一条", "第二条"]


async def test_subscribing_is_greeted(client) -> None:
    wechat = WeChatServer(client)
    greeting = wechat.read_reply(await wechat.post(subscribe_event()))
    assert "E游温州" in greeting and "1. " in greeting


class TestPlainMode:
    @pytest.fixture
    def oa_settings(self) -> dict[str, object]:
        from stubs.wechat_api import OA_SECRET

        return {
            "wechat_oa_appid": OA_APPID,
            "wechat_oa_secret": OA_SECRET,
            "wechat_oa_token": OA_TOKEN,
        }

    async def test_plain_messages_are_answered_in_plain_xml(self, client) -> None:
        wechat = WeChatServer(client, safe=False)
        status, text = await wechat.post(text_message("江心屿门票多少钱"))
        assert status == 200 and "<Content>" in text
        assert wechat.read_reply((status, text))


async def test_staff_answer_a_wechat_follower_by_customer_service_message(
    server, wechat_stub: WeChatAPIStub
) -> None:
    from factories import make_staff_token

    _, admin = await make_staff_token(server.app, None, role="supervisor")
    headers = {"Authorization": f"Bearer {admin}"}
    wechat = WeChatServer(server.client)
    assert "人工" in wechat.read_reply(await wechat.post(text_message("转人工")))
    queued = (await server.client.get("/api/v1/admin/chat/handoffs", headers=headers)).json()
    assert [h["channel"] for h in queued] == ["wechat"]
    answered = await server.client.post(
        f"/api/v1/admin/chat/handoffs/{queued[0]['id']}/answer",
        json={"text": "您好，我是客服小温"},
        headers=headers,
    )
    assert answered.status_code == 200
    assert [(m["touser"], m["text"]["content"]) for m in wechat_stub.sent_messages] == [
        (FOLLOWER, "您好，我是客服小温")
    ]
    # Delivered once: the follower's next message does not repeat it.
    waiting = wechat.read_reply(await wechat.post(text_message("好的")))
    assert "客服小温" not in waiting
