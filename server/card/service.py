"""The social-security card as a visitor card: binding, entry, library loans, benefits, figures.

The card number (社会保障卡卡号) is the 9-character serial printed on the card, letters A-Z and
digits (e.g. A33030201); readers give it as read, maybe with spaces or dashes. The card's
social-security number (社会保障号码) is the holder's ID number: it is the ID number we store
(as tickets do), never accepted where the card number is asked for.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from redis.asyncio import Redis
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from server import personal_data
from server.card import errors
from server.card.issuer import (
    CardIssuer,
    CardVerdict,
    EcardRefused,
    IssuerAnswer,
    IssuerUnavailable,
    read_ecard_qr,
)
from server.card.models import (
    Book,
    BookCopy,
    BoundCard,
    CardAccess,
    CardBenefit,
    CardEntry,
    CardStatus,
    Loan,
)
from server.clock import LOCAL_TZ
from server.errors import AppError, InvalidInput
from server.reservations.models import VenueDay
from server.signing import TokenSigner
from server.tickets import service as tickets
from server.tickets.models import Ticket, TicketStatus
from server.venues import service as venues
from server.venues.models import Venue, VenueKind

CARD_NUMBER_LENGTH = 9
MAX_CARDS_PER_VISITOR = 5  # a visitor may bind their family's cards too
LOAN_LIMIT = 5  # books out on one card at once
LOAN_DAYS = 30
MAX_RENEWALS = 2
RENEWAL_DAYS = 30
# The Yangtze River Delta: Shanghai, Jiangsu, Zhejiang, Anhui (GB/T 2260 province codes).
DELTA_PROVINCES = ("31", "32", "33", "34")

_CARD_SEPARATORS = re.compile(r"[\s\-]")
_CARD_NUMBER = re.compile(r"[A-Z0-9]{9}")
_ID_NUMBER_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_REGION = re.compile(r"3[1-4][0-9]{4}")


def normalize_card_number(text: str, *, field: str = "card_number") -> str:
    """The 9-character card number in `text` (spaces, dashes, full-width forms allowed)."""
    number = _CARD_SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if _ID_NUMBER_SHAPE.fullmatch(number):
        # The social-security number printed on the card is the ID number, not the card number.
        raise errors.InvalidCardNumber(reason="id_number_given", field=field)
    if len(number) != CARD_NUMBER_LENGTH:
        raise errors.InvalidCardNumber(reason="length", field=field)
    if not _CARD_NUMBER.fullmatch(number):
        raise errors.InvalidCardNumber(reason="characters", field=field)
    return number


def validate_region(text: str) -> str:
    """A 6-digit GB/T 2260 code of an issuing city in Shanghai, Jiangsu, Zhejiang or Anhui."""
    region = text.strip()
    if not _REGION.fullmatch(region):
        raise InvalidInput(
            field="region", detail="a 6-digit region code in Shanghai, Jiangsu, Zhejiang or Anhui"
        )
    return region


async def _audit(
    *,
    actor_role: str,
    actor_id: int,
    action: str,
    outcome: str,
    card_hash: str,
    masked: str,
    at: datetime,
    venue_id: int | None = None,
) -> None:
    await CardAccess.create(
        at=at,
        actor_role=actor_role,
        actor_id=actor_id,
        action=action,
        outcome=outcome,
        card_number_hash=card_hash,
        card_number_masked=masked,
        venue_id=venue_id,
    )


# --- binding -----------------------------------------------------------------------------------

_BIND_REFUSALS: dict[IssuerAnswer, type[AppError]] = {
    IssuerAnswer.UNKNOWN: errors.CardUnknown,
    IssuerAnswer.MISMATCH: errors.CardHolderMismatch,
    IssuerAnswer.LOST: errors.CardLost,
    IssuerAnswer.EXPIRED: errors.CardExpired,
}


async def bind_card(
    *,
    visitor_id: int,
    name: str,
    id_number: str,
    card_number: str,
    region: str,
    issuer: CardIssuer,
    cipher: personal_data.FieldCipher,
    now: datetime,
) -> BoundCard:
    """Bind a card to the visitor's account once its issuer confirms holder, number and standing.

    Every attempt past validation is audited (who, when, which card masked, the outcome).
    """
    number = normalize_card_number(card_number)
    id_number = personal_data.validate_id_number(id_number, today=now.date())
    region = validate_region(region)
    name = name.strip()
    card_hash, masked = cipher.lookup_hash(number), personal_data.mask_card_number(number)

    async def audit(outcome: str) -> None:
        await _audit(
            actor_role="visitor",
            actor_id=visitor_id,
            action="bind",
            outcome=outcome,
            card_hash=card_hash,
            masked=masked,
            at=now,
        )

    if await BoundCard.exists(card_number_hash=card_hash):
        await audit("already_bound")
        raise errors.CardAlreadyBound()
    if await BoundCard.filter(visitor_id=visitor_id).count() >= MAX_CARDS_PER_VISITOR:
        raise errors.TooManyCards(limit=MAX_CARDS_PER_VISITOR)
    try:
        verdict = await issuer.verify(
            card_number=number, id_number=id_number, name=name, region=region
        )
    except IssuerUnavailable:
        await audit("issuer_unavailable")
        raise
    if verdict.answer == IssuerAnswer.VALID and verdict.valid_until < now.date():
        # The issuer's register may lag its own expiry dates: ours is judged on the date.
        verdict = CardVerdict(IssuerAnswer.EXPIRED, verdict.valid_until)
    if verdict.answer != IssuerAnswer.VALID:
        await audit(f"issuer_{verdict.answer}")
        raise _BIND_REFUSALS[verdict.answer]()
    try:
        card = await BoundCard.create(
            visitor_id=visitor_id,
            card_number_encrypted=cipher.encrypt(number),
            card_number_hash=card_hash,
            card_number_masked=masked,
            holder_name_encrypted=cipher.encrypt(name),
            holder_name_masked=personal_data.mask_name(name),
            id_number_encrypted=cipher.encrypt(id_number),
            id_number_hash=cipher.lookup_hash(id_number),
            id_number_masked=personal_data.mask_id_number(id_number),
            region=region,
            valid_until=verdict.valid_until,
            verified_at=now,
        )
    except IntegrityError:
        # Bound by someone else between our check and our insert: the unique hash decided.
        await audit("already_bound")
        raise errors.CardAlreadyBound() from None
    await audit("bound")
    return card


async def own_cards(*, visitor_id: int) -> list[BoundCard]:
    """The visitor's bound cards, oldest first."""
    return await BoundCard.filter(visitor_id=visitor_id).order_by("id")


