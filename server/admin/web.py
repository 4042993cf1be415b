"""Plugging the admin side into the app: its API, the cockpit page, the audit retention job."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sanic import Request, Sanic
from sanic.response import HTTPResponse, redirect

from server.admin import audit
from server.admin.routes import bp
from server.clock import local_now

STATIC_DIR = Path(__file__).parent / "static"
RETENTION_INTERVAL_SECONDS = 24 * 3600
log = logging.getLogger("etour.admin")


def install(app: Sanic) -> None:
    """Add the admin API, the cockpit page at /admin/ and the daily audit retention job."""
    app.blueprint(bp)
    app.static(
        "/admin/", STATIC_DIR, name="admin_cockpit", index="index.html", directory_view=False
    )

    @app.get("/admin", name="admin_cockpit_redirect")
    async def to_cockpit(request: Request) -> HTTPResponse:
        return redirect("/admin/")

    @app.before_server_start
    async def prepare_cockpit(app: Sanic) -> None:
        app.ctx.cockpit_closing = asyncio.Event()

    @app.after_server_start
    async def start_audit_retention(app: Sanic) -> None:
        app.ctx.audit_retention = asyncio.create_task(_keep_audit_retention())

    @app.before_server_stop
    async def stop_admin_tasks(app: Sanic) -> None:
        app.ctx.cockpit_closing.set()  # open event streams end, so the server can stop
        app.ctx.audit_retention.cancel()


async def _keep_audit_retention() -> None:
    """Once a day, delete audit entries past the retention period (180 days at least).

    Any number of workers may run it: deleting rows that are already gone deletes nothing.
    """
    while True:
        try:
            deleted = await audit.purge_expired(now=local_now())
            if deleted:
                await audit.record(None, "audit.purge", "audit_entry", None, {"deleted": deleted})
        except Exception:
            log.exception("purging expired audit entries failed")
        await asyncio.sleep(RETENTION_INTERVAL_SECONDS)
