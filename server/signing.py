"""The one token signer: compact HMAC-SHA256 tokens with a purpose and an expiry.

Session tokens and (later) ticket QR texts are all made here, each under its own purpose, so a
token minted for one use is never accepted for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.errors import TokenExpired, TokenInvalid


def derive_key(secret: bytes, label: str) -> bytes:
    """A 32-byte key for one use (signing, field encryption, lookup hashes) from the root secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(secret)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Signs and verifies `<payload>.<mac>` tokens bound to a purpose."""

    def __init__(self, secret: bytes) -> None:
        self._key = derive_key(secret, "etour/token-signer/v1")

    def _mac(self, purpose: str, body: str) -> str:
        message = f"{purpose}.{body}".encode()
        return _b64encode(hmac.new(self._key, message, hashlib.sha256).digest())

    def sign(self, *, purpose: str, claims: dict[str, Any], ttl_seconds: int, now: float) -> str:
        """A token carrying `claims` for `purpose`, valid for `ttl_seconds` from `now`."""
        payload = {**claims, "exp": int(now) + ttl_seconds}
        body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def verify(self, token: str, *, purpose: str, now: float) -> dict[str, Any]:
        """The claims of a genuine, unexpired token for `purpose`; else TokenInvalid/Expired."""
        body, _, mac = token.partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self._mac(purpose, body)):
            raise TokenInvalid()
        try:
            claims = json.loads(_b64decode(body))
        except ValueError:
            raise TokenInvalid() from None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            raise TokenInvalid()
        if claims["exp"] <= now:
            raise TokenExpired()
        return claims
