"""Geocoders, implementing the port ``oms.services.geocoding.Geocoder``: ``StaticGeocoder``
for tests and the demo, and ``OfflineGeocoder``, which reads only data shipped inside
installed packages."""

from oms.adapters.geocoding.fake import StaticGeocoder
from oms.adapters.geocoding.offline import OfflineGeocoder

__all__ = ["OfflineGeocoder", "StaticGeocoder"]
