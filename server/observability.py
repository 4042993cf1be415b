"""Request ids in every log line, access logs without personal data, Prometheus metrics."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sanic import Request, Sanic
from sanic.response import HTTPResponse, raw

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("etour.access")

REQUESTS = Counter(
    "etour_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "etour_http_request_seconds",
    "Time to answer an HTTP request",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestIdFilter(logging.Filter):
    """Adds the current request id to every log record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def configure_logging(level: str) -> None:
    """One log format for the service: time, level, logger, request id, message."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("sanic.access", "tortoise", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def install(app: Sanic) -> None:
    """Request-id and metrics middleware, and the /metrics endpoint."""

    @app.on_request(priority=100)
    async def start_request(request: Request) -> None:
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.ctx.request_id = request_id
        request.ctx.started = time.perf_counter()
        _request_id.set(request_id)

    @app.on_response(priority=100)
    async def finish_request(request: Request, response: HTTPResponse) -> None:
        request_id = getattr(request.ctx, "request_id", None)
        if request_id:
            response.headers["X-Request-ID"] = request_id
        started = getattr(request.ctx, "started", None)
        # The route pattern, not the path: ids in paths would explode the label set.
        route = request.route.path if request.route else "unmatched"
        if started is not None:
            elapsed = time.perf_counter() - started
            LATENCY.labels(route).observe(elapsed)
            # Method, route pattern, status only: bodies and query strings may hold personal data.
            access_log.info(
                "%s /%s %s %.1fms", request.method, route, response.status, elapsed * 1000
            )
        REQUESTS.labels(request.method, route, str(response.status)).inc()

    @app.get("/metrics", name="metrics")
    async def metrics(request: Request) -> HTTPResponse:
        """Prometheus metrics of this process."""
        return raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)
