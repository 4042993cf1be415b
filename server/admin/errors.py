"""Refusals of the admin side: closing days, staff accounts, cockpit ranges, exports."""

from __future__ import annotations

from server.errors import AppError


class ClosingDayExists(AppError):
    code = "closing_day_exists"
    status = 409


class ClosingDayNotFound(AppError):
    code = "closing_day_not_found"
    status = 404


class ClosingDayInPast(AppError):
    """Days already gone cannot be closed or reopened."""

    code = "closing_day_in_past"
    status = 422

    def extra(self) -> dict[str, object]:
        return {"field": "date"}


class ClosingDayHasBookings(AppError):
    """Visitors hold places that day: they must be moved or cancelled before the venue closes."""

    code = "closing_day_has_bookings"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"booked": self.params["booked"]}


class StaffNotFound(AppError):
    code = "staff_not_found"
    status = 404


class StaffRoleNotAllowed(AppError):
    """A venue manager may manage gate staff only; venue managers are the bureau's to appoint."""

    code = "staff_role_not_allowed"
    status = 403


class RangeTooLong(AppError):
    """A date range longer than the cockpit and exports answer."""

    code = "range_too_long"
    status = 422

    def extra(self) -> dict[str, object]:
        return {"field": "end", "max_days": self.params["max_days"]}


class SupervisionUnavailable(AppError):
    """The supervision module (complaints) is not part of this installation."""

    code = "supervision_unavailable"
    status = 404
