"""Refusals of the food map: unknown dishes and restaurants, review rules."""

from __future__ import annotations

from server.errors import AppError


class DishNotFound(AppError):
    code = "dish_not_found"
    status = 404


class RestaurantNotFound(AppError):
    code = "restaurant_not_found"
    status = 404


class ReviewNotFound(AppError):
    """The visitor has no review of this restaurant (edit needs one) or no such review exists."""

    code = "review_not_found"
    status = 404


class AlreadyReviewed(AppError):
    """One review per visitor per restaurant: edit the existing one (PUT) instead."""

    code = "already_reviewed"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"review_id": self.params.get("review_id")}
