"""The chatbot's HTTP side: POST /api/v1/chat, polling staff answers, and the staff handoff desk."""

from __future__ import annotations

import logging
import time

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from bots import dialogue, service
from bots.intents import classifier_for
from bots.models import ChatChannel
from recommend.embedder import in_daemon_thread
from recommend.runtime import warm_up_state
from server.accounts.models import Role
from server.admin.audit import record
from server.auth import optional_principal, requires
from server.clock import local_now
from server.errors import Forbidden
from server.http import body, parse_body, parse_query, query

log = logging.getLogger("etour.bots")
MAX_TEXT_LENGTH = 500

bp = Blueprint("chat", url_prefix="/api/v1/chat")
staff_bp = Blueprint("chat_staff", url_prefix="/api/v1/admin/chat")


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(..., min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    text: str = Field(..., min_length=1, max_length=MAX_TEXT_LENGTH)
    lang: str | None = Field(None, max_length=16)


class ChatOut(BaseModel):
    reply: str
    intent: str
    slots: dict


class SessionQuery(BaseModel):
    session_id: str = Field(..., min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")


class StaffAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., min_length=1, max_length=MAX_TEXT_LENGTH)


def health(app: Sanic) -> dict[str, str]:
    """What /healthz shows of the chatbot: {"chat": state} once its warm-up started."""
    state = warm_up_state(app.ctx.chat_warming)
    return {} if state is None else {"chat": state.value}


async def tools_of(app: Sanic) -> dialogue.Tools:
    """The app's conversation tools; the intent classifier is made ready on first need."""
    tools = getattr(app.ctx, "chat_tools", None)
    if tools is None:
        tools = dialogue.Tools(
            redis=app.ctx.redis,
            cipher=app.ctx.cipher,
            recommender=app.ctx.recommender,
            classifier=classifier_for(
                app.ctx.recommender.embedder, fitted_dir=app.ctx.settings.cache_dir
            ),
        )
        app.ctx.chat_tools = tools
    if not tools.classifier.is_ready:
        # Seconds, once per process (the model and the examples): off the event loop.
        await in_daemon_thread(tools.classifier.prepare)
    return tools


async def _visitor_id(request: Request) -> int | None:
    principal = await optional_principal(request)
    if principal is None:
        return None
    if not principal.is_visitor:
        # Staff tokens do not chat as visitors: the bot acts only for the visitor logged in.
        raise Forbidden()
    return principal.user_id


@bp.post("/")
@openapi.summary("One chat message: the bot's reply, the intent it understood and the slots")
@openapi.response(200, {"application/json": ChatOut.model_json_schema()})
@openapi.secured("token")
@body(ChatIn)
async def chat(request: Request) -> HTTPResponse:
    message = parse_body(request, ChatIn)
    visitor_id = await _visitor_id(request)
    caller = dialogue.Caller(
        session_key=service.session_key(session_id=message.session_id, visitor_id=visitor_id),
        channel=ChatChannel.API,
        visitor_id=visitor_id,
    )
    answer = await dialogue.respond(
        await tools_of(request.app),
        caller,
        message.text,
        now=local_now(),
        language_hint=message.lang,
    )
    return json({"reply": answer.reply, "intent": answer.intent, "slots": answer.slots})


@bp.get("/messages")
@openapi.summary("Staff answers waiting for this session (taken once)")
@query(SessionQuery)
async def staff_messages(request: Request) -> HTTPResponse:
    wanted = parse_query(request, SessionQuery)
    key = service.session_key(session_id=wanted.session_id, visitor_id=await _visitor_id(request))
    return json({"messages": await service.take_outbox(request.app.ctx.redis, key)})


def _handoff_out(handoff: service.Handoff) -> dict:
    return {
        "id": handoff.id,
        "channel": handoff.channel,
        "language": handoff.language,
        "queued_at": handoff.queued_at,
        "waiting_seconds": max(0, int(time.time() - handoff.queued_at)),
        "messages": handoff.messages,
    }


@staff_bp.get("/handoffs")
@openapi.summary("Chat sessions waiting for staff, oldest first")
@requires(Role.ADMIN, Role.SUPERVISOR)
async def list_handoffs(request: Request) -> HTTPResponse:
    queued = await service.queued_handoffs(request.app.ctx.redis)
    return json([_handoff_out(handoff) for handoff in queued])


@staff_bp.post("/handoffs/<handle:str>/answer")
@openapi.summary("Answer a waiting visitor (WeChat visitors get a customer-service message)")
@body(StaffAnswerIn)
@requires(Role.ADMIN, Role.SUPERVISOR)
async def answer_handoff(request: Request, handle: str) -> HTTPResponse:
    answer = parse_body(request, StaffAnswerIn)
    redis = request.app.ctx.redis
    handoff = await service.answer_handoff(redis, handle=handle, text=answer.text)
    if handoff.wechat_openid:
        await request.app.ctx.wechat_oa.send_text(redis, handoff.wechat_openid, answer.text)
    else:
        await service.push_outbox(redis, handoff.session_key, answer.text)
    # The answer itself may carry the visitor's details: the log keeps only that one was sent.
    await record(
        request.ctx.principal,
        "chat.handoff.answer",
        f"chat:{handoff.id}",
        after={"answer_chars": len(answer.text)},
    )
    return json(_handoff_out(handoff))


@staff_bp.post("/handoffs/<handle:str>/hand-back")
@openapi.summary("Give the session back to the bot")
@requires(Role.ADMIN, Role.SUPERVISOR)
async def hand_back(request: Request, handle: str) -> HTTPResponse:
    redis = request.app.ctx.redis
    handoff = await service.hand_back(
        redis, handle=handle, state_ttl_seconds=dialogue.SESSION_TTL_SECONDS
    )
    notice = dialogue.i18n.gettext("chat.handoff.back", handoff.language)
    if handoff.wechat_openid:
        await request.app.ctx.wechat_oa.send_text(redis, handoff.wechat_openid, notice)
    else:
        await service.push_outbox(redis, handoff.session_key, notice)
    await record(
        request.ctx.principal,
        "chat.handoff.hand_back",
        f"chat:{handoff.id}",
        before={"status": "human"},
        after={"status": "bot"},
    )
    return json({"id": handoff.id, "status": "bot"})


def install(app: Sanic) -> None:
    """Register the chat blueprints and the WeChat official account on the app."""
    from bots import wechat_oa

    app.blueprint(bp)
    app.blueprint(staff_bp)
    app.blueprint(wechat_oa.bp)
    app.ctx.wechat_oa = wechat_oa.OfficialAccount.from_settings(app.ctx.settings)

    app.ctx.chat_warming = None

    @app.after_server_start
    async def warm_chat(app: Sanic) -> None:
        # Under test the model is loaded once per session by the tests that need it.
        if app.ctx.settings.env != "test":
            app.ctx.chat_warming = app.add_task(tools_of(app))

    @app.before_server_stop
    async def stop_wechat_deliveries(app: Sanic) -> None:
        await app.ctx.wechat_oa.close()
