"""Card tests run against the stand-in issuer: the app's CARD_ISSUER_BASE points at it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fakeredis
import httpx
import pytest
from conftest import TEST_SECRET, prepare_database
from factories import make_staff_token, make_visitor_token
from stubs.card_issuer import (
    VALID,
    as_binding,
    card_issuer,  # noqa: F401 (registers the fixture)
)

from server.accounts.models import StaffUser, Visitor
from server.card import service
from server.card.issuer import HttpCardIssuer
from server.card.models import BoundCard
from server.card.standin import CardIssuerStandIn, IssuedCard
from server.clock import local_now
from server.config import Settings
from server.personal_data import FieldCipher
from server.signing import TokenSigner
from server.venues.models import Venue

ISSUER_TIMEOUT_SECONDS = 1.0
_accounts = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


@pytest.fixture
def settings(
    card_issuer: CardIssuerStandIn,  # noqa: F811
    tmp_path: Path,
    migrated_template: Path,
) -> Settings:
    """A fresh database, and the app asking the stand-in issuer (answering within a second)."""
    return prepare_database(
        tmp_path,
        migrated_template,
        card_issuer_base=card_issuer.url,
        card_issuer_timeout_seconds=ISSUER_TIMEOUT_SECONDS,
    )


@dataclass
class Holder:
    """A visitor of the mini-program, talking to the running test server."""

    client: httpx.AsyncClient
    visitor_id: int
    token: str

    async def bind(self, card: IssuedCard = VALID, **changes: str) -> httpx.Response:
        return await self.client.post(
            "/api/v1/card/cards", json=as_binding(card, **changes), headers=bearer(self.token)
        )

    async def bound(self, card: IssuedCard = VALID) -> BoundCard:
        """Bind `card`, asserting it worked; the stored row."""
        answer = await self.bind(card)
        assert answer.status_code == 201, answer.text
        return await BoundCard.get(id=answer.json()["id"])

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, path, headers=bearer(self.token), **kwargs)


@pytest.fixture
async def make_holder(server):
    """Make a signed-in visitor."""

    async def make() -> Holder:
        visitor, token = await make_visitor_token(server.app)
        return Holder(server.client, visitor.id, token)

    return make


@pytest.fixture
async def holder(make_holder) -> Holder:
    return await make_holder()


@dataclass
class Staff:
    """A venue's gate or desk account."""

    client: httpx.AsyncClient
    venue: Venue
    staff_id: int
    token: str

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, path, headers=bearer(self.token), **kwargs)

    async def card_entry(self, **read: str) -> dict:
        """The gate's answer to a card, asserting it is a normal 200 answer."""
        answer = await self.call("POST", "/api/v1/gate/card", json=read)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def staff_of(server):
    """A venue_staff account of `venue`."""

    async def make(venue: Venue) -> Staff:
        staff, token = await make_staff_token(server.app, venue)
        return Staff(server.client, venue, staff.id, token)

    return make


# --- service-level tests: the services with the stand-in issuer, no HTTP server ----------------


@dataclass
class CardWorld:
    """What the card services take, wired to the stand-in issuer and a fresh database."""

    standin: CardIssuerStandIn
    issuer: HttpCardIssuer
    cipher: FieldCipher
    signer: TokenSigner
    redis: Any

    async def bind(self, card: IssuedCard = VALID, visitor: Visitor | None = None) -> BoundCard:
        """A visitor (new unless given) with `card` bound, through the real binding."""
        visitor = visitor or await Visitor.create(openid=f"card-holder-{next(_accounts)}")
        return await service.bind_card(
            visitor_id=visitor.id,
            name=card.name,
            id_number=card.id_number,
            card_number=card.card_number,
            region=card.region,
            issuer=self.issuer,
            cipher=self.cipher,
            now=local_now(),
        )

    async def staff(self, venue: Venue) -> int:
        """A venue_staff account of `venue`; its id."""
        staff = await StaffUser.create(
            username=f"gate-{venue.id}-{next(_accounts)}",
            password_hash="not-a-real-hash",
            role="venue_staff",
            venue=venue,
        )
        return staff.id

    async def enter(self, venue: Venue, staff_id: int, **read: Any) -> service.CardGateOutcome:
        """Present a card at the venue's gate now (card_number=... or qr=...)."""
        read = {"card_number": None, "qr": None, **read}
        return await service.enter_by_card(
            venue_id=venue.id,
            staff_id=staff_id,
            now=read.pop("now", None) or local_now(),
            issuer=self.issuer,
            cipher=self.cipher,
            signer=self.signer,
            redis=self.redis,
            thresholds=(80, 100),
            **read,
        )


@pytest.fixture
async def world(database: Settings, card_issuer: CardIssuerStandIn) -> CardWorld:  # noqa: F811
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    secret = TEST_SECRET.encode()
    return CardWorld(
        standin=card_issuer,
        issuer=HttpCardIssuer(base=card_issuer.url, timeout=ISSUER_TIMEOUT_SECONDS),
        cipher=FieldCipher(secret),
        signer=TokenSigner(secret),
        redis=redis,
    )
