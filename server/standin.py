"""What the stand-ins for outside HTTP services share: a real server on loopback, in a thread.

A stand-in (the card issuer's, in server/card/standin.py; WeChat's and the risk feed's, in
tests/stubs/) answers as the real service would, so the client code under test goes over real
sockets. Each gives its own request handler (usually a `QuietJSONHandler`); `StandIn` starts and
stops the server and says where it listens.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StandIn:
    """One HTTP server on loopback (the OS chooses the port) in a background thread."""

    name = "stand-in"  # the service it stands in for, as error messages and the thread say it

    def __init__(self) -> None:
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class answering for this stand-in."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """Where it listens, e.g. http://127.0.0.1:40123."""
        if self._http is None:
            raise RuntimeError(f"the {self.name} is not running")
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen (port 0: the OS chooses) in a background thread."""
        self._http = ThreadingHTTPServer((host, port), self.handler())
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, name=self.name.replace(" ", "-"), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening; calling it again does nothing."""
        if self._http is None:
            return
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http = self._thread = None


class QuietJSONHandler(BaseHTTPRequestHandler):
    """A handler answering JSON, reading JSON bodies, and logging nothing.

    Request lines would be noise in test output, and bodies may be personal data: each stand-in
    keeps its own record of what it was asked.
    """

    content_type = "application/json; charset=utf-8"

    def read_json(self, empty: bytes = b"null") -> Any:
        """The request's JSON body (`empty` parsed when there is none); None when not JSON."""
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or empty)
        except ValueError:
            return None

    def send_json(self, status: int, payload: Any) -> None:
        """Answer `payload` as JSON with `status`."""
        self.send_body(status, json.dumps(payload, ensure_ascii=False).encode())

    def send_body(self, status: int, body: bytes) -> None:
        """Answer `body` as it is, labelled with `content_type`."""
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet (see the class)."""
