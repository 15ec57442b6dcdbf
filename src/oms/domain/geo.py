"""Points on the earth, how precisely an address was placed on it, and distances between them.

Routing compares a destination with the warehouses that could ship to it. A geocoder turns
an ``Address`` into a ``Geocode``: a ``GeoPoint`` and the ``GeoPrecision`` it was found at
(coordinates given by the channel, a postal code, a city, a region, or only the country),
or no point at all. ``distance_km`` is the great-circle distance routing ranks by.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["EARTH_RADIUS_KM", "GeoPoint", "GeoPrecision", "Geocode", "distance_km"]

EARTH_RADIUS_KM = 6371.0088
"""The mean earth radius (IUGG), the usual radius for haversine distances."""


@dataclass(frozen=True)
class GeoPoint:
    """A WGS 84 position in decimal degrees; a point off the globe is refused."""

    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.latitude) and -90.0 <= self.latitude <= 90.0):
            raise ValueError(f"latitude must be within [-90, 90], got {self.latitude!r}")
        if not (math.isfinite(self.longitude) and -180.0 <= self.longitude <= 180.0):
            raise ValueError(f"longitude must be within [-180, 180], got {self.longitude!r}")


class GeoPrecision(StrEnum):
    """What a geocode's point stands for, from the most to the least precise."""

    GIVEN = "given"
    POSTAL_CODE = "postal_code"
    CITY = "city"
    REGION = "region"
    COUNTRY = "country"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Geocode:
    """Where an address was placed; ``point`` is None exactly when precision is UNKNOWN."""

    point: GeoPoint | None
    precision: GeoPrecision

    def __post_init__(self) -> None:
        if (self.point is None) != (self.precision is GeoPrecision.UNKNOWN):
            raise ValueError("a geocode has a point unless, and only if, it is UNKNOWN")


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance between two points in kilometres (haversine formula)."""
    lat_a = math.radians(a.latitude)
    lat_b = math.radians(b.latitude)
    half_dlat = (lat_b - lat_a) / 2
    half_dlon = math.radians(b.longitude - a.longitude) / 2
    h = math.sin(half_dlat) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(half_dlon) ** 2
    # Rounding can push h a hair above 1 for antipodal points; asin would then fail.
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
