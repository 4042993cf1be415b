"""The application factory: one Sanic app with every blueprint, started on the configured stores."""

from __future__ import annotations

import asyncio
import gc
import logging
from functools import partial

import ujson
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json
from sanic_ext import Extend
from sanic_ext.extensions.openapi import openapi
from sanic_ext.extensions.openapi.builders import SpecificationBuilder

import miniapp_api
from bots import routes as bots_routes
from recommend.runtime import Recommender
from server import cache, db, observability
from server.accounts.routes import bp as accounts_admin
from server.accounts.wechat import MiniProgramLogin
from server.admin.web import install as install_admin
from server.background import repeat
from server.card.issuer import HttpCardIssuer
from server.card.routes import desk_bp as library_desk
from server.card.routes import gate_bp as card_gate
from server.clock import local_now
from server.config import Settings, get_settings
from server.http import hoist_schema_definitions, install_error_handler, install_input_guards
from server.personal_data import FieldCipher
from server.release import runtime
from server.release import service as holds_service
from server.release.limits import FLUSH_INTERVAL_SECONDS, BookingLimits, save_refusals
from server.release.mirror import REPAIR_INTERVAL_SECONDS, RemainingMirror
from server.release.routes import bp as booking_refusals
from server.release.waiting_room import WaitingRoom
from server.reservations import service as reservations
from server.reservations.routes import bp as slots_admin
from server.reservations.routes import venues_bp as venue_booking_admin
from server.signing import TokenSigner
from server.supervision import risk as risk_feed
from server.supervision.routes import bp as supervision_desk
from server.supervision.routes import public_bp as supervision_public
from server.tickets.routes import bp as gate

API_TITLE = "E-Tour Wenzhou (E游温州) API"
SLOT_KEEPER_INTERVAL_SECONDS = 3600
log = logging.getLogger("etour.app")


