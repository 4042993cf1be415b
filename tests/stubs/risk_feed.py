"""A stand-in for the weather and traffic risk feed, served for real on loopback.

Tests set `document` (the JSON the feed answers with), or `status` to make it fail, and read
back how many `requests` it saw.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from server.standin import QuietJSONHandler, StandIn

FEED_PATH = "/feed.json"


class RiskFeedStub(StandIn):
    """Serves `document` at /feed.json with `status` (200 by default)."""

    name = "risk feed stand-in"

    def __init__(self) -> None:
        super().__init__()
        self.document: Any = {"source": "stub", "items": []}
        self.status = 200
        self.requests = 0

    @property
    def url(self) -> str:
        """The feed's address, e.g. http://127.0.0.1:40123/feed.json."""
        return super().url + FEED_PATH

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)


def _handler_for(stub: RiskFeedStub) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietJSONHandler):
        def do_GET(self) -> None:
            stub.requests += 1
            found = self.path == FEED_PATH
            status = stub.status if found else 404
            # A str document is sent as it is: tests serve broken JSON that way.
            text = stub.document if isinstance(stub.document, str) else json.dumps(stub.document)
            self.send_body(status, text.encode() if found else b"{}")

    return Handler


@pytest.fixture
def risk_feed() -> Iterator[RiskFeedStub]:
    """The risk feed stand-in, running for this test."""
    stub = RiskFeedStub()
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()
