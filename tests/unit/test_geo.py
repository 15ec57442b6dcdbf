"""Geography for routing: great-circle distances, and how addresses are placed on the map.

``OfflineGeocoder`` reads only data shipped inside installed packages, so these tests run
it for real: the precision ladder (given coordinates, postal code, city, region, country,
unknown) and its promise never to raise for whatever a channel sends.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.adapters.geocoding import OfflineGeocoder, StaticGeocoder
from oms.domain.addresses import Address
from oms.domain.geo import EARTH_RADIUS_KM, Geocode, GeoPoint, GeoPrecision, distance_km
from oms.services.geocoding import Geocoder

P = GeoPrecision
NEW_YORK = GeoPoint(40.7128, -74.0060)
LOS_ANGELES = GeoPoint(34.0522, -118.2437)
BOSTON = GeoPoint(42.36, -71.05)
MUNICH = GeoPoint(48.14, 11.58)
GERMANY = GeoPoint(51.0, 10.0)
SPRINGFIELD_MA = GeoPoint(42.10, -72.59)
SPRINGFIELD_IL = GeoPoint(39.80, -89.64)
SAN_JUAN = GeoPoint(18.47, -66.11)

points = st.builds(
    GeoPoint,
    latitude=st.floats(min_value=-90, max_value=90),
    longitude=st.floats(min_value=-180, max_value=180),
)


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder()


# --- distance_km ------------------------------------------------------------------------


def test_new_york_to_los_angeles_is_about_3936_km() -> None:
    assert distance_km(NEW_YORK, LOS_ANGELES) == pytest.approx(3936, rel=0.005)


def test_london_to_paris_is_about_344_km() -> None:
    assert distance_km(GeoPoint(51.5074, -0.1278), GeoPoint(48.8566, 2.3522)) == pytest.approx(
        343.6, abs=1.0
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (GeoPoint(90, 0), GeoPoint(-90, 0)),
        (GeoPoint(0, 0), GeoPoint(0, 180)),
        # Rounding takes the haversine term to 1 + 2e-16 here: the edge of asin's domain.
        (GeoPoint(-87.5, 30), GeoPoint(87.5, -150)),
    ],
)
def test_antipodes_are_half_the_earth_apart(a: GeoPoint, b: GeoPoint) -> None:
    assert distance_km(a, b) == pytest.approx(math.pi * EARTH_RADIUS_KM)


@given(points)
def test_a_point_is_no_distance_from_itself(point: GeoPoint) -> None:
    assert distance_km(point, point) == 0.0


@given(points, points)
def test_distance_is_symmetric_and_never_beyond_the_antipode(a: GeoPoint, b: GeoPoint) -> None:
    there = distance_km(a, b)
    assert there == pytest.approx(distance_km(b, a), abs=1e-9)
    assert 0.0 <= there <= math.pi * EARTH_RADIUS_KM + 1e-6


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(90.5, 0.0), (-91.0, 0.0), (0.0, 180.5), (0.0, -181.0), (math.nan, 0.0), (0.0, math.inf)],
)
def test_a_point_off_the_globe_is_refused(latitude: float, longitude: float) -> None:
    with pytest.raises(ValueError, match="must be within"):
        GeoPoint(latitude, longitude)


def test_a_geocode_has_a_point_exactly_when_its_precision_is_known() -> None:
    with pytest.raises(ValueError, match="UNKNOWN"):
        Geocode(point=BOSTON, precision=P.UNKNOWN)
    with pytest.raises(ValueError, match="UNKNOWN"):
        Geocode(point=None, precision=P.CITY)


# --- OfflineGeocoder: the precision ladder ----------------------------------------------

LADDER = [
    pytest.param(
        Address("US", postal_code="02110", city="Boston", latitude=40.0, longitude=-75.0),
        P.GIVEN,
        GeoPoint(40.0, -75.0),
        0.0,
        id="coordinates-on-the-address-win",
    ),
    pytest.param(
        Address("US", postal_code="02110", latitude=0.0, longitude=0.0),
        P.POSTAL_CODE,
        BOSTON,
        5,
        id="0,0-is-a-placeholder-not-a-place",
    ),
    pytest.param(
        Address("US", postal_code="02110", city="Los Angeles"),
        P.POSTAL_CODE,
        BOSTON,
        5,
        id="us-zip-beats-city",
    ),
    pytest.param(
        Address("US", postal_code="02110-1234"), P.POSTAL_CODE, BOSTON, 5, id="zip+4-uses-first-5"
    ),
    pytest.param(
        Address("US", region="PR", postal_code="00901"),
        P.POSTAL_CODE,
        SAN_JUAN,
        10,
        id="puerto-rico-as-a-us-region",
    ),
    pytest.param(
        Address("PR", postal_code="00901"), P.POSTAL_CODE, SAN_JUAN, 10, id="puerto-rico-country"
    ),
    pytest.param(
        Address("US", region="Puerto Rico", city="San Juan"),
        P.CITY,
        SAN_JUAN,
        10,
        id="us-territory-region-is-its-own-country-in-geonames",
    ),
    pytest.param(
        Address("PR", postal_code="02110"),
        P.COUNTRY,
        GeoPoint(18.2, -66.5),
        100,
        id="a-zip-from-another-zip-area-is-not-trusted",
    ),
    pytest.param(Address("US", city="Boston"), P.CITY, BOSTON, 5, id="us-city-without-zip"),
    pytest.param(
        Address("us", city="  BOSTON ", region="ma"), P.CITY, BOSTON, 5, id="case-and-whitespace"
    ),
    pytest.param(Address("DE", city="München"), P.CITY, MUNICH, 5, id="munich-by-local-name"),
    pytest.param(Address("DE", city="Munich"), P.CITY, MUNICH, 5, id="munich-by-english-name"),
    pytest.param(Address("DE", city="MUNCHEN"), P.CITY, MUNICH, 5, id="munich-without-accent"),
    pytest.param(Address("DE", city="Muenchen"), P.CITY, MUNICH, 5, id="munich-transliterated"),
    pytest.param(
        Address("DE", city="Mu\u0308nchen"),
        P.CITY,
        MUNICH,
        5,
        id="decomposed-accents-as-macos-types",
    ),
    pytest.param(
        Address("US", city="Milwaukie"),
        P.CITY,
        GeoPoint(45.45, -122.64),
        10,
        id="a-city-s-own-name-beats-a-bigger-city-s-alternate-name",
    ),
    pytest.param(
        Address("DE", city="München", postal_code="80331"),
        P.CITY,
        MUNICH,
        5,
        id="no-postal-data-outside-the-us",
    ),
    pytest.param(
        Address("US", city="Springfield", region="MA"),
        P.CITY,
        SPRINGFIELD_MA,
        10,
        id="city-in-the-given-state",
    ),
    pytest.param(
        Address("US", city="Springfield", region="Illinois"),
        P.CITY,
        SPRINGFIELD_IL,
        10,
        id="state-given-by-name",
    ),
    pytest.param(Address("US", region="MA"), P.REGION, BOSTON, 100, id="us-state-only"),
    pytest.param(Address("US", region="US-MA"), P.REGION, BOSTON, 100, id="iso-3166-2-code"),
    pytest.param(
        Address("US", city="Springfield", region="VT"),
        P.REGION,
        GeoPoint(44.0, -72.7),
        150,
        id="town-not-in-data-is-not-taken-from-another-state",
    ),
    pytest.param(
        Address("CH", region="Zürich"), P.REGION, GeoPoint(47.37, 8.54), 30, id="swiss-canton"
    ),
    pytest.param(Address("DE"), P.COUNTRY, GERMANY, 300, id="country-only"),
    pytest.param(
        Address("DE", region="BY"), P.COUNTRY, GERMANY, 300, id="unmappable-region-is-skipped"
    ),
    pytest.param(
        Address("DE", city="Atlantis"), P.COUNTRY, GERMANY, 300, id="unknown-city-is-skipped"
    ),
    pytest.param(
        Address("DE", postal_code="02110"), P.COUNTRY, GERMANY, 300, id="us-zip-only-in-the-us"
    ),
    pytest.param(
        Address("US", postal_code="09001"),
        P.COUNTRY,
        GeoPoint(38, -97),
        300,
        id="military-zip-placed-at-0,0-is-skipped",
    ),
    pytest.param(Address("US", postal_code="ABCDE"), P.COUNTRY, GeoPoint(38, -97), 300, id="zip"),
    pytest.param(
        Address("US", postal_code="MA 02110"),
        P.COUNTRY,
        GeoPoint(38, -97),
        300,
        id="a-zip-must-lead-the-postal-code",
    ),
    pytest.param(Address("XX", city="Boston"), P.UNKNOWN, None, 0, id="unknown-country"),
    pytest.param(Address("", city="Boston", region="MA"), P.UNKNOWN, None, 0, id="no-country"),
]


@pytest.mark.parametrize(("address", "precision", "near", "within_km"), LADDER)
def test_the_most_precise_rung_the_data_supports_is_used(
    geocoder: OfflineGeocoder,
    address: Address,
    precision: GeoPrecision,
    near: GeoPoint | None,
    within_km: float,
) -> None:
    found = geocoder.geocode(address)

    assert found.precision is precision
    if near is None:
        assert found.point is None
    else:
        assert found.point is not None
        assert distance_km(found.point, near) <= within_km


FULL_WIDTH_ZIP = "\uff10\uff12\uff11\uff11\uff10"  # "02110" in full-width digits


@pytest.mark.parametrize(
    "postal_code", ["", "   ", "0211", "021 10", FULL_WIDTH_ZIP, "\x00", "0" * 500]
)
def test_a_garbage_zip_falls_through_to_the_next_rung(
    geocoder: OfflineGeocoder, postal_code: str
) -> None:
    # Full-width digits make zipcodes' Rust core panic (a BaseException): never pass them on.
    found = geocoder.geocode(Address("US", postal_code=postal_code, city="Boston"))

    assert found.precision is P.CITY


texts = st.none() | st.text(max_size=30)
addresses = st.builds(
    Address,
    country=st.sampled_from(["US", "DE", "GB", "CH", "JP", "PR", "us", "XX", ""])
    | st.text(max_size=4),
    name=texts,
    company=texts,
    line1=texts,
    line2=texts,
    city=texts | st.sampled_from(["Boston", "München", "Springfield", "東京"]),
    region=texts | st.sampled_from(["MA", "US-PR", "Zürich", "England"]),
    postal_code=texts | st.from_regex(r"[0-9]{5}(-[0-9]{4})?", fullmatch=True),
    phone=texts,
    latitude=st.none() | st.floats(),
    longitude=st.none() | st.floats(),
)


@settings(deadline=None)  # the first example for a country builds its index
@given(addresses)
def test_any_address_gets_an_answer_with_a_point_unless_unknown(address: Address) -> None:
    found = OfflineGeocoder().geocode(address)

    assert isinstance(found.precision, GeoPrecision)
    assert (found.point is None) == (found.precision is P.UNKNOWN)


@given(points.filter(lambda p: (p.latitude, p.longitude) != (0.0, 0.0)), addresses)
def test_coordinates_on_the_address_are_always_taken_as_given(
    point: GeoPoint, address: Address
) -> None:
    with_point = replace(address, latitude=point.latitude, longitude=point.longitude)

    assert OfflineGeocoder().geocode(with_point) == Geocode(point=point, precision=P.GIVEN)


# --- StaticGeocoder ---------------------------------------------------------------------


def test_the_static_geocoder_answers_from_its_table_and_unknown_otherwise() -> None:
    boston = Geocode(point=BOSTON, precision=P.POSTAL_CODE)
    geocoder: Geocoder = StaticGeocoder({("US", "02110"): boston})

    assert geocoder.geocode(Address("US", postal_code="02110")) == boston
    assert geocoder.geocode(Address("US", postal_code="10001")) == Geocode(None, P.UNKNOWN)
    assert geocoder.geocode(Address("DE", postal_code="02110")) == Geocode(None, P.UNKNOWN)
