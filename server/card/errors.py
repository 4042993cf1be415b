"""Refusals of the card domain (a gate's refusals are answers with a reason, not errors)."""

from __future__ import annotations

from typing import Literal

from server.errors import AppError

CardNumberReason = Literal["length", "characters", "id_number_given"]


class InvalidCardNumber(AppError):
    """Not a social-security card number (9 letters and digits); the number is not repeated."""

    code = "invalid_card_number"
    status = 422

    def __init__(self, *, reason: CardNumberReason, field: str = "card_number") -> None:
        super().__init__(reason=reason, field=field)

    def extra(self) -> dict[str, object]:
        return {"reason": self.params["reason"], "field": self.params["field"]}


class CardUnknown(AppError):
    """The issuer has no such card in that region."""

    code = "card_unknown"
    status = 422


class CardHolderMismatch(AppError):
    """The name or ID number given is not the card holder's."""

    code = "card_holder_mismatch"
    status = 422


class CardLost(AppError):
    """The card is reported lost (挂失): it cannot be bound or used."""

    code = "card_lost"
    status = 409


class CardExpired(AppError):
    """The card is past its validity."""

    code = "card_expired"
    status = 409


class CardAlreadyBound(AppError):
    """The card is bound to a visitor account already (this one or another)."""

    code = "card_already_bound"
    status = 409


class TooManyCards(AppError):
    code = "too_many_cards"
    status = 409


class CardNotFound(AppError):
    """No such card among the caller's own (someone else's is not found either)."""

    code = "card_not_found"
    status = 404


class CardNotBound(AppError):
    """The card shown at a library desk is not bound in the mini-program."""

    code = "card_not_bound"
    status = 404


class CardHasLoans(AppError):
    """A card with books still out cannot be unbound."""

    code = "card_has_loans"
    status = 409


class NotALibrary(AppError):
    """A library endpoint for a venue that lends no books."""

    code = "not_a_library"
    status = 409


class CopyNotFound(AppError):
    code = "copy_not_found"
    status = 404


class CopyOnLoan(AppError):
    """The copy is lent out already."""

    code = "copy_on_loan"
    status = 409


class CopyNotOnLoan(AppError):
    code = "copy_not_on_loan"
    status = 409


class LoanLimitReached(AppError):
    """The card has as many books out as one card may."""

    code = "loan_limit_reached"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"limit": self.params["limit"]}


class LoanNotFound(AppError):
    code = "loan_not_found"
    status = 404


class LoanReturned(AppError):
    code = "loan_returned"
    status = 409


class RenewalLimitReached(AppError):
    code = "renewal_limit_reached"
    status = 409


class LoanOverdue(AppError):
    """An overdue loan is not renewed: the book goes back first."""

    code = "loan_overdue"
    status = 409


class EcardNotAccepted(AppError):
    """An electronic card QR shown at a desk that is not the issuer's, not genuine or stale."""

    code = "ecard_not_accepted"
    status = 422

    def extra(self) -> dict[str, object]:
        return {"reason": self.params["reason"]}
