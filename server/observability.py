"""Request ids in every log line, access logs without personal data, Prometheus metrics."""

from __future__ import annotations

import bisect
import contextvars
import itertools
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from sanic import Request, Sanic
from sanic.response import HTTPResponse, raw

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("etour.access")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class HttpMetrics:
    """Requests answered and their latencies, in this process: counted in plain dicts as each
    request is answered, made into Prometheus metric families only when /metrics is read.

    prometheus_client's labelled children (a label lookup under a lock, per metric, per
    request) cost the servers about 4% of a flash crowd's sold-out refusal and 15% of an
    unmatched 404 (their CPU per answer, in bursts of 20,000 on two processes, each way in
    turn). One event loop counts here and the scrape reads on it too, so nothing needs a lock.
    """

    def __init__(self) -> None:
        self.answered: Counter[tuple[str, str, str]] = Counter()  # (method, route, status)
        # Per route: the count in each bucket (the last: above every bound), and their sum.
        self.latencies: dict[str, tuple[list[int], list[float]]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float | None) -> None:
        """Count one answered request, and its latency if it was timed."""
        self.answered[method, route, str(status)] += 1
        if seconds is None:
            return
        counts, total = self.latencies.get(route) or self.latencies.setdefault(
            route, ([0] * (len(LATENCY_BUCKETS) + 1), [0.0])
        )
        counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1  # buckets are "<= bound"
        total[0] += seconds

    def collect(self) -> Iterator[Metric]:
        """The metric families as Prometheus reads them (a collector of its registry)."""
        answered = CounterMetricFamily(
            "etour_http_requests", "HTTP requests answered", labels=["method", "route", "status"]
        )
        for labels, count in self.answered.items():
            answered.add_metric(list(labels), count)
        yield answered
        latency = HistogramMetricFamily(
            "etour_http_request_seconds", "Time to answer an HTTP request", labels=["route"]
        )
        bounds = [*(str(float(bound)) for bound in LATENCY_BUCKETS), "+Inf"]
        for route, (counts, total) in self.latencies.items():
            cumulative = itertools.accumulate(counts)
            latency.add_metric([route], list(zip(bounds, cumulative, strict=True)), total[0])
        yield latency


HTTP_METRICS = HttpMetrics()
REGISTRY.register(HTTP_METRICS)


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
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else secrets.token_hex(16)
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
        elapsed = None if started is None else time.perf_counter() - started
        HTTP_METRICS.observe(request.method, route, response.status, elapsed)
        if elapsed is not None:
            # Method, route pattern, status only: bodies and query strings may hold personal data.
            access_log.info(
                "%s /%s %s %.1fms", request.method, route, response.status, elapsed * 1000
            )

    @app.get("/metrics", name="metrics")
    async def metrics(request: Request) -> HTTPResponse:
        """Prometheus metrics of this process."""
        return raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)
