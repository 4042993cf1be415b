"""A stand-in card issuer on loopback, answering as a real issuer's HTTP service would.

Used by the tests (tests/stubs/card_issuer.py) and the demo (`etour card-issuer-standin`).
It knows a few cards (valid, reported lost, expired), answers the protocol described in
server/card/issuer.py with its own business codes, and issues electronic-card QR texts signed
with its Ed25519 key. Switches for tests: `busy` (code 9001), `http_status` (e.g. 500) and
`delay_seconds` (slower than the client's timeout).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler
from typing import Any

from server.card import issuer as protocol
from server.signing import TokenSigner
from server.standin import QuietJSONHandler, StandIn

DEFAULT_SEED = b"etour-card-issuer-standin-demo-seed-0001"


@dataclass
class IssuedCard:
    """A card as the issuer's register holds it."""

    card_number: str
    id_number: str
    name: str
    region: str
    status: str = "valid"  # valid, lost or expired
    valid_until: date = date(2035, 12, 31)


# The demo register: made-up people with valid ID numbers, one card per standing.
DEMO_CARDS = (
    IssuedCard("A33030201", "330302198503122184", "王小明", "330302"),
    IssuedCard("B31010188", "310101196208014578", "李秀英", "310101"),
    IssuedCard("C32010277", "320102199011233365", "张伟", "320102", status="lost"),
    IssuedCard("D34010266", "340102197801301291", "陈静", "340102", "expired", date(2024, 6, 30)),
    IssuedCard("E33038155", "330381200106060886", "林晓", "330381"),
)


class CardIssuerStandIn(StandIn):
    """The issuer's verify, status, keys and e-card QR endpoints over a card register; its `url`
    is the base to configure as CARD_ISSUER_BASE."""

    name = "card issuer stand-in"

    def __init__(self, cards: tuple[IssuedCard, ...] = (), *, seed: bytes = DEFAULT_SEED) -> None:
        super().__init__()
        self.cards: dict[str, IssuedCard] = {card.card_number: card for card in cards}
        self.signer = TokenSigner(seed)
        self.busy = False
        self.http_status: int | None = None
        self.delay_seconds = 0.0
        self.requests: list[str] = []  # paths seen, oldest first (bodies are personal data)
        self._lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def add(self, card: IssuedCard) -> IssuedCard:
        """Put a card into the register (replacing one with the same number)."""
        with self._lock:
            self.cards[card.card_number] = card
        return card

    def ecard_qr(self, card_number: str, *, now: float | None = None) -> str:
        """The electronic card's QR text for a card of the register, valid for a minute."""
        card = self.cards[card_number]
        token = self.signer.sign(
            purpose=protocol.ECARD_PURPOSE,
            claims={"c": card.card_number, "r": card.region},
            ttl_seconds=protocol.ECARD_TTL_SECONDS,
            now=time.time() if now is None else now,
        )
        return protocol.ECARD_PREFIX + token

    def answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and JSON answer to one request."""
        with self._lock:
            self.requests.append(path)
            if self.http_status is not None:
                return self.http_status, {"code": "5000", "message": "internal error"}
            if self.busy:
                return 200, {"code": protocol.SYSTEM_BUSY, "message": "system busy"}
            if (method, path) == ("GET", "/v1/keys"):
                return 200, {
                    "code": protocol.OK,
                    "alg": "Ed25519",
                    "public_key": self.signer.public_key_b64,
                }
            if method != "POST":
                return 404, {"code": "4040", "message": "not found"}
            if path == "/v1/cards/verify":
                return 200, self._verify(body)
            if path == "/v1/cards/status":
                return 200, self._status(body)
            if path == "/v1/ecards/qr":
                return 200, self._issue_qr(body)
        return 404, {"code": "4040", "message": "not found"}

    def _standing(self, card: IssuedCard) -> dict[str, Any]:
        if card.status == "lost":
            return {"code": protocol.REPORTED_LOST, "message": "card reported lost"}
        if card.status == "expired" or card.valid_until < date.today():
            return {
                "code": protocol.CARD_EXPIRED,
                "message": "card expired",
                "valid_until": card.valid_until.isoformat(),
            }
        return {
            "code": protocol.OK,
            "message": "ok",
            "status": "valid",
            "valid_until": card.valid_until.isoformat(),
        }

    def _verify(self, body: dict[str, Any]) -> dict[str, Any]:
        card = self.cards.get(str(body.get("card_number", "")))
        if card is None or card.region != body.get("region"):
            return {"code": protocol.UNKNOWN_CARD, "message": "card not found"}
        if card.id_number != body.get("id_number") or card.name != body.get("name"):
            return {"code": protocol.HOLDER_MISMATCH, "message": "holder does not match card"}
        return self._standing(card)

    def _status(self, body: dict[str, Any]) -> dict[str, Any]:
        card = self.cards.get(str(body.get("card_number", "")))
        if card is None:
            return {"code": protocol.UNKNOWN_CARD, "message": "card not found"}
        return self._standing(card)

    def _issue_qr(self, body: dict[str, Any]) -> dict[str, Any]:
        card = self.cards.get(str(body.get("card_number", "")))
        if card is None:
            return {"code": protocol.UNKNOWN_CARD, "message": "card not found"}
        standing = self._standing(card)
        if standing["code"] != protocol.OK:
            return standing
        token = self.signer.sign(
            purpose=protocol.ECARD_PURPOSE,
            claims={"c": card.card_number, "r": card.region},
            ttl_seconds=protocol.ECARD_TTL_SECONDS,
            now=time.time(),
        )
        return {"code": protocol.OK, "qr": protocol.ECARD_PREFIX + token}


def _handler_for(standin: CardIssuerStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietJSONHandler):
        def do_GET(self) -> None:
            self._reply("GET", {})

        def do_POST(self) -> None:
            body = self.read_json(empty=b"{}")
            if not isinstance(body, dict):
                self.send_json(400, {"code": "1001", "message": "bad request"})
                return
            self._reply("POST", body)

        def _reply(self, method: str, body: dict[str, Any]) -> None:
            if standin.delay_seconds:
                time.sleep(standin.delay_seconds)
            status, answer = standin.answer(method, self.path.split("?")[0], body)
            self.send_json(status, answer)

    return Handler