async def own_card(*, visitor_id: int, card_id: int) -> BoundCard:
    """One of the visitor's own cards; someone else's is "not found"."""
    card = await BoundCard.get_or_none(id=card_id, visitor_id=visitor_id)
    if card is None:
        raise errors.CardNotFound(card_id=card_id)
    return card


async def unbind_card(*, visitor_id: int, card_id: int, now: datetime) -> None:
    """Unbind one of the visitor's cards; a card with books still out stays bound."""
    card = await own_card(visitor_id=visitor_id, card_id=card_id)
    # Conditional: a loan being made at this moment either lands first (and we refuse) or fails.
    removed = await BoundCard.filter(id=card.id, visitor_id=visitor_id, loans_open=0).delete()
    outcome = "unbound" if removed else "has_loans"
    await _audit(
        actor_role="visitor",
        actor_id=visitor_id,
        action="unbind",
        outcome=outcome,
        card_hash=card.card_number_hash,
        masked=card.card_number_masked,
        at=now,
    )
    if not removed:
        raise errors.CardHasLoans()


# --- benefits in the reservation flow ----------------------------------------------------------


@dataclass(frozen=True)
class PartyPerks:
    """A venue's card benefit and which people of a booking party (by ID hash) hold a card."""

    benefit: CardBenefit | None = None
    holders: frozenset[str] = frozenset()
    base_price_cents: int = 0

    def held_back(self, *, capacity: int, party_hashes: list[str]) -> int:
        """Places of a slot this party may not take: the priority share, unless all hold cards."""
        if self.benefit is None or not self.benefit.priority_percent:
            return 0
        if all(h in self.holders for h in party_hashes):
            return 0
        return capacity * self.benefit.priority_percent // 100

    def fare(self, fare: dict, id_hash: str) -> dict:
        """The person's fare with the card benefit, when they hold a card and it is cheaper."""
        benefit = self.benefit
        if benefit is None or id_hash not in self.holders:
            return fare
        if benefit.free_entry:
            price, discount = 0, "free"
        elif benefit.discount_percent:
            price = self.base_price_cents * (100 - benefit.discount_percent) // 100
            discount = "card"
        else:
            return fare
        if price >= fare["price_cents"]:
            return fare
        return {
            "discount": discount,
            "rule": "card_holder",
            "note": benefit.note or {},
            "price_cents": price,
        }


