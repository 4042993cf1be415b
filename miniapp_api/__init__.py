"""The visitor-facing HTTP API of the mini-program and H5 page: thin blueprints over services."""

from __future__ import annotations

from sanic import Blueprint

from miniapp_api import auth, reservations, venues

api = Blueprint.group(auth.bp, venues.bp, reservations.bp, url_prefix="/api/v1")