def create_app(settings: Settings | None = None, *, name: str = "etour") -> Sanic:
    """Build the app for `settings` (the environment's when omitted)."""
    settings = settings or get_settings()
    # Chinese text stays readable in answers instead of \uXXXX escapes.
    app = Sanic(name, configure_logging=False, dumps=partial(ujson.dumps, ensure_ascii=False))
    app.config.update(
        REQUEST_MAX_SIZE=settings.max_body_bytes,
        FALLBACK_ERROR_FORMAT="json",
        KEEP_ALIVE_TIMEOUT=15,
        OAS_URL_PREFIX="/docs",
        OAS_UI_DEFAULT="redoc",
        OAS_AUTODOC=True,
        CORS=False,
        HEALTH=False,
        # sanic-ext's automatic HEAD/OPTIONS routes are added one by one after start-up, each
        # re-finalising the router: with ~110 routes that cost seconds per server start.
        HTTP_AUTO_HEAD=False,
        HTTP_AUTO_OPTIONS=False,
    )
    Extend(app)
    app.ext.openapi.describe(API_TITLE, version="1")
    app.ext.openapi.add_security_scheme("token", "http", scheme="bearer")

    app.ctx.settings = settings
    app.ctx.signer = TokenSigner(settings.secret())
    app.ctx.cipher = FieldCipher(settings.secret())
    app.ctx.card_issuer = HttpCardIssuer(
        base=settings.card_issuer_base, timeout=settings.card_issuer_timeout_seconds
    )
    app.ctx.wechat = MiniProgramLogin(
        api_base=settings.wechat_api_base,
        appid=settings.wechat_miniapp_appid,
        secret=settings.wechat_miniapp_secret,
        timeout=settings.wechat_timeout_seconds,
    )
    app.ctx.recommender = Recommender(settings.embedding_model)

    install_error_handler(app)
    install_input_guards(app)
    observability.install(app)
    app.blueprint(miniapp_api.api)
    app.blueprint(accounts_admin)
    app.blueprint(slots_admin)
    app.blueprint(venue_booking_admin)
    app.blueprint(gate)
    bots_routes.install(app)
    app.blueprint(card_gate)
    app.blueprint(library_desk)
    app.blueprint(supervision_desk)
    app.blueprint(supervision_public)
    app.blueprint(booking_refusals)
    install_admin(app)
    _add_service_routes(app)

    @app.before_server_start
    async def connect_stores(app: Sanic) -> None:
        await db.open_database(settings)
        app.ctx.redis = cache.connect_redis(settings)
        app.ctx.mirror = RemainingMirror(app.ctx.redis)
        app.ctx.waiting_room = WaitingRoom(
            app.ctx.redis,
            concurrency=settings.booking_concurrency,
            backlog=settings.booking_backlog,
            door=settings.booking_door,
        )
        runtime.install(
            runtime.ReleaseRuntime(BookingLimits.from_settings(settings), app.ctx.mirror)
        )

    @app.after_server_start
    async def start_release_keepers(app: Sanic) -> None:
        app.ctx.waiting_room.start(
            partial(miniapp_api.reservations.book_queued, app),
            # Twice the booking places: while some drainers take a request out of the queue or
            # store an outcome (Redis round trips), others keep every booking place busy.
            workers=2 * settings.booking_concurrency,
        )
        app.ctx.release_keepers = [
            asyncio.create_task(
                repeat(app.ctx.mirror.repair, every=REPAIR_INTERVAL_SECONDS, name="mirror repair")
            ),
            asyncio.create_task(
                repeat(
                    lambda: holds_service.expire_holds(now=local_now()),
                    every=holds_service.EXPIRY_INTERVAL_SECONDS,
                    name="hold expiry",
                )
            ),
            asyncio.create_task(
                repeat(
                    partial(save_refusals, app.ctx.redis),
                    every=FLUSH_INTERVAL_SECONDS,
                    name="refusal trail",
                )
            ),
        ]

    @app.before_server_stop
    async def stop_release_keepers(app: Sanic) -> None:
        await app.ctx.waiting_room.stop()
        for task in app.ctx.release_keepers:
            task.cancel()
        await asyncio.gather(*app.ctx.release_keepers, return_exceptions=True)

    @app.after_server_start
    async def start_slot_keeper(app: Sanic) -> None:
        app.ctx.slot_keeper = asyncio.create_task(_keep_slots_generated(settings))

    @app.after_server_start
    async def start_risk_feed_poller(app: Sanic) -> None:
        app.ctx.risk_poller = None
        if settings.risk_feed_url and settings.risk_feed_interval_seconds:
            app.ctx.risk_poller = asyncio.create_task(
                risk_feed.keep_feed_imported(settings, app.ctx.redis)
            )

    @app.before_server_stop
    async def stop_risk_feed_poller(app: Sanic) -> None:
        if app.ctx.risk_poller is not None:
            app.ctx.risk_poller.cancel()

    @app.after_server_start
    async def keep_the_startup_heap_out_of_gc(app: Sanic) -> None:
        # What start-up made (modules, ORM metadata, routes) lives as long as the process: left
        # to the collector, each full collection walked all of it again, 0.1-0.5 s with the event
        # loop stopped, in the middle of a crowd (43 ms at most once frozen). The embedding
        # catalogue freezes what it loads later in the same way (recommend/runtime.py).
        gc.freeze()

    @app.after_server_start
    async def warm_embeddings(app: Sanic) -> None:
        # Under test the model is loaded once per session by the tests that use it, not in the
        # background of every test server.
        if settings.env != "test":
            app.ctx.recommender.start_warming()

    @app.before_server_stop
    async def stop_slot_keeper(app: Sanic) -> None:
        app.ctx.slot_keeper.cancel()
        await app.ctx.recommender.stop()

    @app.after_server_stop
    async def disconnect_stores(app: Sanic) -> None:
        # The runtime holds this app's Redis: it must not outlive it (a later app, a test).
        runtime.install(runtime.ReleaseRuntime())
        await app.ctx.redis.aclose()
        await db.close_database()

    return app


async def _keep_slots_generated(settings: Settings) -> None:
    """Every hour, make sure each reservable venue has slots for the coming days.

    Idempotent (a unique key per venue, day and start), so several workers may all run it.
    """
    while True:
        try:
            await reservations.generate_upcoming_slots(
                today=local_now().date(), days=settings.slot_days_ahead
            )
        except Exception:
            log.exception("generating upcoming slots failed")
        await asyncio.sleep(SLOT_KEEPER_INTERVAL_SECONDS)


def _add_service_routes(app: Sanic) -> None:
    @app.get("/healthz", name="healthz")
    @openapi.summary("Liveness and readiness: the database and Redis answer")
    async def healthz(request: Request) -> HTTPResponse:
        checks = {
            "database": "ok" if await db.database_is_reachable() else "down",
            "redis": "ok" if await cache.redis_is_reachable(request.app.ctx.redis) else "down",
        }
        healthy = all(state == "ok" for state in checks.values())
        # The model warming up (or failed) leaves the service up: recommendations fall back.
        # So does the chatbot's classifier warming up (its fit, seconds of CPU) and the model.
        warm_ups = {**request.app.ctx.recommender.health(), **bots_routes.health(request.app)}
        return json(
            {"status": "ok" if healthy else "degraded", **checks, **warm_ups},
            status=200 if healthy else 503,
        )

    @app.get("/openapi.json", name="openapi_document")
    @openapi.exclude()
    async def openapi_document(request: Request) -> HTTPResponse:
        document = SpecificationBuilder().build(request.app).serialize()
        return json(hoist_schema_definitions(document))
