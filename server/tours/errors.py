"""Refusals of the tours domain and the day planner."""

from __future__ import annotations

from server.errors import AppError


class TourNotFound(AppError):
    code = "tour_not_found"
    status = 404


class StopNotOnTour(AppError):
    """The stop given is not one of this tour's stops."""

    code = "stop_not_on_tour"
    status = 422

    def extra(self) -> dict[str, object]:
        return {"field": "stop_id"}


class PlaceNotFound(AppError):
    """A place the planner was given (`venue:12`, `restaurant:7`) does not exist."""

    code = "place_not_found"
    status = 422

    def extra(self) -> dict[str, object]:
        return {"field": self.params["field"], "place": self.params["place"]}
