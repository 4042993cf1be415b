"""No copy is lent twice: many cards race for one copy, over HTTP and straight at the service.

A canary runs the same race with the copy's conditional UPDATE replaced by the read-then-write
a careless implementation would do, and the same audit finds the double loan: a green run means
the guard held, not that the race never happened.
"""

from __future__ import annotations

import asyncio

from factories import make_venue
from stubs.card_issuer import TEST_CARDS

from server.card import errors, service
from server.card.models import Book, BookCopy, BoundCard, Loan
from server.card.standin import IssuedCard
from server.clock import local_now
from server.venues.models import VenueKind

LOANS = "/api/v1/card/loans"
RACERS = 12


def racer_cards() -> list[IssuedCard]:
    """RACERS distinct cards the issuer knows (made from the test cards' holders)."""
    base = TEST_CARDS[0]
    return [IssuedCard(f"R{n:08d}", base.id_number, base.name, base.region) for n in range(RACERS)]


async def one_copy() -> BookCopy:
    library = await make_venue(kind=VenueKind.LIBRARY)
    book = await Book.create(venue=library, isbn="9787208123458", title={"zh-CN": "永嘉学派"})
    return await BookCopy.create(book=book, venue=library, barcode=f"RACE-{library.id}")


async def audit(copy: BookCopy) -> tuple[int, int]:
    """(loans of the copy, sum of the cards' open-loan counts): both must be 1."""
    loans = await Loan.filter(copy_id=copy.id, returned_at__isnull=True).count()
    counted = sum(await BoundCard.all().values_list("loans_open", flat=True))
    return loans, counted


async def bound_racers(world) -> list[BoundCard]:
    cards = []
    for card in racer_cards():
        world.standin.add(card)
        cards.append(await world.bind(card))
    return cards


async def race(cards: list[BoundCard], copy: BookCopy, *, guard_copy: bool) -> list[object]:
    async def attempt(card: BoundCard) -> object:
        try:
            return await service.borrow(
                card=card, barcode=copy.barcode, now=local_now(), guard_copy=guard_copy
            )
        except errors.CopyOnLoan as refusal:
            return refusal

    return await asyncio.gather(*(attempt(card) for card in cards))


async def test_racing_cards_lend_one_copy_once(world):
    cards, copy = await bound_racers(world), await one_copy()
    results = await race(cards, copy, guard_copy=True)
    assert sum(isinstance(r, Loan) for r in results) == 1
    assert sum(isinstance(r, errors.CopyOnLoan) for r in results) == RACERS - 1
    assert await audit(copy) == (1, 1)


async def test_canary_without_the_guard_the_same_race_lends_twice(world):
    cards, copy = await bound_racers(world), await one_copy()
    await race(cards, copy, guard_copy=False)
    loans, counted = await audit(copy)
    assert loans > 1 and counted == loans  # the audit above would have failed


async def test_racing_visitors_over_http_get_one_loan_and_clear_409s(make_holder, card_issuer):
    copy = await one_copy()
    holders = []
    for card in racer_cards():
        card_issuer.add(card)
        holder = await make_holder()
        bound = await holder.bound(card)
        holders.append((holder, bound))

    answers = await asyncio.gather(
        *(
            holder.call(
                "POST", "/api/v1/card/loans", json={"card_id": b.id, "barcode": copy.barcode}
            )
            for holder, b in holders
        )
    )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * (RACERS - 1), [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"copy_on_loan"}
    assert await audit(copy) == (1, 1)
