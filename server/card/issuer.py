"""The card issuer: checking a social-security card with the body that issued it.

`CardIssuer` is what the card service needs; `HttpCardIssuer` speaks the issuer's HTTP protocol
at CARD_ISSUER_BASE (a stand-in on loopback in tests and the demo: server/card/standin.py).

The protocol (JSON over HTTP POST, so card and ID numbers never appear in URLs or access logs;
every answer is HTTP 200 with a business `code`, as China's social-security platforms answer):
- POST /v1/cards/verify {"card_number", "id_number", "name", "region"} -> code "0000" with
  {"status": "valid", "valid_until"}; 2001 unknown card; 2002 holder does not match;
  2003 reported lost; 2004 expired; 9001 system busy.
- POST /v1/cards/status {"card_number"} -> "0000" {"status", "valid_until"} or 2001.
- GET /v1/keys -> {"code": "0000", "alg": "Ed25519", "public_key": base64url raw key} for the
  electronic card's QR codes.

An electronic card's QR text is `ESSC1.<payload>.<signature>`: payload is base64url JSON
{"c": card number, "r": region, "exp": epoch seconds}, signature (base64url) is the issuer's
Ed25519 signature over "essc." + payload. It lives a minute, so a screenshot goes stale.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from server.errors import ServiceUnavailable

log = logging.getLogger("etour.card.issuer")

ECARD_PREFIX = "ESSC1."
ECARD_PURPOSE = "essc"
ECARD_TTL_SECONDS = 60

# The issuer's business codes.
OK = "0000"
UNKNOWN_CARD = "2001"
HOLDER_MISMATCH = "2002"
REPORTED_LOST = "2003"
CARD_EXPIRED = "2004"
SYSTEM_BUSY = "9001"


class IssuerAnswer(StrEnum):
    """What the issuer says about a card."""

    VALID = "valid"
    UNKNOWN = "unknown"
    MISMATCH = "mismatch"
    LOST = "lost"
    EXPIRED = "expired"


_ANSWERS = {
    OK: IssuerAnswer.VALID,
    UNKNOWN_CARD: IssuerAnswer.UNKNOWN,
    HOLDER_MISMATCH: IssuerAnswer.MISMATCH,
    REPORTED_LOST: IssuerAnswer.LOST,
    CARD_EXPIRED: IssuerAnswer.EXPIRED,
}


@dataclass(frozen=True)
class CardVerdict:
    """The issuer's answer on one card, and until when the card is valid when it says so."""

    answer: IssuerAnswer
    valid_until: date | None = None


class IssuerUnavailable(ServiceUnavailable):
    """The issuer timed out, failed (5xx, busy) or answered something unreadable: a clear 503."""

    code = "card_issuer_unavailable"


class CardIssuer(Protocol):
    """Checks cards with their issuer."""

    async def verify(
        self, *, card_number: str, id_number: str, name: str, region: str
    ) -> CardVerdict:
        """Whether the card exists, belongs to this holder, and is neither lost nor expired."""

    async def status(self, *, card_number: str) -> CardVerdict:
        """The card's current standing (valid, unknown, lost, expired)."""

    async def ecard_public_key(self) -> Ed25519PublicKey:
        """The key electronic-card QR codes are signed with."""


