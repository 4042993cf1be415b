"""Refusals of the venues domain."""

from __future__ import annotations

from server.errors import AppError


class VenueNotFound(AppError):
    code = "venue_not_found"
    status = 404
