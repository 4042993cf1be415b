"""Refusals of the reservations domain, each with its own code."""

from __future__ import annotations

from server.errors import AppError


class SlotNotFound(AppError):
    code = "slot_not_found"
    status = 404


class ReservationNotFound(AppError):
    code = "reservation_not_found"
    status = 404


class NotReservable(AppError):
    """The venue takes no reservations (walk-in places, hidden venues)."""

    code = "not_reservable"
    status = 409


class BookingNotOpen(AppError):
    """Booking for this day opens later; `opens_at` says when, `server_time` what time it is now."""

    code = "booking_not_open"
    status = 409
    shown = ("opens_at", "server_time", "retry_after")

    def headers(self) -> dict[str, str]:
        # Clients that honour it come back when booking opens instead of hammering before.
        return {"Retry-After": str(self.params.get("retry_after", 60))}


class SlotPast(AppError):
    code = "slot_past"
    status = 409


class VenueClosed(AppError):
    code = "venue_closed"
    status = 409


class SlotFull(AppError):
    """Not enough places left in the slot; `suggestions` lists nearby slots that have room."""

    code = "slot_full"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"remaining": self.params["remaining"], "suggestions": self.params["suggestions"]}


class DayFull(AppError):
    """The venue's daily cap is reached."""

    code = "day_full"
    status = 409


class AlreadyBooked(AppError):
    """A named visitor already holds a reservation at this venue on this day."""

    code = "already_booked"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"field": f"visitors[{self.params['visitor'] - 1}].id_number"}


class InvalidVisitorIdNumber(AppError):
    """A named visitor's ID-card number fails GB 11643; `visitor` is their 1-based position."""

    code = "invalid_visitor_id_number"
    status = 422

    def extra(self) -> dict[str, object]:
        return {
            "field": f"visitors[{self.params['visitor'] - 1}].id_number",
            "reason": self.params["reason"],
        }


class DuplicateVisitor(AppError):
    """The same person appears twice in one reservation."""

    code = "duplicate_visitor"
    status = 422

    def extra(self) -> dict[str, object]:
        return {"field": f"visitors[{self.params['visitor'] - 1}].id_number"}


class CancelTooLate(AppError):
    code = "cancel_too_late"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"deadline": self.params["deadline"]}


class AlreadyEntered(AppError):
    """A reservation whose ticket has been used at the gate can no longer be cancelled."""

    code = "already_entered"
    status = 409


class IdempotencyKeyReused(AppError):
    """The same Idempotency-Key was sent with a different request body."""

    code = "idempotency_key_reused"
    status = 422


class IdempotencyInProgress(AppError):
    """The first request with this Idempotency-Key is still being handled."""

    code = "idempotency_in_progress"
    status = 409


class CapacityBelowBooked(AppError):
    """A slot's capacity cannot go below the places already booked."""

    code = "capacity_below_booked"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"booked": self.params["booked"]}
