"""Refusals of ticket release: quotas, holds and the waiting room."""

from __future__ import annotations

from server.errors import AppError


class QuotaReached(AppError):
    """An account or a person has as many reservations that day as the anti-scalping rules allow.

    `rule` is account_day or person_day; for a person, `visitor` is their 1-based position.
    """

    code = "booking_limit_reached"
    status = 409

    def extra(self) -> dict[str, object]:
        visitor = self.params.get("visitor")
        return {
            "rule": self.params["rule"],
            "limit": self.params["limit"],
            "field": f"visitors[{visitor - 1}].id_number" if visitor else None,
        }


class HoldNotFound(AppError):
    code = "hold_not_found"
    status = 404


class HoldNotUsable(AppError):
    """The hold expired, was used or released, is for another slot, or holds too few places."""

    code = "hold_not_usable"
    status = 409


class HoldAlreadyActive(AppError):
    """A visitor holds places in one slot at a time; `hold_id` is the live one."""

    code = "hold_already_active"
    status = 409
    shown = ("hold_id",)


class AlreadyQueued(AppError):
    """A visitor holds one place in the waiting room at most; `queue_id` is theirs."""

    code = "already_queued"
    status = 409
    shown = ("queue_id",)


class QueueTicketNotFound(AppError):
    code = "queue_ticket_not_found"
    status = 404


class SoldOutWhileWaiting(Exception):
    """A booking's slot sold out while it waited for its turn (as the mirror says): refuse it
    now, without a booking place. Never reaches a client: the caller answers slot_full."""
