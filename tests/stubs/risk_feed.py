"""A stand-in for the weather and traffic risk feed, served for real on loopback.

Tests set `document` (the JSON the feed answers with), or `status` to make it fail, and read
back how many `requests` it saw.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FEED_PATH = "/feed.json"


class RiskFeedStub:
    """Serves `document` at /feed.json with `status` (200 by default)."""

    def __init__(self) -> None:
        self.document: Any = {"source": "stub", "items": []}
        self.status = 200
        self.requests = 0
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The feed's address, e.g. http://127.0.0.1:40123/feed.json."""
        if self._http is None:
            raise RuntimeError("the risk feed stand-in is not running")
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}{FEED_PATH}"

    def start(self) -> None:
        """Listen on 127.0.0.1, on a port the OS chooses, in a background thread."""
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None


def _handler_for(stub: RiskFeedStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stub.requests += 1
            found = self.path == FEED_PATH
            status = stub.status if found else 404
            text = stub.document if isinstance(stub.document, str) else json.dumps(stub.document)
            body = text.encode() if found else b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: `stub.requests` is the record."""

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