NO_PERKS = PartyPerks()


async def perks_for_party(*, venue: Venue, id_hashes: list[str], day: date) -> PartyPerks:
    """The venue's card benefit for a booking party; one query when the venue offers none."""
    benefit = await CardBenefit.get_or_none(venue_id=venue.id)
    if benefit is None:
        return NO_PERKS
    holders = await BoundCard.filter(
        id_number_hash__in=id_hashes, status=CardStatus.ACTIVE, valid_until__gte=day
    ).values_list("id_number_hash", flat=True)
    base = venue.prices[0]["price_cents"] if venue.prices else 0
    return PartyPerks(benefit=benefit, holders=frozenset(holders), base_price_cents=base)


async def venue_benefits() -> list[CardBenefit]:
    """Every venue's card benefit, with the venue, by venue id."""
    return (
        await CardBenefit.filter(venue__hidden=False).select_related("venue").order_by("venue_id")
    )


# --- reading a card at a gate or desk ----------------------------------------------------------


class CardGateReason(StrEnum):
    """Card-only reasons at the gate, beside the ticket gate's; messages `gate.<reason>`."""

    CARD_NOT_BOUND = "card_not_bound"
    CARD_UNKNOWN = "card_unknown"
    CARD_LOST = "card_lost"
    CARD_EXPIRED = "card_expired"
    NO_RESERVATION = "no_reservation"
    DAY_FULL = "day_full"
    VENUE_CLOSED = "venue_closed"
    WALKED_IN_TODAY = "walked_in_today"


class _CardRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PresentedCard:
    """A card as a reader or an e-card QR presented it, and its binding if it has one."""

    number: str
    card_hash: str
    masked: str
    electronic: bool
    bound: BoundCard | None


async def _present(
    *,
    card_number: str | None,
    qr: str | None,
    issuer: CardIssuer,
    cipher: personal_data.FieldCipher,
    now: datetime,
) -> PresentedCard:
    """The card read from a reader or an e-card QR; a QR refusal raises EcardRefused."""
    if qr is not None:
        claims = read_ecard_qr(await issuer.ecard_public_key(), qr, now=now.timestamp())
        number = normalize_card_number(claims.card_number, field="qr")
    else:
        number = normalize_card_number(card_number or "")
    card_hash = cipher.lookup_hash(number)
    bound = await BoundCard.get_or_none(card_number_hash=card_hash)
    masked = personal_data.mask_card_number(number)
    return PresentedCard(number, card_hash, masked, qr is not None, bound)


async def _standing(card: PresentedCard, issuer: CardIssuer, today: date) -> str | None:
    """Why the presented card may not be used now, or None; asks the issuer about plastic cards.

    A physical card may have been reported lost since it was bound, so the issuer is asked;
    when it does not answer, the gate goes on with what the binding says rather than stop.
    An e-card QR was signed by the issuer a minute ago: that is its standing.
    """
    bound = card.bound
    if bound is None:
        return CardGateReason.CARD_NOT_BOUND
    if not card.electronic:
        try:
            verdict = await issuer.status(card_number=card.number)
        except IssuerUnavailable:
            verdict = None
        if verdict is not None and verdict.answer == IssuerAnswer.UNKNOWN:
            return CardGateReason.CARD_UNKNOWN
        news = {IssuerAnswer.LOST: CardStatus.LOST, IssuerAnswer.EXPIRED: CardStatus.EXPIRED}
        if verdict is not None and verdict.answer in news and bound.status != news[verdict.answer]:
            bound.status = news[verdict.answer]
            await BoundCard.filter(id=bound.id).update(status=bound.status)
    if bound.status == CardStatus.LOST:
        return CardGateReason.CARD_LOST
    if bound.status == CardStatus.EXPIRED or bound.valid_until < today:
        return CardGateReason.CARD_EXPIRED
    return None


