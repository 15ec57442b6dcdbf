"""Geocoders: the port (``base``), ``StaticGeocoder`` for tests and the demo, and
``OfflineGeocoder``, which reads only data shipped inside installed packages."""

from oms.adapters.geocoding.base import Geocoder
from oms.adapters.geocoding.fake import StaticGeocoder
from oms.adapters.geocoding.offline import OfflineGeocoder

__all__ = ["Geocoder", "OfflineGeocoder", "StaticGeocoder"]
