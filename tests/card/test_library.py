"""Library loans by card: borrow, return, renew, limits, overdue, figures, the demo catalogue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from factories import make_venue
from stubs.card_issuer import SECOND, VALID

from server.card import errors, service
from server.card.demo import DEMO_BOOKS, load_demo_card_data
from server.card.models import Book, BookCopy, BoundCard, CardBenefit, CardEntry, Loan
from server.clock import local_now
from server.venues.models import VenueKind


async def make_library(copies: int = 3):
    """A library with one title and `copies` copies (barcodes T-1, T-2, ...)."""
    library = await make_venue(kind=VenueKind.LIBRARY)
    book = await Book.create(
        venue=library, isbn="9787533950125", title={"zh-CN": "温州模式", "en": "The Wenzhou Model"}
    )
    for n in range(1, copies + 1):
        await BookCopy.create(book=book, venue=library, barcode=f"T{library.id}-{n}")
    return library


async def test_a_card_borrows_and_returns_a_copy(world):
    card = await world.bind(VALID)
    library = await make_library()
    now = local_now()

    loan = await service.borrow(card=card, barcode=f"T{library.id}-1", now=now, venue_id=library.id)

    assert loan.due_on == now.date() + timedelta(days=service.LOAN_DAYS)
    assert (loan.renewals, loan.returned_at, loan.card_number_masked) == (0, None, "A3***0201")
    assert (await BookCopy.get(barcode=f"T{library.id}-1")).on_loan
    assert (await BoundCard.get(id=card.id)).loans_open == 1
    holdings = await service.library_books(venue_id=library.id)
    assert [(h.copies, h.available) for h in holdings] == [(3, 2)]

    back = await service.desk_return(venue_id=library.id, barcode=f"T{library.id}-1", now=now)
    assert back.returned_at is not None
    assert not (await BookCopy.get(barcode=f"T{library.id}-1")).on_loan
    assert (await BoundCard.get(id=card.id)).loans_open == 0
    with pytest.raises(errors.CopyNotOnLoan):
        await service.desk_return(venue_id=library.id, barcode=f"T{library.id}-1", now=now)


async def test_a_copy_on_loan_is_not_lent_again(world):
    first, second = await world.bind(VALID), await world.bind(SECOND)
    library = await make_library()
    barcode = f"T{library.id}-1"
    await service.borrow(card=first, barcode=barcode, now=local_now())
    with pytest.raises(errors.CopyOnLoan):
        await service.borrow(card=second, barcode=barcode, now=local_now())
    assert (await BoundCard.get(id=second.id)).loans_open == 0


async def test_one_card_has_at_most_the_loan_limit_out(world):
    card = await world.bind(VALID)
    library = await make_library(copies=service.LOAN_LIMIT + 1)
    for n in range(1, service.LOAN_LIMIT + 1):
        await service.borrow(card=card, barcode=f"T{library.id}-{n}", now=local_now())
    with pytest.raises(errors.LoanLimitReached) as refused:
        await service.borrow(
            card=card, barcode=f"T{library.id}-{service.LOAN_LIMIT + 1}", now=local_now()
        )
    assert refused.value.extra() == {"limit": service.LOAN_LIMIT}
    # The refusal rolled the copy back onto the shelf.
    assert not (await BookCopy.get(barcode=f"T{library.id}-{service.LOAN_LIMIT + 1}")).on_loan


async def test_renewals_extend_the_due_date_up_to_the_limit(world):
    card = await world.bind(VALID)
    library = await make_library()
    now = local_now()
    loan = await service.borrow(card=card, barcode=f"T{library.id}-1", now=now)
    visitor_id = card.visitor_id

    renewed = await service.renew(loan_id=loan.id, visitor_id=visitor_id, now=now)
    assert renewed.due_on == loan.due_on + timedelta(days=service.RENEWAL_DAYS)
    for _ in range(service.MAX_RENEWALS - 1):
        await service.renew(loan_id=loan.id, venue_id=library.id, now=now)
    with pytest.raises(errors.RenewalLimitReached):
        await service.renew(loan_id=loan.id, visitor_id=visitor_id, now=now)
    with pytest.raises(errors.LoanNotFound):  # someone else's loan
        await service.renew(loan_id=loan.id, visitor_id=visitor_id + 1000, now=now)


async def test_overdue_loans_are_listed_and_not_renewed(world):
    card = await world.bind(VALID)
    library = await make_library()
    long_ago = local_now() - timedelta(days=service.LOAN_DAYS + 5)
    late = await service.borrow(card=card, barcode=f"T{library.id}-1", now=long_ago)
    await service.borrow(card=card, barcode=f"T{library.id}-2", now=local_now())

    overdue = await service.overdue_loans(venue_id=library.id, today=local_now().date())

    assert [loan.id for loan in overdue] == [late.id]
    with pytest.raises(errors.LoanOverdue):
        await service.renew(loan_id=late.id, visitor_id=card.visitor_id, now=local_now())
    # Returning it takes it off the list.
    await service.visitor_return(visitor_id=card.visitor_id, loan_id=late.id, now=local_now())
    assert await service.overdue_loans(venue_id=library.id, today=local_now().date()) == []
    with pytest.raises(errors.LoanReturned):
        await service.visitor_return(visitor_id=card.visitor_id, loan_id=late.id, now=local_now())


async def test_a_lost_or_expired_card_does_not_borrow(world):
    card = await world.bind(VALID)
    library = await make_library()
    await BoundCard.filter(id=card.id).update(status="lost")
    with pytest.raises(errors.CardLost):
        await service.borrow(card=await BoundCard.get(id=card.id), barcode=f"T{library.id}-1",
                             now=local_now())  # fmt: skip
    await BoundCard.filter(id=card.id).update(status="active", valid_until=date(2020, 1, 1))
    with pytest.raises(errors.CardExpired):
        await service.borrow(card=await BoundCard.get(id=card.id), barcode=f"T{library.id}-1",
                             now=local_now())  # fmt: skip


async def test_a_desk_lends_only_its_own_copies_and_only_libraries_lend(world):
    card = await world.bind(VALID)
    library, other = await make_library(), await make_library()
    with pytest.raises(errors.CopyNotFound):
        await service.borrow(card=card, barcode=f"T{other.id}-1", now=local_now(),
                             venue_id=library.id)  # fmt: skip
    museum = await make_venue()
    with pytest.raises(errors.NotALibrary):
        await service.overdue_loans(venue_id=museum.id, today=local_now().date())


async def test_a_desk_finds_the_card_by_number_or_e_card_and_audits_it(world):
    card = await world.bind(VALID)
    library = await make_library()
    staff_id = await world.staff(library)
    by_number = await service.desk_card(
        venue_id=library.id, staff_id=staff_id, card_number="a3303 0201", qr=None,
        issuer=world.issuer, cipher=world.cipher, now=local_now(),
    )  # fmt: skip
    by_qr = await service.desk_card(
        venue_id=library.id, staff_id=staff_id, card_number=None,
        qr=world.standin.ecard_qr(VALID.card_number),
        issuer=world.issuer, cipher=world.cipher, now=local_now(),
    )  # fmt: skip
    assert by_number.id == by_qr.id == card.id
    with pytest.raises(errors.CardNotBound):
        await service.desk_card(
            venue_id=library.id, staff_id=staff_id, card_number=SECOND.card_number, qr=None,
            issuer=world.issuer, cipher=world.cipher, now=local_now(),
        )  # fmt: skip
    with pytest.raises(errors.EcardNotAccepted):
        await service.desk_card(
            venue_id=library.id, staff_id=staff_id, card_number=None, qr="ESSC1.abc.def",
            issuer=world.issuer, cipher=world.cipher, now=local_now(),
        )  # fmt: skip


async def test_card_figures_count_entries_loans_and_returns_per_venue_and_day(world):
    card = await world.bind(VALID)
    library = await make_library()
    today = local_now().date()
    yesterday = local_now() - timedelta(days=1)
    old = await service.borrow(card=card, barcode=f"T{library.id}-1", now=yesterday)
    await service.borrow(card=card, barcode=f"T{library.id}-2", now=local_now())
    await service.visitor_return(visitor_id=card.visitor_id, loan_id=old.id, now=local_now())
    await CardEntry.create(venue=library, card_number_hash="h", admitted=True, reason="admitted",
                           day=today, at=local_now())  # fmt: skip
    await CardEntry.create(venue=library, card_number_hash="h", admitted=False, reason="x",
                           day=today, at=local_now())  # fmt: skip

    rows = await service.card_figures(today - timedelta(days=1), today)

    assert rows == [
        {"day": yesterday.date(), "venue_id": library.id, "card_entries": 0, "loans": 1,
         "returns": 0},
        {"day": today, "venue_id": library.id, "card_entries": 1, "loans": 1, "returns": 1},
    ]  # fmt: skip
    assert await service.card_figures(today + timedelta(days=1), today + timedelta(days=2)) == []


def test_demo_isbns_have_valid_check_digits():
    for isbn, *_ in DEMO_BOOKS:
        digits = [int(c) for c in isbn]
        assert len(digits) == 13 and isbn.startswith("978")
        assert sum(d * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10 == 0, isbn


async def test_the_demo_card_data_loads_once(database):
    library = await make_venue(code="wenzhou-library", kind=VenueKind.LIBRARY)
    await make_venue(code="jiangxin-islet")
    first = await load_demo_card_data()
    again = await load_demo_card_data()
    assert first["books_changed"] == len(DEMO_BOOKS) and first["benefits_changed"] == 2
    assert again == {"books_changed": 0, "copies_added": 0, "benefits_changed": 0}
    assert await BookCopy.filter(venue=library).count() == 2 * len(DEMO_BOOKS)
    assert (await CardBenefit.get(venue=library)).walk_in
    assert await Loan.all().count() == 0
