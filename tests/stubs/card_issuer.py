"""The card issuer stand-in (server/card/standin.py) as a pytest fixture, with test cards.

The stand-in itself lives in the server package because the demo runs it too
(`etour card-issuer-standin`); tests get it here, loaded with one card of each standing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from server.card.standin import CardIssuerStandIn, IssuedCard

# Holders with valid ID numbers (GB 11643 check digits), one card per issuer answer.
VALID = IssuedCard("A33030201", "330302198503122184", "王小明", "330302")
SECOND = IssuedCard("B31010188", "310101196208014578", "李秀英", "310101")
THIRD = IssuedCard("E33038155", "330381200106060886", "林晓", "330381")
LOST = IssuedCard("C32010277", "320102199011233365", "张伟", "320102", status="lost")
EXPIRED = IssuedCard(
    "D34010266", "340102197801301291", "陈静", "340102", valid_until=date(2024, 6, 30)
)
UNKNOWN_NUMBER = "Z99999999"  # a well-formed card number the issuer never issued

TEST_CARDS = (VALID, SECOND, THIRD, LOST, EXPIRED)


def as_binding(card: IssuedCard, **changes: str) -> dict[str, str]:
    """The mini-program's bind request for `card` (fields overridable)."""
    return {
        "name": card.name,
        "id_number": card.id_number,
        "card_number": card.card_number,
        "region": card.region,
        **changes,
    }


@pytest.fixture
def card_issuer() -> Iterator[CardIssuerStandIn]:
    """The stand-in issuer on loopback for this test, knowing TEST_CARDS."""
    # Copies: a test may report a card lost without touching the next test's register.
    standin = CardIssuerStandIn(tuple(replace(card) for card in TEST_CARDS))
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
