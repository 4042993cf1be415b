"""Tickets: their rotating signed QR texts, and revocation when a reservation is cancelled."""

from __future__ import annotations

from datetime import datetime

from server.signing import TokenSigner
from server.tickets.models import Ticket, TicketStatus

QR_PURPOSE = "ticket"
QR_PREFIX = "ETK1."  # tells a gate scanner this is our ticket, not a card or another app's code
QR_TTL_SECONDS = 60  # a screenshot goes stale after about a minute


def qr_text(signer: TokenSigner, ticket: Ticket, *, now: float) -> tuple[str, int]:
    """The ticket's current QR text and when it expires (epoch seconds)."""
    claims = {"t": ticket.id, "v": ticket.venue_id, "s": ticket.slot_id}
    token = signer.sign(purpose=QR_PURPOSE, claims=claims, ttl_seconds=QR_TTL_SECONDS, now=now)
    return QR_PREFIX + token, int(now) + QR_TTL_SECONDS


async def revoke_reservation_tickets(*, reservation_id: int, now: datetime) -> int:
    """Revoke the still-valid tickets of a reservation; return how many were revoked."""
    return await Ticket.filter(reservation_id=reservation_id, status=TicketStatus.VALID).update(
        status=TicketStatus.REVOKED, revoked_at=now
    )


async def any_ticket_used(*, reservation_id: int) -> bool:
    """True when someone of the reservation has already been admitted at the gate."""
    return await Ticket.filter(reservation_id=reservation_id, status=TicketStatus.USED).exists()
