"""Refusals of recommendations: unknown items and interests."""

from __future__ import annotations

from server.errors import AppError


class ItemNotFound(AppError):
    """No visible venue, tour, restaurant or dish has this id ("venue:12")."""

    code = "item_not_found"
    status = 404


class UnknownInterest(AppError):
    """An interest code that is not offered at onboarding."""

    code = "unknown_interest"
    status = 422

    def extra(self) -> dict[str, object]:
        return {"field": "interests"}