class HttpCardIssuer:
    """The issuer's HTTP service at `base` (CARD_ISSUER_BASE)."""

    def __init__(self, *, base: str, timeout: float) -> None:
        self._base = base.rstrip("/")
        self._timeout = timeout
        self._public_key: Ed25519PublicKey | None = None

    def __repr__(self) -> str:
        return f"<HttpCardIssuer {self._base}>"

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None) -> dict:
        try:
            async with httpx.AsyncClient(base_url=self._base, timeout=self._timeout) as client:
                response = await client.request(method, path, json=payload)
        except httpx.HTTPError as failure:
            # Only the kind of failure: the exception text could carry the request.
            log.warning("card issuer unreachable on %s: %s", path, type(failure).__name__)
            raise IssuerUnavailable() from None
        if response.status_code != 200:
            log.warning("card issuer answered HTTP %s on %s", response.status_code, path)
            raise IssuerUnavailable()
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("code"), str):
            log.warning("card issuer answered an unreadable body on %s", path)
            raise IssuerUnavailable()
        return answer

    def _verdict(self, answer: dict, path: str) -> CardVerdict:
        code = answer["code"]
        known = _ANSWERS.get(code)
        if known is None:
            if code != SYSTEM_BUSY:
                log.error("card issuer answered unknown code %s on %s", code, path)
            raise IssuerUnavailable()
        valid_until = None
        if known in (IssuerAnswer.VALID, IssuerAnswer.EXPIRED):
            try:
                valid_until = date.fromisoformat(str(answer.get("valid_until")))
            except ValueError:
                log.warning("card issuer answered without a valid_until on %s", path)
                raise IssuerUnavailable() from None
        return CardVerdict(answer=known, valid_until=valid_until)

    async def verify(
        self, *, card_number: str, id_number: str, name: str, region: str
    ) -> CardVerdict:
        """POST /v1/cards/verify."""
        payload = {
            "card_number": card_number,
            "id_number": id_number,
            "name": name,
            "region": region,
        }
        answer = await self._call("POST", "/v1/cards/verify", payload)
        return self._verdict(answer, "/v1/cards/verify")

    async def status(self, *, card_number: str) -> CardVerdict:
        """POST /v1/cards/status."""
        answer = await self._call("POST", "/v1/cards/status", {"card_number": card_number})
        return self._verdict(answer, "/v1/cards/status")

    async def ecard_public_key(self) -> Ed25519PublicKey:
        """GET /v1/keys once per process: an issuer rotates its key rarely, and announces it."""
        if self._public_key is None:
            answer = await self._call("GET", "/v1/keys", None)
            try:
                self._public_key = Ed25519PublicKey.from_public_bytes(
                    _b64decode(str(answer.get("public_key")))
                )
            except ValueError:
                log.warning("card issuer answered an unreadable public key")
                raise IssuerUnavailable() from None
        return self._public_key


# --- the electronic card's QR code -------------------------------------------------------------


class EcardProblem(StrEnum):
    """Why an electronic card QR text was not accepted (gate reasons of the same name)."""

    UNKNOWN_CODE = "unknown_code"
    FORGED = "forged"
    EXPIRED = "expired"


class EcardRefused(Exception):
    """An electronic card QR text that is not ours, not genuine or stale."""

    def __init__(self, problem: EcardProblem) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class EcardClaims:
    """What a genuine electronic card QR says."""

    card_number: str
    region: str
    expires: int


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def read_ecard_qr(public_key: Ed25519PublicKey, text: str, *, now: float) -> EcardClaims:
    """The claims of a genuine, unexpired electronic card QR text; else EcardRefused."""
    text = text.strip()
    if not text.startswith(ECARD_PREFIX):
        raise EcardRefused(EcardProblem.UNKNOWN_CODE)
    body, _, signature = text.removeprefix(ECARD_PREFIX).partition(".")
    try:
        public_key.verify(_b64decode(signature), f"{ECARD_PURPOSE}.{body}".encode())
        claims = json.loads(_b64decode(body))
    except (InvalidSignature, ValueError):
        raise EcardRefused(EcardProblem.FORGED) from None
    if not (
        isinstance(claims, dict)
        and isinstance(claims.get("c"), str)
        and isinstance(claims.get("r"), str)
        and type(claims.get("exp")) is int
    ):
        raise EcardRefused(EcardProblem.FORGED)
    if claims["exp"] <= now or not math.isfinite(now):
        raise EcardRefused(EcardProblem.EXPIRED)
    return EcardClaims(card_number=claims["c"], region=claims["r"], expires=claims["exp"])
