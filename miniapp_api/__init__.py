"""The visitor-facing HTTP API of the mini-program and H5 page: thin blueprints over services."""

from __future__ import annotations

from sanic import Blueprint

from miniapp_api import (
    auth,
    card,
    complaints,
    food,
    recommendations,
    release,
    reservations,
    tickets,
    tours,
    venues,
)

api = Blueprint.group(
    auth.bp,
    venues.bp,
    reservations.bp,
    tickets.bp,
    tours.bp,
    food.bp,
    recommendations.bp,
    complaints.bp,
    card.bp,
    release.bp,
    url_prefix="/api/v1",
)