# --- entry by card -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CardGateOutcome:
    """The gate's verdict on a card, with the ticket it used (if any) and the occupancy."""

    admitted: bool
    reason: str
    scanned_at: datetime
    occupancy: tickets.Occupancy
    card_masked: str | None = None
    holder_masked: str | None = None
    electronic: bool = False
    walk_in: bool = False
    ticket: Ticket | None = None


def _in_window(ticket: Ticket, venue: Venue, at: datetime) -> bool:
    slot = ticket.slot
    opens = datetime.combine(slot.date, slot.starts_at, LOCAL_TZ)
    closes = datetime.combine(slot.date, slot.ends_at, LOCAL_TZ)
    return (
        opens - timedelta(minutes=venue.entry_early_minutes)
        <= at
        <= closes + timedelta(minutes=venue.entry_late_minutes)
    )


async def _todays_ticket(venue: Venue, id_hash: str, day: date, at: datetime) -> Ticket | None:
    """The holder's ticket for this venue today that the gate should judge: a valid one in its
    slot's window first, then the nearest valid one, then a used one (to say so)."""
    found = (
        await Ticket.filter(venue_id=venue.id, date=day, id_number_hash=id_hash)
        .exclude(status=TicketStatus.REVOKED)
        .select_related("slot")
    )
    if not found:
        return None

    def preference(ticket: Ticket) -> tuple[bool, bool, float]:
        start = datetime.combine(ticket.slot.date, ticket.slot.starts_at, LOCAL_TZ)
        return (
            ticket.status != TicketStatus.VALID,
            not _in_window(ticket, venue, at),
            abs((start - at).total_seconds()),
        )

    return min(found, key=preference)


async def _claim_day_place(venue: Venue, day: date) -> None:
    """One place of the venue's daily cap, from the same per-day row reservations claim."""
    if venue.daily_capacity is None:
        return
    await VenueDay.bulk_create([VenueDay(venue_id=venue.id, date=day)], ignore_conflicts=True)
    if not await VenueDay.filter(
        venue_id=venue.id, date=day, booked__lte=venue.daily_capacity - 1
    ).update(booked=F("booked") + 1):
        raise _CardRefused(CardGateReason.DAY_FULL)


async def enter_by_card(
    *,
    venue_id: int,
    staff_id: int,
    card_number: str | None,
    qr: str | None,
    now: datetime,
    issuer: CardIssuer,
    cipher: personal_data.FieldCipher,
    signer: TokenSigner,
    redis: Redis,
    thresholds: tuple[int, ...],
    gate: str | None = None,
) -> CardGateOutcome:
    """Judge a card presented at a gate of the staff member's venue.

    The holder's reservation for this venue today is admitted as its QR would be (same checks,
    same counting). Without one, venues whose card benefit allows walk-ins admit the holder
    once a day while open and while the daily and instantaneous caps allow. Every card
    presented is recorded (CardEntry: staff, venue, time, verdict) - the gate's audit trail.
    """
    venue = await venues.get_venue(venue_id=venue_id, include_hidden=True)
    day = now.astimezone(LOCAL_TZ).date()
    card: PresentedCard | None = None

    async def refused(reason: str) -> CardGateOutcome:
        if card is not None:
            await CardEntry.create(
                venue_id=venue_id,
                staff_id=staff_id,
                card_number_hash=card.card_hash,
                admitted=False,
                reason=reason,
                day=day,
                at=now,
            )
        occupancy = await tickets.current_occupancy(venue=venue, day=day)
        return _outcome(False, reason, now, occupancy, card)

    try:
        card = await _present(card_number=card_number, qr=qr, issuer=issuer, cipher=cipher, now=now)
    except EcardRefused as refusal:
        return await refused(refusal.problem)
    problem = await _standing(card, issuer, day)
    if problem is not None:
        return await refused(problem)
    holder = card.bound
    ticket = await _todays_ticket(venue, holder.id_number_hash, day, now)
    benefit = await CardBenefit.get_or_none(venue_id=venue_id)
    walk_in = benefit is not None and benefit.walk_in
    common = dict(
        venue_id=venue_id,
        staff_id=staff_id,
        now=now,
        signer=signer,
        redis=redis,
        thresholds=thresholds,
        gate=gate,
    )
    if ticket is not None and (ticket.status == TicketStatus.VALID or not walk_in):
        scan = await tickets.admit_without_qr(ticket_id=ticket.id, **common)
        await CardEntry.create(
            venue_id=venue_id,
            staff_id=staff_id,
            card_number_hash=card.card_hash,
            ticket_id=ticket.id,
            admitted=scan.admitted,
            reason=scan.reason,
            day=day,
            at=now,
        )
        return _outcome(scan.admitted, scan.reason, now, scan.occupancy, card, ticket=scan.ticket)
    if not walk_in:
        return await refused(CardGateReason.NO_RESERVATION)
    if not venues.is_open_now(venue, now.astimezone(LOCAL_TZ)):
        return await refused(CardGateReason.VENUE_CLOSED)

    async def claim() -> None:
        try:
            await CardEntry.create(
                venue_id=venue_id,
                staff_id=staff_id,
                card_number_hash=card.card_hash,
                admitted=True,
                walk_in=True,
                reason=tickets.ScanReason.ADMITTED,
                day=day,
                at=now,
                walk_in_key=f"{venue_id}:{day.isoformat()}:{card.card_hash}",
            )
        except IntegrityError:
            raise _CardRefused(CardGateReason.WALKED_IN_TODAY) from None
        await _claim_day_place(venue, day)

    try:
        scan = await tickets.admit_without_qr(ticket_id=None, claim=claim, **common)
    except _CardRefused as refusal:
        return await refused(refusal.reason)
    if not scan.admitted:
        return await refused(scan.reason)
    return _outcome(True, scan.reason, now, scan.occupancy, card, walk_in=True)


