"""Social-security cards bound as visitor cards, their benefits, card entries, library loans."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class CardStatus(StrEnum):
    """A bound card's standing, as the issuer last told it."""

    ACTIVE = "active"
    LOST = "lost"
    EXPIRED = "expired"


class BoundCard(Model):
    """A Yangtze River Delta social-security card a visitor bound in the mini-program.

    The card number, holder name and ID number (the card's social-security number) are stored
    only encrypted, found again by keyed lookup hashes and shown masked. A card is bound to one
    visitor account at a time (the unique card hash). Unbinding deletes the row, the audit
    trail (CardAccess) keeps the masked number.
    """

    id = fields.IntField(primary_key=True)
    visitor = fields.ForeignKeyField("etour.Visitor", related_name="cards")
    card_number_encrypted = fields.TextField()
    card_number_hash = fields.CharField(max_length=64, unique=True)
    card_number_masked = fields.CharField(max_length=16)
    holder_name_encrypted = fields.TextField()
    holder_name_masked = fields.CharField(max_length=64)
    id_number_encrypted = fields.TextField()
    id_number_hash = fields.CharField(max_length=64, db_index=True)
    id_number_masked = fields.CharField(max_length=32)
    region = fields.CharField(max_length=6)  # GB/T 2260 code of the issuing city
    status = fields.CharEnumField(CardStatus, max_length=16, default=CardStatus.ACTIVE)
    valid_until = fields.DateField()
    # Open library loans: raised and lowered by conditional UPDATEs, the per-card limit's guard.
    loans_open = fields.SmallIntField(default=0)
    bound_at = fields.DatetimeField(auto_now_add=True)
    verified_at = fields.DatetimeField()

    class Meta:
        table = "bound_card"


class CardAccess(Model):
    """Who bound, unbound or looked up a card, and when: the card data's audit trail.

    Append-only. Keeps only the keyed hash and the masked number, never the number itself.
    """

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    actor_role = fields.CharField(max_length=16)  # "visitor" or a staff Role
    actor_id = fields.IntField()
    action = fields.CharField(max_length=24)
    outcome = fields.CharField(max_length=40)
    card_number_hash = fields.CharField(max_length=64, db_index=True)
    card_number_masked = fields.CharField(max_length=16)
    venue_id = fields.IntField(null=True)

    class Meta:
        table = "card_access"


class CardBenefit(Model):
    """What a venue offers social-security card holders (one row per venue).

    `walk_in` lets a card in without a reservation while the venue's caps allow, and
    `priority_percent` of every slot's capacity is held back for bookings of card holders only.
    """

    id = fields.IntField(primary_key=True)
    venue = fields.OneToOneField("etour.Venue", related_name="card_benefit")
    walk_in = fields.BooleanField(default=False)
    free_entry = fields.BooleanField(default=False)
    discount_percent = fields.SmallIntField(default=0)  # off the base price, 0..100
    priority_percent = fields.SmallIntField(default=0)  # share of each slot, 0..50
    note = fields.JSONField(default=dict)  # {"zh-CN": ..., "en": ...}

    class Meta:
        table = "card_benefit"


class CardEntry(Model):
    """Every card presented at a gate, admitted or refused, with its reason (for the figures).

    An admitted walk-in (no reservation) carries `walk_in_key` = venue:day:card hash, whose
    unique key lets a card walk in once per venue per day however many gates race.
    """

    id = fields.BigIntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="card_entries")
    staff_id = fields.IntField(null=True)
    card_number_hash = fields.CharField(max_length=64)
    ticket_id = fields.IntField(null=True)
    admitted = fields.BooleanField()
    walk_in = fields.BooleanField(default=False)
    reason = fields.CharField(max_length=40)
    day = fields.DateField()
    at = fields.DatetimeField()
    walk_in_key = fields.CharField(max_length=100, null=True, unique=True)

    class Meta:
        table = "card_entry"
        indexes = (("day", "venue_id"),)


class Book(Model):
    """A title in a library's catalogue, by ISBN-13."""

    id = fields.IntField(primary_key=True)
    venue = fields.ForeignKeyField("etour.Venue", related_name="books")
    isbn = fields.CharField(max_length=13)
    title = fields.JSONField()  # {"zh-CN": ..., "en": ...}
    author = fields.JSONField(default=dict)
    publisher = fields.CharField(max_length=100, default="")
    year = fields.SmallIntField(null=True)
    # ISBN, titles and authors in both languages, case-folded: what the catalogue search reads.
    search_text = fields.TextField(default="")

    class Meta:
        table = "library_book"
        unique_together = (("venue", "isbn"),)


class BookCopy(Model):
    """One physical copy with its barcode: `on_loan` flips only by a conditional UPDATE."""

    id = fields.IntField(primary_key=True)
    book = fields.ForeignKeyField("etour.Book", related_name="copies")
    venue = fields.ForeignKeyField("etour.Venue", related_name="book_copies")
    barcode = fields.CharField(max_length=32, unique=True)
    on_loan = fields.BooleanField(default=False)

    class Meta:
        table = "library_copy"


class Loan(Model):
    """A copy lent on a card: due date, renewals, and when it came back."""

    id = fields.IntField(primary_key=True)
    copy = fields.ForeignKeyField("etour.BookCopy", related_name="loans")
    venue = fields.ForeignKeyField("etour.Venue", related_name="loans")
    # Kept after the card is unbound (only a card without open loans may be): figures, history.
    card = fields.ForeignKeyField(
        "etour.BoundCard", related_name="loans", null=True, on_delete=fields.SET_NULL
    )
    card_number_hash = fields.CharField(max_length=64, db_index=True)
    card_number_masked = fields.CharField(max_length=16)
    borrowed_at = fields.DatetimeField()
    borrowed_on = fields.DateField()
    due_on = fields.DateField(db_index=True)
    renewals = fields.SmallIntField(default=0)
    returned_at = fields.DatetimeField(null=True)
    returned_on = fields.DateField(null=True)
    lent_by = fields.IntField(null=True)  # the desk's staff account; None for self-service

    class Meta:
        table = "library_loan"
        indexes = (("venue_id", "borrowed_on"), ("venue_id", "returned_on"))
