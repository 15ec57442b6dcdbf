"""Shipping rules: zones, billable weight, rate card prices, business days and rate shopping."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.errors import InvalidRequest
from oms.domain.geo import GeoPoint
from oms.domain.shipping import (
    CarrierService,
    DistanceBand,
    Parcel,
    Quote,
    RateCard,
    RegionZone,
    WeightBreak,
    ZonePrice,
    ZoneRule,
    add_business_days,
    billable_grams,
    quote,
    rate_shop,
    ship_date,
    subtract_business_days,
)

D = Decimal
THURSDAY, FRIDAY, SATURDAY = date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 28)
MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)
BERLIN, POTSDAM = GeoPoint(52.5200, 13.4050), GeoPoint(52.3906, 13.0645)  # 27 km apart
MUNICH, FREIBURG = GeoPoint(48.1351, 11.5820), GeoPoint(47.9990, 7.8421)  # 504, 639 km away
BERLIN_TIME = ZoneInfo("Europe/Berlin")


def zone_price(zone: str, *breaks: tuple[int, str], per_kg: str = "0", days: int = 1) -> ZonePrice:
    return ZonePrice(zone, tuple(WeightBreak(g, D(p)) for g, p in breaks), D(per_kg), days)


RULE = ZoneRule(
    distance_bands=(DistanceBand(100, "local"), DistanceBand(600, "regional")),
    regions=(
        RegionZone("DE", None, "national"),
        RegionZone("DE", "BE", "city"),
        RegionZone("AT", None, "eu"),
        RegionZone("ES", None, "eu"),
        RegionZone("ES", "CN", "canaries"),
    ),
)
CARD = RateCard(
    currency="EUR",
    zones=RULE,
    prices=(
        zone_price("local", (1000, "4.00"), (5000, "6.00"), per_kg="0.50", days=1),
        zone_price("regional", (1000, "5.00"), (5000, "7.00"), per_kg="0.75", days=2),
        zone_price("national", (5000, "8.00"), per_kg="1.00", days=2),
        zone_price("city", (5000, "3.50"), per_kg="0.40", days=1),
        zone_price("eu", (2000, "12.00"), (10000, "18.00"), per_kg="1.50", days=4),
        zone_price("canaries", (5000, "29.00"), per_kg="3.00", days=6),
    ),
    max_weight_grams=31500,
)
GROUND = CarrierService("acme", "ground", "Acme Ground", CARD)


def in_germany(destination: GeoPoint | None, **overrides: Any) -> dict[str, Any]:
    """The keyword arguments of a shipment from Berlin to ``destination`` in Germany."""
    return {
        "origin": BERLIN,
        "origin_country": "DE",
        "destination": destination,
        "destination_country": "DE",
        "destination_region": None,
    } | overrides


def quoted(service: CarrierService, grams: int, *dims: int, **shipment: Any) -> Quote | None:
    where = shipment or in_germany(POTSDAM)
    return quote(service, parcel=Parcel(grams, *dims), ship_on=FRIDAY, **where)


def price(grams: int, *dims: int, card: RateCard = CARD, **shipment: Any) -> str:
    found = quoted(replace(GROUND, rate_card=card), grams, *dims, **shipment)
    assert found is not None
    return str(found.price)


# --- zones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shipment", "zone"),
    [
        (in_germany(POTSDAM), "local"),
        (in_germany(MUNICH), "regional"),
        (in_germany(FREIBURG), "national"),  # beyond the last band: the country-wide zone
        (in_germany(None), "national"),  # no point, no distance
        (in_germany(POTSDAM, destination_region="BE"), "city"),  # a region beats the bands
        (in_germany(POTSDAM, destination_region="BY"), "local"),
        (in_germany(POTSDAM, origin_country="at", destination_country="de"), "national"),
        (in_germany(POTSDAM, destination_country="AT"), "eu"),  # bands are domestic only
        (in_germany(None, destination_country="ES", destination_region="CN"), "canaries"),
        (in_germany(None, destination_country="es", destination_region="cn"), "canaries"),
        (in_germany(None, destination_country="ES", destination_region="AN"), "eu"),
        (in_germany(None, destination_country="FR"), None),
        (in_germany(None, destination_country="FR", destination_region="BE"), None),
    ],
)
def test_zone_by_region_then_domestic_distance_band_then_country(
    shipment: dict[str, Any], zone: str | None
) -> None:
    assert RULE.zone_for(**shipment) == zone


def test_without_a_matching_band_or_country_the_destination_is_not_served() -> None:
    bands_only = ZoneRule(distance_bands=(DistanceBand(100, "local"),))
    assert bands_only.zone_for(**in_germany(POTSDAM)) == "local"
    assert bands_only.zone_for(**in_germany(MUNICH)) is None
    assert quoted(GROUND, 500, **in_germany(None, destination_country="FR")) is None


# --- billable weight and price -----------------------------------------------------------


@pytest.mark.parametrize(
    ("parcel", "divisor", "billable"),
    [
        (Parcel(1000), 5000, 1000),
        (Parcel(1000, 400, 300, 200), 5000, 4800),  # 24 000 cm³ / 5000 = 4.8 kg
        (Parcel(1000, 400, 300, 200), 6000, 4000),
        (Parcel(6000, 400, 300, 200), 5000, 6000),  # the actual weight wins
        (Parcel(100, 101, 100, 101), 5000, 205),  # 204.02 g, rounded up
        (Parcel(1, 1, 1, 1), 5000, 1),
    ],
)
def test_billable_weight_is_the_larger_of_actual_and_volumetric(
    parcel: Parcel, divisor: int, billable: int
) -> None:
    assert billable_grams(parcel, divisor) == billable


@pytest.mark.parametrize(
    ("grams", "expected"),
    [
        (1, "4.00"),
        (1000, "4.00"),  # a break includes its own weight
        (1001, "6.00"),
        (5000, "6.00"),
        (5001, "6.50"),  # one started kilogram above the last break
        (6000, "6.50"),
        (6001, "7.00"),
        (10000, "8.50"),
        (31500, "19.50"),
    ],
)
def test_price_by_weight_break_then_per_started_kg(grams: int, expected: str) -> None:
    assert price(grams) == expected


def test_dimensional_weight_can_put_a_light_parcel_in_a_heavier_break() -> None:
    assert price(1000) == "4.00"
    assert price(1000, 400, 300, 200) == "6.00"  # billed as 4800 g
    assert price(1000, 400, 300, 200, card=replace(CARD, dim_divisor=25000)) == "4.00"


@pytest.mark.parametrize(
    ("break_price", "fuel_pct", "expected"),
    [
        ("4.00", "0", "4.00"),
        ("4.00", "12.5", "4.50"),
        ("6.90", "8.5", "7.49"),  # 7.4865
        ("0.10", "5", "0.11"),  # 0.105 rounds half up, not to even
        ("0.30", "15", "0.35"),  # 0.345
        ("9.99", "100", "19.98"),
    ],
)
def test_fuel_surcharge_is_added_before_one_rounding_half_up(
    break_price: str, fuel_pct: str, expected: str
) -> None:
    card = replace(CARD, fuel_surcharge_pct=D(fuel_pct))
    card = replace(card, prices=(zone_price("local", (1000, break_price)), *CARD.prices[1:]))
    assert price(500, card=card) == expected


def test_surcharged_price_above_the_last_break_is_rounded_once() -> None:
    card = replace(CARD, fuel_surcharge_pct=D("8.5"))
    assert price(5001, card=card) == "7.05"  # (6.00 + 0.50) x 1.085 = 7.0525


def test_yen_prices_have_no_decimals() -> None:
    card = RateCard(
        "JPY",
        ZoneRule(regions=(RegionZone("JP", None, "jp"),)),
        (zone_price("jp", (2000, "800"), per_kg="150"),),
        fuel_surcharge_pct=D("7.5"),
    )
    card.validate()
    japan = {**in_germany(None), "origin_country": "JP", "destination_country": "JP"}
    assert price(2000, card=card, **japan) == "860"  # 800 x 1.075
    assert price(2001, card=card, **japan) == "1021"  # 950 x 1.075 = 1021.25
    with pytest.raises(InvalidRequest) as refused:
        replace(card, prices=(zone_price("jp", (2000, "800.50")),)).validate()
    assert [e.pointer for e in refused.value.errors] == ["#/prices/0/breaks/0/price"]


def test_the_weight_limit_applies_to_the_actual_weight() -> None:
    assert quoted(GROUND, 31500) is not None
    assert quoted(GROUND, 31501) is None
    assert quoted(GROUND, 1000, 1000, 1000, 1000) is not None  # 200 kg by volume


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"weight_grams": 0}, "#/weight_grams"),
        ({"weight_grams": 10, "length_mm": 10}, "#"),
        ({"weight_grams": 10, "length_mm": 10, "width_mm": 10, "height_mm": 0}, "#"),
    ],
)
def test_a_parcel_without_weight_or_with_partial_dimensions_is_refused(
    fields: dict[str, int], pointer: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        Parcel(**fields)
    assert [e.pointer for e in refused.value.errors] == [pointer]


@settings(deadline=None)  # timings on a busy machine say nothing here
@given(
    grams=st.integers(1, 100_000),
    dims=st.none() | st.tuples(*[st.integers(1, 2000)] * 3),
    country=st.sampled_from(["DE", "AT", "ES", "FR", "us"]),
    region=st.sampled_from([None, "BE", "CN", "XX"]),
    point=st.sampled_from([None, POTSDAM, MUNICH, FREIBURG]),
)
def test_quote_never_raises_and_prices_in_the_currency(
    grams: int, dims: tuple[int, int, int] | None, country: str, region: str | None, point: Any
) -> None:
    shipment = in_germany(point, destination_country=country, destination_region=region)
    found = quoted(GROUND, grams, *(dims or ()), **shipment)
    assert found is None or (found.price > 0 and found.price == found.price.quantize(D("0.01")))


@st.composite
def priced_cards(draw: st.DrawFn) -> RateCard:
    """A valid one-zone card: ascending breaks, non-decreasing prices, any surcharge."""
    grams = sorted(draw(st.sets(st.integers(1, 60_000), min_size=1, max_size=5)))
    cents = sorted(draw(st.lists(st.integers(0, 10_000), min_size=len(grams), max_size=len(grams))))
    breaks = tuple(WeightBreak(g, D(c).scaleb(-2)) for g, c in zip(grams, cents, strict=True))
    per_kg = D(draw(st.integers(0, 1000))).scaleb(-2)
    fuel = D(draw(st.integers(0, 1000))) / 10
    rule = ZoneRule(regions=(RegionZone("DE", None, "z"),))
    card = RateCard("EUR", rule, (ZonePrice("z", breaks, per_kg, 1),), fuel_surcharge_pct=fuel)
    card.validate()
    return card


@settings(deadline=None)  # timings on a busy machine say nothing here
@given(card=priced_cards(), weights=st.tuples(st.integers(1, 100_000), st.integers(1, 100_000)))
def test_price_never_decreases_as_weight_grows(card: RateCard, weights: tuple[int, int]) -> None:
    lighter, heavier = sorted(weights)
    assert D(price(lighter, card=card)) <= D(price(heavier, card=card))


# --- validation --------------------------------------------------------------------------


def with_local(*breaks: tuple[int, str], per_kg: str = "0.50", days: int = 1) -> Any:
    """A change to CARD replacing the prices of its first zone."""
    local = zone_price("local", *breaks, per_kg=per_kg, days=days)
    return lambda card: replace(card, prices=(local, *card.prices[1:]))


@pytest.mark.parametrize(
    ("change", "pointers"),
    [
        (lambda c: replace(c, currency="EURO"), ["#/currency"]),
        (lambda c: replace(c, dim_divisor=0), ["#/dim_divisor"]),
        (lambda c: replace(c, fuel_surcharge_pct=D(-1)), ["#/fuel_surcharge_pct"]),
        (lambda c: replace(c, fuel_surcharge_pct=D("100.1")), ["#/fuel_surcharge_pct"]),
        (lambda c: replace(c, max_weight_grams=0), ["#/max_weight_grams"]),
        (with_local((1000, "4.00"), (1000, "5.00")), ["#/prices/0/breaks/1/up_to_grams"]),
        (with_local((0, "4.00")), ["#/prices/0/breaks/0/up_to_grams"]),
        (with_local((1000, "-1.00")), ["#/prices/0/breaks/0/price"]),
        (with_local((1000, "4.00"), (2000, "4.005")), ["#/prices/0/breaks/1/price"]),
        (with_local((1000, "4.00"), (2000, "3.99")), ["#/prices/0/breaks/1/price"]),
        (with_local((1000, "4.00"), per_kg="NaN"), ["#/prices/0/per_kg_over"]),
        (with_local((1000, "4.00"), days=-1), ["#/prices/0/transit_days"]),
        (with_local(), ["#/prices/0/breaks"]),
        (lambda c: replace(c, prices=(*c.prices, c.prices[0])), ["#/prices/6/zone"]),
        (lambda c: replace(c, prices=c.prices[1:]), ["#/zones/distance_bands/0/zone"]),
        (lambda c: replace(c, prices=c.prices[:-1]), ["#/zones/regions/4/zone"]),
        (
            lambda c: replace(c, zones=replace(RULE, distance_bands=RULE.distance_bands[::-1])),
            ["#/zones/distance_bands/1/up_to_km"],
        ),
        (
            lambda c: replace(c, zones=replace(RULE, regions=(RegionZone("de", None, "eu"),))),
            ["#/zones/regions/0/country"],
        ),
        (
            lambda c: replace(c, zones=replace(RULE, regions=(*RULE.regions, RULE.regions[1]))),
            ["#/zones/regions/5"],
        ),
    ],
)
def test_validate_refuses_an_inconsistent_card_with_pointers(
    change: Any, pointers: list[str]
) -> None:
    CARD.validate()
    with pytest.raises(InvalidRequest) as refused:
        change(CARD).validate()
    assert [error.pointer for error in refused.value.errors] == pointers


def test_validate_lists_every_problem_at_once() -> None:
    broken = replace(CARD, currency="XXX1", dim_divisor=-1, prices=())
    with pytest.raises(InvalidRequest) as refused:
        broken.validate()
    assert len(refused.value.errors) == 2 + len(RULE.distance_bands) + len(RULE.regions)


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (THURSDAY, 1, FRIDAY),
        (THURSDAY, 2, MONDAY),
        (FRIDAY, 0, FRIDAY),
        (FRIDAY, 1, MONDAY),
        (FRIDAY, 3, WEDNESDAY),
        (SATURDAY, 1, MONDAY),
        (SATURDAY + timedelta(days=1), 2, TUESDAY),
        (MONDAY, 5, MONDAY + timedelta(days=7)),
        (WEDNESDAY, 10, WEDNESDAY + timedelta(days=14)),
    ],
)
def test_business_days_skip_the_weekend(start: date, days: int, expected: date) -> None:
    assert add_business_days(start, days) == expected


@settings(deadline=None)  # timings on a busy machine say nothing here
@given(start=st.dates(date(2000, 1, 1), date(2100, 1, 1)), days=st.integers(0, 400))
def test_business_days_agree_with_counting_them_one_by_one(start: date, days: int) -> None:
    expected, left = start, days
    while left:
        expected += timedelta(days=1)
        left -= expected.weekday() < 5
    assert add_business_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (FRIDAY, 1, THURSDAY),
        (MONDAY, 1, MONDAY - timedelta(days=3)),
        (SATURDAY, 0, SATURDAY),
        (SATURDAY, 1, FRIDAY),
        (SATURDAY + timedelta(days=1), 1, FRIDAY),
        (WEDNESDAY, 10, WEDNESDAY - timedelta(days=14)),
    ],
)
def test_business_days_back_skip_the_weekend(start: date, days: int, expected: date) -> None:
    assert subtract_business_days(start, days) == expected


@settings(deadline=None)
@given(start=st.dates(date(2000, 1, 1), date(2100, 1, 1)), days=st.integers(1, 400))
def test_business_days_back_then_forth_come_home(start: date, days: int) -> None:
    """Back ``days`` business days lands on a business day, from which ``days`` forth is
    ``start`` itself (or, from a weekend, the next business day)."""
    back = subtract_business_days(start, days)

    assert back.weekday() < 5
    assert add_business_days(back, days) == add_business_days(start - timedelta(days=1), 1)


@pytest.mark.parametrize(
    ("now", "cutoff", "expected"),
    [
        (datetime(2026, 11, 26, 13, 59, tzinfo=UTC), time(15, tzinfo=BERLIN_TIME), THURSDAY),
        (datetime(2026, 11, 26, 14, 0, tzinfo=UTC), time(15, tzinfo=BERLIN_TIME), FRIDAY),
        (datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN_TIME), time(15, tzinfo=BERLIN_TIME), MONDAY),
        (datetime(2026, 11, 28, 9, 0, tzinfo=BERLIN_TIME), time(15, tzinfo=BERLIN_TIME), MONDAY),
        (datetime(2026, 11, 26, 14, 59, tzinfo=UTC), time(15), THURSDAY),  # a naive cut-off is UTC
        (datetime(2026, 11, 26, 15, 0, tzinfo=UTC), time(15), FRIDAY),
        (
            datetime(2026, 11, 26, 23, 30, tzinfo=UTC),
            time(15, tzinfo=ZoneInfo("Asia/Tokyo")),
            FRIDAY,
        ),
    ],
)
def test_ship_date_is_today_only_before_the_cutoff_on_a_business_day(
    now: datetime, cutoff: time, expected: date
) -> None:
    assert ship_date(now, cutoff) == expected


def test_ship_date_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ship_date(datetime(2026, 11, 26, 12, 0), time(15))


def test_a_quote_delivers_transit_days_business_days_after_the_ship_date() -> None:
    found = quoted(GROUND, 500, **in_germany(MUNICH))
    assert found == Quote("acme", "ground", "regional", D("5.00"), "EUR", 2, FRIDAY, TUESDAY)


# --- rate shopping ------------------------------------------------------------------------


def service(
    carrier: str, code: str, local_price: str, days: int, currency: str = "EUR"
) -> CarrierService:
    prices = (zone_price("local", (5000, local_price), days=days), *CARD.prices[1:])
    return CarrierService(
        carrier, code, code.title(), replace(CARD, currency=currency, prices=prices)
    )


SERVICES = [
    service("acme", "ground", "4.00", 3),
    service("acme", "express", "9.00", 1),
    service("bolt", "ground", "4.00", 2),
    service("bolt", "economy", "4.00", 2),
    CarrierService(
        "acme", "spain", "Spain only", replace(CARD, zones=ZoneRule(regions=RULE.regions[3:]))
    ),
]


@pytest.mark.parametrize(
    ("deliver_by", "expected"),
    [
        (None, ["bolt/economy", "bolt/ground", "acme/ground", "acme/express"]),
        (WEDNESDAY, ["bolt/economy", "bolt/ground", "acme/ground", "acme/express"]),
        (TUESDAY, ["bolt/economy", "bolt/ground", "acme/express"]),
        (MONDAY, ["acme/express"]),
        (FRIDAY, []),
    ],
)
def test_rate_shop_is_cheapest_then_fastest_then_by_code_and_meets_the_deadline(
    deliver_by: date | None, expected: list[str]
) -> None:
    quotes = rate_shop(
        SERVICES, parcel=Parcel(800), ship_on=FRIDAY, deliver_by=deliver_by, **in_germany(POTSDAM)
    )
    assert [f"{q.carrier}/{q.service}" for q in quotes] == expected


def test_rate_shop_refuses_to_compare_prices_in_different_currencies() -> None:
    services = [*SERVICES, service("yamato", "ground", "900", 1, currency="JPY")]
    with pytest.raises(InvalidRequest, match="EUR, JPY"):
        rate_shop(services, parcel=Parcel(800), ship_on=FRIDAY, **in_germany(POTSDAM))