def _outcome(
    admitted: bool,
    reason: str,
    at: datetime,
    occupancy: tickets.Occupancy,
    card: PresentedCard | None,
    *,
    walk_in: bool = False,
    ticket: Ticket | None = None,
) -> CardGateOutcome:
    bound = card.bound if card is not None else None
    return CardGateOutcome(
        admitted=admitted,
        reason=str(reason),
        scanned_at=at,
        occupancy=occupancy,
        card_masked=card.masked if card is not None else None,
        holder_masked=bound.holder_name_masked if bound is not None else None,
        electronic=card.electronic if card is not None else False,
        walk_in=walk_in,
        ticket=ticket,
    )


# --- the library ("one thing": borrow and return by card) ----------------------------------------


async def _library(venue_id: int) -> Venue:
    venue = await venues.get_venue(venue_id=venue_id, include_hidden=True)
    if venue.kind != VenueKind.LIBRARY:
        raise errors.NotALibrary()
    return venue


@dataclass(frozen=True)
class Holding:
    """A title in a library with how many copies it has and how many are on the shelf."""

    book: Book
    copies: int
    available: int


async def library_books(*, venue_id: int, text: str | None = None) -> list[Holding]:
    """A library's titles (matching `text` in title, author or ISBN), with copies on the shelf."""
    await _library(venue_id)
    books = Book.filter(venue_id=venue_id)
    if text:
        books = books.filter(search_text__contains=text.strip().casefold())
    found = await books.order_by("id")
    counts = {
        (row["book_id"], row["on_loan"]): row["n"]
        for row in await BookCopy.filter(book_id__in=[b.id for b in found])
        .annotate(n=Count("id"))
        .group_by("book_id", "on_loan")
        .values("book_id", "on_loan", "n")
    }
    return [
        Holding(
            book,
            counts.get((book.id, False), 0) + counts.get((book.id, True), 0),
            counts.get((book.id, False), 0),
        )
        for book in found
    ]


def book_search_text(*, isbn: str, title: dict, author: dict) -> str:
    """What the catalogue search matches: ISBN, titles and authors in every language."""
    parts = [isbn, *title.values(), *author.values()]
    return " ".join(part for part in parts if part).casefold()


def _check_usable(card: BoundCard, today: date) -> None:
    if card.status == CardStatus.LOST:
        raise errors.CardLost()
    if card.status == CardStatus.EXPIRED or card.valid_until < today:
        raise errors.CardExpired()


