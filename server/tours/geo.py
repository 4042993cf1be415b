"""Distances on the Earth's surface: haversine metres, walking minutes and bounding boxes."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG); haversine is within 0.5% of the ellipsoid
# A box edge computed in floating point could fall a hair inside a point exactly on the circle;
# about 1 cm of slack keeps the prefilter from ever dropping a row the exact distance would keep.
BOX_SLACK_DEGREES = 1e-7


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def travel_minutes(distance_m: float, speed_kmh: float) -> int:
    """Whole minutes (rounded up) to cover `distance_m` at `speed_kmh`."""
    return math.ceil(distance_m / (speed_kmh * 1000 / 60) - 1e-9) if distance_m > 0 else 0


@dataclass(frozen=True)
class BoundingBox:
    """The latitude/longitude ranges holding every point within a radius of a centre.

    `lng_ranges` has two ranges when the box crosses the 180th meridian, and is empty when every
    longitude qualifies (the cap covers a pole, or reaches round the globe).
    """

    min_lat: float
    max_lat: float
    lng_ranges: tuple[tuple[float, float], ...]


def bounding_box(lat: float, lng: float, radius_m: float) -> BoundingBox:
    """The smallest lat/lng box around the spherical cap of `radius_m` (Matuschek's method)."""
    angular = radius_m / EARTH_RADIUS_M
    min_lat = lat - math.degrees(angular) - BOX_SLACK_DEGREES
    max_lat = lat + math.degrees(angular) + BOX_SLACK_DEGREES
    if max_lat >= 90 or min_lat <= -90:
        return BoundingBox(max(min_lat, -90.0), min(max_lat, 90.0), ())
    # The cap's widest longitude span is not at the centre's latitude but where the meridians
    # touch it: asin(sin(r) / cos(lat)), which is exact on the sphere.
    spread = math.sin(angular) / math.cos(math.radians(lat))
    if spread >= 1:
        return BoundingBox(min_lat, max_lat, ())
    d_lng = math.degrees(math.asin(spread)) + BOX_SLACK_DEGREES
    west, east = lng - d_lng, lng + d_lng
    if west < -180:
        return BoundingBox(min_lat, max_lat, ((west + 360, 180.0), (-180.0, east)))
    if east > 180:
        return BoundingBox(min_lat, max_lat, ((west, 180.0), (-180.0, east - 360)))
    return BoundingBox(min_lat, max_lat, ((west, east),))
