"""The one place personal information (PIPL) is handled: validated, encrypted, hashed, masked.

ID-card and phone numbers are checked here before they are stored, stored only as FieldCipher
tokens, found again through their keyed lookup hash, and shown to people only masked. Nothing in
this module puts a number into an exception message, an exception chain or a repr.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from datetime import date
from typing import ClassVar, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server.errors import AppError
from server.signing import derive_key

__all__ = [
    "FieldCipher",
    "FieldDecryptionError",
    "InvalidIdNumber",
    "InvalidPhone",
    "age_on",
    "birth_date_of",
    "mask_card_number",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "validate_id_number",
    "validate_phone",
]

IdNumberReason = Literal["length", "characters", "check_digit", "birth_date", "region"]


class InvalidIdNumber(AppError):
    """An ID card number that fails GB 11643-1999; `reason` says which rule, never the number."""

    code = "invalid_id_number"
    status = 422

    def __init__(self, *, reason: IdNumberReason) -> None:
        super().__init__(reason=reason)

    def extra(self) -> dict[str, object]:
        return {"reason": self.params.get("reason")}


class InvalidPhone(AppError):
    """A phone number that is not a mainland China mobile number (the number is not kept)."""

    code = "invalid_phone"
    status = 422

    def __init__(self) -> None:
        super().__init__()


class FieldDecryptionError(Exception):
    """A stored token is malformed, was tampered with, or was encrypted under another secret."""

    def __init__(self) -> None:
        super().__init__(
            "encrypted field value is malformed, was tampered with, "
            "or was encrypted under another secret key"
        )


# --- ID card numbers (GB 11643-1999) -------------------------------------------------------

ID_NUMBER_LENGTH = 18
MAX_AGE_YEARS = 130
# Weights of the ISO 7064 MOD 11-2 check: 2^(17-i) mod 11 for the first 17 digits.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
_ASCII_DIGITS = frozenset("0123456789")
_CHECK_CHARS_ALLOWED = frozenset("0123456789X")
# Province-level codes of GB/T 2260 (all within 11-82; 81/82 are Hong Kong/Macau).
_PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)


def _check_char(first17: str) -> str:
    return _ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # Feb 29 in a year that has none
        return day.replace(year=day.year - years, day=28)


def _parse_birth_date(digits: str) -> date | None:
    try:
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def validate_id_number(text: str, *, today: date) -> str:
    """The 18-character resident ID number in `text`, upper-cased; else InvalidIdNumber(reason)."""
    number = text.strip().upper()
    if len(number) != ID_NUMBER_LENGTH:
        raise InvalidIdNumber(reason="length")
    if not set(number[:17]) <= _ASCII_DIGITS or number[17] not in _CHECK_CHARS_ALLOWED:
        raise InvalidIdNumber(reason="characters")
    if _check_char(number[:17]) != number[17]:
        raise InvalidIdNumber(reason="check_digit")
    birth = _parse_birth_date(number[6:14])
    if birth is None or birth > today or birth < _years_before(today, MAX_AGE_YEARS):
        raise InvalidIdNumber(reason="birth_date")
    if int(number[:2]) not in _PROVINCE_CODES:
        raise InvalidIdNumber(reason="region")
    return number


def birth_date_of(id_number: str) -> date:
    """The birth date written in an 18-character ID number (positions 7-14)."""
    number = id_number.strip()
    if len(number) != ID_NUMBER_LENGTH:
        raise InvalidIdNumber(reason="length")
    digits = number[6:14]
    birth = _parse_birth_date(digits) if set(digits) <= _ASCII_DIGITS else None
    if birth is None:
        raise InvalidIdNumber(reason="birth_date")
    return birth


def age_on(id_number: str, day: date) -> int:
    """Whole years of age on `day`; a Feb 29 birthday counts as Mar 1 in non-leap years."""
    birth = birth_date_of(id_number)
    if day < birth:
        raise ValueError("the day is before the birth date")
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --- Phone numbers -------------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[ \t\-]")
_MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def validate_phone(text: str) -> str:
    """The 11-digit mainland mobile number in `text` (+86/86, spaces, dashes allowed)."""
    number = _PHONE_SEPARATORS.sub("", text.strip())
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    if not _MAINLAND_MOBILE.fullmatch(number):
        raise InvalidPhone()
    return number


# --- Masking for display -------------------------------------------------------------------


def _mask_middle(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def mask_id_number(id_number: str) -> str:
    """An ID number with only its first 4 and last 4 characters shown: 3303**********1234."""
    return _mask_middle(id_number.strip().upper(), 4, 4)


def mask_phone(phone: str) -> str:
    """A phone number with only its first 3 and last 4 digits shown: 138****5678."""
    return _mask_middle(_PHONE_SEPARATORS.sub("", phone.strip()), 3, 4)


def mask_card_number(card: str) -> str:
    """A card number with only its first 2 and last 4 characters shown."""
    return _mask_middle(_PHONE_SEPARATORS.sub("", card.strip()), 2, 4)


def _is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK ", "HANGUL ", "HIRAGANA ", "KATAKANA "))


def mask_name(name: str) -> str:
    """A name with only its first character (Chinese) or each word's initial (Latin) shown."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    if any(_is_cjk(char) for char in name):
        return name[0] + "*" * (len(name) - 1)
    return " ".join(word[0] + "*" for word in name.split())


# --- Encryption at rest and lookup hashes --------------------------------------------------

_NONCE_BYTES = 12
_TOKEN_BODY = re.compile(r"[A-Za-z0-9_-]+")


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _lookup_form(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


class FieldCipher:
    """Encrypts personal fields (AES-256-GCM) and computes their keyed lookup hashes."""

    VERSION: ClassVar[str] = "v1"
    _ENCRYPTION_LABEL: ClassVar[str] = "etour/personal-data/aes-256-gcm/v1"
    _LOOKUP_LABEL: ClassVar[str] = "etour/personal-data/lookup-hmac-sha256/v1"

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the root secret must not be empty")
        self._aead = AESGCM(derive_key(secret, self._ENCRYPTION_LABEL))
        self._lookup_key = derive_key(secret, self._LOOKUP_LABEL)

    def __repr__(self) -> str:
        return f"<FieldCipher {self.VERSION}>"

    def encrypt(self, plaintext: str) -> str:
        """An ASCII token "v1:<base64url(nonce + ciphertext)>" with a fresh random nonce."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), self.VERSION.encode())
        return f"{self.VERSION}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str) -> str:
        """The plaintext of a token from `encrypt`; FieldDecryptionError if it is not genuine."""
        version, separator, body = token.partition(":")
        if version != self.VERSION or not separator or not _TOKEN_BODY.fullmatch(body):
            raise FieldDecryptionError()
        try:
            raw = _b64decode(body)
        except (binascii.Error, ValueError):
            raise FieldDecryptionError() from None
        if len(raw) <= _NONCE_BYTES or _b64encode(raw) != body:  # one spelling per token
            raise FieldDecryptionError()
        try:
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], version.encode())
            return plain.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise FieldDecryptionError() from None

    def lookup_hash(self, value: str) -> str:
        """Keyed HMAC-SHA256 hex of the value (NFKC, trimmed, case-folded) for indexed lookup."""
        message = _lookup_form(value).encode("utf-8")
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()