async def borrow(
    *,
    card: BoundCard,
    barcode: str,
    now: datetime,
    venue_id: int | None = None,
    staff_id: int | None = None,
    guard_copy: bool = True,
) -> Loan:
    """Lend the copy with `barcode` on `card`: one loan per copy, at most LOAN_LIMIT per card.

    Both limits are conditional UPDATEs in the loan's transaction (the copy's on_loan flag, the
    card's open-loan count), so two desks lending one copy at once cannot both succeed.
    `venue_id` (a desk) restricts to that library's copies. `guard_copy=False` exists only for
    the test canary that proves the concurrency test catches a double loan: it swaps the
    conditional UPDATE for the read-then-write a careless implementation would do.
    """
    copy = await BookCopy.filter(barcode=barcode.strip()).select_related("venue").first()
    if copy is None or (venue_id is not None and copy.venue_id != venue_id):
        raise errors.CopyNotFound(barcode=barcode)
    if not guard_copy and copy.on_loan:
        raise errors.CopyOnLoan()
    today = now.astimezone(LOCAL_TZ).date()
    _check_usable(card, today)
    async with in_transaction():
        # The copy first: on SQLite it takes the write lock before anything else is read.
        taken = BookCopy.filter(id=copy.id)
        if guard_copy:
            taken = taken.filter(on_loan=False)
        if not await taken.update(on_loan=True):
            raise errors.CopyOnLoan()
        counted = await BoundCard.filter(id=card.id, loans_open__lt=LOAN_LIMIT).update(
            loans_open=F("loans_open") + 1
        )
        if not counted:
            if not await BoundCard.exists(id=card.id):
                raise errors.CardNotBound()
            raise errors.LoanLimitReached(limit=LOAN_LIMIT)
        loan = await Loan.create(
            copy_id=copy.id,
            venue_id=copy.venue_id,
            card_id=card.id,
            card_number_hash=card.card_number_hash,
            card_number_masked=card.card_number_masked,
            borrowed_at=now,
            borrowed_on=today,
            due_on=today + timedelta(days=LOAN_DAYS),
            lent_by=staff_id,
        )
    return await _loan(loan.id)


async def _loan(loan_id: int) -> Loan:
    return await Loan.get(id=loan_id).select_related("copy__book", "venue")


async def _close(loan: Loan, now: datetime) -> Loan:
    """Mark the loan returned and put the copy back: exactly once, whoever races."""
    async with in_transaction():
        closed = await Loan.filter(id=loan.id, returned_at__isnull=True).update(
            returned_at=now, returned_on=now.astimezone(LOCAL_TZ).date()
        )
        if not closed:
            raise errors.LoanReturned()
        await BookCopy.filter(id=loan.copy_id).update(on_loan=False)
        if loan.card_id is not None:
            await BoundCard.filter(id=loan.card_id, loans_open__gt=0).update(
                loans_open=F("loans_open") - 1
            )
    return await _loan(loan.id)


async def _own_loan(visitor_id: int, loan_id: int) -> Loan:
    loan = await Loan.get_or_none(id=loan_id, card__visitor_id=visitor_id)
    if loan is None:
        raise errors.LoanNotFound(loan_id=loan_id)
    return loan


async def visitor_borrow(*, visitor_id: int, card_id: int, barcode: str, now: datetime) -> Loan:
    """Self-service loan in the mini-program: the visitor scans a copy's barcode, on their card."""
    card = await own_card(visitor_id=visitor_id, card_id=card_id)
    return await borrow(card=card, barcode=barcode, now=now)


async def visitor_return(*, visitor_id: int, loan_id: int, now: datetime) -> Loan:
    """Return one of the visitor's loans (the book goes into the library's return box)."""
    return await _close(await _own_loan(visitor_id, loan_id), now)


async def renew(*, loan_id: int, now: datetime, visitor_id: int | None = None,
                venue_id: int | None = None) -> Loan:  # fmt: skip
    """Renew an open loan by RENEWAL_DAYS from today or its due date, at most MAX_RENEWALS times.

    A visitor renews their own loans; a desk (`venue_id`) its library's; overdue loans are not
    renewed.
    """
    if visitor_id is not None:
        loan = await _own_loan(visitor_id, loan_id)
    else:
        loan = await Loan.get_or_none(id=loan_id, venue_id=venue_id)
        if loan is None:
            raise errors.LoanNotFound(loan_id=loan_id)
    today = now.astimezone(LOCAL_TZ).date()
    if loan.returned_at is not None:
        raise errors.LoanReturned()
    if loan.due_on < today:
        raise errors.LoanOverdue()
    if loan.renewals >= MAX_RENEWALS:
        raise errors.RenewalLimitReached(limit=MAX_RENEWALS)
    # Conditional on what we read: two renewals at once count once.
    renewed = await Loan.filter(
        id=loan.id, renewals=loan.renewals, due_on=loan.due_on, returned_at__isnull=True
    ).update(renewals=loan.renewals + 1, due_on=max(loan.due_on, today) + timedelta(RENEWAL_DAYS))
    if not renewed:
        raise errors.RenewalLimitReached(limit=MAX_RENEWALS)
    return await _loan(loan.id)


