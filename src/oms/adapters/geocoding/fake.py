"""A geocoder for tests and the demo: answers from a table given up front."""

from __future__ import annotations

from collections.abc import Mapping

from oms.domain.addresses import Address
from oms.domain.geo import Geocode, GeoPrecision

__all__ = ["StaticGeocoder"]

_UNKNOWN = Geocode(point=None, precision=GeoPrecision.UNKNOWN)


class StaticGeocoder:
    """Answers the ``Geocode`` given for an address's ``(country, postal_code)``, else UNKNOWN.

    Keys are matched as given (``("US", "02110")``); use ``(country, None)`` for addresses
    without a postal code. Unlike ``OfflineGeocoder`` it ignores coordinates on the address,
    so a test states every answer it relies on.
    """

    def __init__(self, mapping: Mapping[tuple[str, str | None], Geocode]) -> None:
        self._mapping = dict(mapping)
        self.calls: list[Address] = []

    def geocode(self, address: Address) -> Geocode:
        """The mapped geocode for the address's country and postal code, or UNKNOWN."""
        self.calls.append(address)
        return self._mapping.get((address.country, address.postal_code), _UNKNOWN)
