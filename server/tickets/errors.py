"""Refusals of the tickets domain shown to a visitor (a gate's refusals are answers, not errors)."""

from __future__ import annotations

from server.errors import AppError


class TicketNotFound(AppError):
    """No such ticket among the caller's own (someone else's ticket is not found either)."""

    code = "ticket_not_found"
    status = 404


class TicketRevoked(AppError):
    """The ticket's reservation was cancelled: it has no QR code any more."""

    code = "ticket_revoked"
    status = 409


class TicketUsed(AppError):
    """The ticket has admitted its holder already: it has no QR code any more."""

    code = "ticket_used"
    status = 409


class NotAtAGate(AppError):
    """A gate endpoint called by a staff account that is not bound to a venue."""

    code = "not_at_a_gate"
    status = 403