async def own_loans(*, visitor_id: int, open_only: bool = False) -> list[Loan]:
    """The loans on the visitor's cards, newest first."""
    query = Loan.filter(card__visitor_id=visitor_id)
    if open_only:
        query = query.filter(returned_at__isnull=True)
    return await query.order_by("-borrowed_at", "-id").limit(100).select_related("copy__book")


async def desk_card(
    *,
    venue_id: int,
    staff_id: int,
    card_number: str | None,
    qr: str | None,
    issuer: CardIssuer,
    cipher: personal_data.FieldCipher,
    now: datetime,
    staff_role: str = "venue_staff",
) -> BoundCard:
    """The bound card a library desk read (number or e-card QR); the lookup is audited."""
    await _library(venue_id)
    try:
        card = await _present(card_number=card_number, qr=qr, issuer=issuer, cipher=cipher, now=now)
    except EcardRefused as refusal:
        raise errors.EcardNotAccepted(reason=refusal.problem) from None
    await _audit(
        actor_role=staff_role,
        actor_id=staff_id,
        action="desk_lookup",
        outcome="bound" if card.bound else "not_bound",
        card_hash=card.card_hash,
        masked=card.masked,
        at=now,
        venue_id=venue_id,
    )
    if card.bound is None:
        raise errors.CardNotBound()
    return card.bound


async def desk_return(*, venue_id: int, barcode: str, now: datetime) -> Loan:
    """Take back a copy at the library desk: closes its open loan."""
    await _library(venue_id)
    loan = await Loan.filter(
        copy__barcode=barcode.strip(), venue_id=venue_id, returned_at__isnull=True
    ).first()
    if loan is None:
        if not await BookCopy.exists(barcode=barcode.strip(), venue_id=venue_id):
            raise errors.CopyNotFound(barcode=barcode)
        raise errors.CopyNotOnLoan()
    return await _close(loan, now)


async def overdue_loans(*, venue_id: int, today: date) -> list[Loan]:
    """A library's open loans past their due date, the longest overdue first."""
    await _library(venue_id)
    return (
        await Loan.filter(venue_id=venue_id, returned_at__isnull=True, due_on__lt=today)
        .order_by("due_on", "id")
        .select_related("copy__book")
    )


# --- figures for the cockpit -------------------------------------------------------------------


async def card_figures(start: date, end: date) -> list[dict]:
    """Card entries, loans and returns per venue per day from `start` to `end` (inclusive)."""
    rows: dict[tuple[date, int], dict] = {}

    def add(day: date, venue_id: int, name: str, count: int) -> None:
        row = rows.setdefault(
            (day, venue_id),
            {"day": day, "venue_id": venue_id, "card_entries": 0, "loans": 0, "returns": 0},
        )
        row[name] = int(count)

    entries = (
        await CardEntry.filter(admitted=True, day__gte=start, day__lte=end)
        .annotate(n=Count("id"))
        .group_by("day", "venue_id")
        .values_list("day", "venue_id", "n")
    )
    loans = (
        await Loan.filter(borrowed_on__gte=start, borrowed_on__lte=end)
        .annotate(n=Count("id"))
        .group_by("borrowed_on", "venue_id")
        .values_list("borrowed_on", "venue_id", "n")
    )
    returns = (
        await Loan.filter(returned_on__gte=start, returned_on__lte=end)
        .annotate(n=Count("id"))
        .group_by("returned_on", "venue_id")
        .values_list("returned_on", "venue_id", "n")
    )
    for name, found in (("card_entries", entries), ("loans", loans), ("returns", returns)):
        for day, venue_id, count in found:
            add(_as_date(day), venue_id, name, count)
    return [rows[key] for key in sorted(rows)]


def _as_date(value: date | str) -> date:
    # Grouped SQLite rows may come back as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
