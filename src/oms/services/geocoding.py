"""The geocoding port: what routing needs to know about where an order is going.

Distributed order routing ranks the locations that could ship an order by how far they
are from its destination, so every destination ``Address`` has to become a point on the
map. A ``Geocoder`` does that; the router and the use cases talk to nothing else, and
tests run on ``StaticGeocoder`` exactly as production runs on ``OfflineGeocoder`` (both in
``oms.adapters.geocoding``).

``geocode(address)`` returns a ``Geocode``: a ``GeoPoint`` and the ``GeoPrecision`` it
was found at. Implementations walk the same ladder, from the most precise rung down, and
answer with the first rung that places the address::

    GIVEN        latitude and longitude on the address itself (from the channel or a
                 previous geocode), when both are present, finite and on the globe
      │
    POSTAL_CODE  the centre of the postal code's area
      │
    CITY         the city named on the address, in its country (and its region, when
      │          the region is known and the data can tell which region a city is in)
    REGION       the population-weighted centre of the state, province or county
      │
    COUNTRY      the centre of the country
      │
    UNKNOWN      no point (``point`` is None); the router then ranks without distance

A rung that is missing, unreadable or not in the data is skipped, never guessed at, so
the precision says honestly how much the point can be trusted: a COUNTRY point for the
United States is more than 2,000 km from most addresses in it.

The contract, which every implementation keeps:

* **Answers, not exceptions.** Any ``Address`` gets a ``Geocode``: empty strings, unknown
  countries, garbage postal codes and text in any script or case are answered with a
  lower rung or UNKNOWN. Exceptions are left for programming errors.
* **No I/O beyond reading data shipped with installed packages.** No network, no
  database, no files of our own: a geocoder can run inside a transaction, a request, or a
  routing loop. Data is loaded on first use (and can be loaded up front), never at import.
* **Deterministic, so cacheable.** The same address always gets the same answer from the
  same data, so callers may store a geocode with the order (as ``latitude``/``longitude``
  on the address, then read back as GIVEN) or cache it by address.
* **Fast once warm.** A lookup is a few dictionary probes; the router may call it for
  every order it considers.
"""

from __future__ import annotations

from typing import Protocol

from oms.domain.addresses import Address
from oms.domain.geo import Geocode

__all__ = ["Geocoder"]


class Geocoder(Protocol):
    """Places an address on the map; see the module docstring for the contract."""

    def geocode(self, address: Address) -> Geocode:
        """The most precise point the geocoder can find for ``address``; never raises."""
        ...
