"""The one token signer: compact signed tokens with a purpose and an expiry.

Session tokens and ticket QR texts are all made here, each under its own purpose, so a token
minted for one use is never accepted for another. Ed25519 lets gate devices check ticket QR codes
offline with the public key alone. A session token is only ever checked by this service, so it
is signed with HMAC-SHA256 instead: a flash crowd's every first request checks one, and an
Ed25519 check took 150 µs of CPU here (an eighth of the servers' CPU in bench/flash_crowd.py's
crowd), HMAC 2 µs. Both keys are derived from ETOUR_SECRET_KEY, so every server process signs
alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from server.errors import TokenExpired, TokenInvalid

SESSION_PURPOSE = "session"
# Purposes whose tokens nobody but this service checks: signed with HMAC-SHA256.
_SERVER_ONLY_PURPOSES = frozenset({SESSION_PURPOSE})

# Genuine tokens remembered per signer (see `verify`): a release's crowd of tens of thousands of
# visitors polling and retrying fits (their claims are not checked and decoded again); about
# 16 MB at most. Past this the oldest is forgotten and checked again if it returns.
REMEMBERED_TOKENS = 32_768


def derive_key(secret: bytes, label: str) -> bytes:
    """A 32-byte key for one use (signing, field encryption, lookup hashes) from the root secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(secret)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Signs and verifies `<payload>.<signature>` tokens bound to a purpose."""

    def __init__(self, secret: bytes) -> None:
        self._private_key = Ed25519PrivateKey.from_private_bytes(
            derive_key(secret, "etour/token-signer/ed25519/v1")
        )
        self._public_key = self._private_key.public_key()
        raw_public = self._public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key_b64 = _b64encode(raw_public)
        self.key_id = _b64encode(derive_key(raw_public, "etour/key-id"))[:8]
        self._mac_key = derive_key(secret, "etour/token-signer/hmac-sha256/v1")
        self._remembered: dict[tuple[str, str], dict[str, Any]] = {}

    def sign(self, *, purpose: str, claims: dict[str, Any], ttl_seconds: int, now: float) -> str:
        """A token carrying `claims` for `purpose`, valid for `ttl_seconds` from `now`."""
        payload = {**claims, "exp": int(now) + ttl_seconds}
        body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
        signed = f"{purpose}.{body}".encode()
        if purpose in _SERVER_ONLY_PURPOSES:
            signature = self._mac(signed)
        else:
            signature = self._private_key.sign(signed)
        return f"{body}.{_b64encode(signature)}"

    def _mac(self, signed: bytes) -> bytes:
        return hmac.new(self._mac_key, signed, hashlib.sha256).digest()

    def verify(
        self, token: str, *, purpose: str, now: float, remember: bool = False
    ) -> dict[str, Any]:
        """The claims of a genuine, unexpired token for `purpose`; else TokenInvalid/Expired.

        With `remember`, a token found genuine before is not checked again (its expiry is):
        for session tokens, sent again with every request of a client.
        """
        claims = self._remembered.get((purpose, token)) if remember else None
        if claims is None:
            claims = self._genuine_claims(token, purpose)
            if remember:
                if len(self._remembered) >= REMEMBERED_TOKENS:
                    del self._remembered[next(iter(self._remembered))]  # the oldest
                self._remembered[(purpose, token)] = claims
        if claims["exp"] <= now:
            raise TokenExpired()
        return dict(claims)

    def _genuine_claims(self, token: str, purpose: str) -> dict[str, Any]:
        body, _, signature = token.partition(".")
        signed = f"{purpose}.{body}".encode()
        try:
            if purpose in _SERVER_ONLY_PURPOSES:
                if not hmac.compare_digest(self._mac(signed), _b64decode(signature)):
                    raise InvalidSignature()
            else:
                self._public_key.verify(_b64decode(signature), signed)
            claims = json.loads(_b64decode(body))
        except (InvalidSignature, ValueError):
            raise TokenInvalid() from None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            raise TokenInvalid()
        return claims
