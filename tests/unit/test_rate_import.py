"""Importing rate cards: the documented YAML and CSV formats, round trips and refusals."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import textwrap
from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain import rate_import
from oms.domain.errors import InvalidRequest
from oms.domain.money import minor_units
from oms.domain.rate_import import parse_rate_cards
from oms.domain.shipping import (
    CarrierService,
    DistanceBand,
    RateCard,
    RegionZone,
    WeightBreak,
    ZonePrice,
    ZoneRule,
)

D = Decimal
HEADER = (
    "carrier,service,name,currency,zone,max_km,country,region,transit_days,"
    "up_to_grams,price,per_kg_over,fuel_surcharge_pct,dim_divisor"
)


def zone_price(zone: str, breaks: dict[int, str], per_kg: str, days: int) -> ZonePrice:
    return ZonePrice(zone, tuple(WeightBreak(g, D(p)) for g, p in breaks.items()), D(per_kg), days)


ACME_GROUND = CarrierService(
    "acme",
    "ground",
    "Acme Ground",
    RateCard(
        currency="EUR",
        zones=ZoneRule(
            distance_bands=(DistanceBand(150, "local"), DistanceBand(float("inf"), "national")),
            regions=(
                RegionZone("AT", None, "eu"),
                RegionZone("ES", None, "eu"),
                RegionZone("ES", "CN", "canaries"),
            ),
        ),
        prices=(
            zone_price("local", {1000: "4.90", 5000: "6.90"}, "0.50", 1),
            zone_price("national", {5000: "7.90"}, "0.80", 2),
            zone_price("eu", {5000: "12.50"}, "1.20", 4),
            zone_price("canaries", {5000: "29.00"}, "3.00", 6),
        ),
        fuel_surcharge_pct=D("8.5"),
        max_weight_grams=31500,
    ),
)


def documented_examples() -> tuple[str, str]:
    assert rate_import.__doc__ is not None
    blocks = re.findall(r"::\n\n((?:    .*\n|\n)+)", rate_import.__doc__)
    yaml_text, csv_text = (textwrap.dedent(block) for block in blocks)
    return yaml_text, csv_text


def test_the_documented_examples_describe_the_same_card() -> None:
    yaml_text, csv_text = documented_examples()
    assert parse_rate_cards(yaml_text, fmt="yaml") == [ACME_GROUND]
    assert parse_rate_cards(csv_text, fmt="csv") == [ACME_GROUND]


# --- writing cards, to read them back ------------------------------------------------------


def as_yaml(services: list[CarrierService]) -> str:
    def card_of(service: CarrierService) -> dict[str, Any]:
        card = service.rate_card
        entry: dict[str, Any] = {
            "carrier": service.carrier,
            "code": service.code,
            "name": service.name,
            "currency": card.currency,
            "dim_divisor": card.dim_divisor,
            "fuel_surcharge_pct": str(card.fuel_surcharge_pct),
            "zones": {
                "distance_bands": [vars(band) for band in card.zones.distance_bands],
                "regions": [vars(region) for region in card.zones.regions],
            },
            "prices": [
                {
                    "zone": price.zone,
                    "transit_days": price.transit_days,
                    "per_kg_over": str(price.per_kg_over),
                    "breaks": [
                        {"up_to_grams": b.up_to_grams, "price": str(b.price)} for b in price.breaks
                    ],
                }
                for price in card.prices
            ],
        }
        if card.max_weight_grams is not None:
            entry["max_weight_grams"] = card.max_weight_grams
        return entry

    return yaml.safe_dump([card_of(service) for service in services], sort_keys=False)


def as_csv(services: list[CarrierService]) -> str:
    """Every column on every row: a row per weight break, then one per band and per region."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*HEADER.split(","), "max_weight_grams"])
    for service in services:
        card = service.rate_card
        zones = {price.zone: price for price in card.prices}
        rows = [(p.zone, "", "", "", b.up_to_grams, b.price) for p in card.prices for b in p.breaks]
        rows += [(band.zone, band.up_to_km, "", "", "", "") for band in card.zones.distance_bands]
        rows += [(r.zone, "", r.country, r.region or "", "", "") for r in card.zones.regions]
        for zone, km, country, region, grams, price in rows:
            names = [service.carrier, service.code, service.name, card.currency, zone]
            per_zone = [zones[zone].transit_days, grams, price, zones[zone].per_kg_over]
            per_card = [card.fuel_surcharge_pct, card.dim_divisor, card.max_weight_grams or ""]
            writer.writerow([*names, km, country, region, *per_zone, *per_card])
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_cards_written_out_read_back_equal(fmt: str) -> None:
    text = as_yaml([ACME_GROUND]) if fmt == "yaml" else as_csv([ACME_GROUND])
    assert parse_rate_cards(text, fmt=fmt) == [ACME_GROUND]  # type: ignore[arg-type]


NAMES = st.text("abcxyz019 -,'\"", min_size=1, max_size=6).map(str.strip).filter(bool)


@st.composite
def services(draw: st.DrawFn) -> list[CarrierService]:
    """Valid services in a currency with 0, 2 or 3 decimals, with names that need quoting."""
    found = []
    for code in draw(st.lists(NAMES, min_size=1, max_size=3, unique=True)):
        currency = draw(st.sampled_from(["EUR", "JPY", "KWD"]))
        zones = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
        digits = minor_units(currency)
        amount = st.integers(0, 10**6).map(lambda n, digits=digits: D(n).scaleb(-digits))
        prices = []
        for zone in zones:
            grams = sorted(draw(st.sets(st.integers(1, 100_000), min_size=1, max_size=3)))
            amounts = sorted(draw(st.lists(amount, min_size=len(grams), max_size=len(grams))))
            breaks = tuple(map(WeightBreak, grams, amounts))
            prices.append(ZonePrice(zone, breaks, draw(amount), draw(st.integers(0, 10))))
        kms = sorted(draw(st.sets(st.floats(0.5, 5000) | st.just(float("inf")), max_size=3)))
        places = st.tuples(st.sampled_from(["DE", "ES", "NO"]), st.sampled_from([None, "CN", "ON"]))
        rule = ZoneRule(
            tuple(DistanceBand(km, draw(st.sampled_from(zones))) for km in kms),
            tuple(
                RegionZone(*place, draw(st.sampled_from(zones)))
                for place in draw(st.sets(places, max_size=4))
            ),
        )
        card = RateCard(
            currency,
            rule,
            tuple(prices),
            dim_divisor=draw(st.integers(1, 10_000)),
            fuel_surcharge_pct=D(draw(st.integers(0, 1000))) / 10,
            max_weight_grams=draw(st.none() | st.integers(1, 100_000)),
        )
        card.validate()
        found.append(CarrierService(draw(NAMES), code, draw(NAMES), card))
    return found


@settings(deadline=None)  # timings on a busy machine say nothing here
@given(cards=services())
def test_any_valid_cards_survive_a_yaml_and_a_csv_round_trip(cards: list[CarrierService]) -> None:
    assert parse_rate_cards(as_yaml(cards), fmt="yaml") == cards
    assert parse_rate_cards(as_csv(cards), fmt="csv") == cards


def test_yaml_reads_norway_as_a_country_and_floats_as_written() -> None:
    text = """
    - {carrier: acme, code: nordic, name: Nordic, currency: NOK, fuel_surcharge_pct: 2.5,
       zones: {regions: [{country: NO, zone: no}]},
       prices: [{zone: no, transit_days: 2, per_kg_over: 0.1,
                 breaks: [{up_to_grams: 1000, price: 79.9}]}]}
    """
    [nordic] = parse_rate_cards(textwrap.dedent(text), fmt="yaml")
    assert nordic.rate_card.zones.regions == (RegionZone("NO", None, "no"),)
    assert nordic.rate_card.prices[0].breaks[0].price == D("79.9")
    assert str(nordic.rate_card.fuel_surcharge_pct) == "2.5"


# --- refusals -------------------------------------------------------------------------------

CSV_OK = f"""{HEADER}
acme,ground,Acme Ground,EUR,local,100,,,1,1000,4.90,0.50,0,5000
acme,ground,,,local,,,,,5000,6.90,,,
acme,ground,,,eu,,AT,,4,5000,12.50,1.20,,
"""


def refused(text: str, fmt: str) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRequest) as raised:
        parse_rate_cards(text, fmt=fmt)  # type: ignore[arg-type]
    return [(error.pointer, error.detail) for error in raised.value.errors]


def csv_edit(row: int, old: str, new: str) -> str:
    lines = CSV_OK.splitlines(keepends=True)
    assert old in lines[row - 1]
    lines[row - 1] = lines[row - 1].replace(old, new, 1)
    return "".join(lines)


@pytest.mark.parametrize(
    ("text", "pointer", "detail"),
    [
        ("", "row 1: carrier", "is missing"),
        (CSV_OK.replace(",price,", ",prise,"), "row 1: price", "is missing"),
        (CSV_OK.replace(",price,", ",price,price,"), "row 1: price", "is not a known column"),
        (csv_edit(3, "6.90", "six"), "row 3: price", "must be a decimal number"),
        (csv_edit(3, "5000", "5000.5"), "row 3: up_to_grams", "must be a whole number"),
        (csv_edit(3, ",6.90", ",,"), "row 3", "does not have as many fields"),
        (csv_edit(3, ",6.90", ",6.90,"), "row 3", "does not have as many fields"),
        (csv_edit(3, ",6.90", ',"6.90'), "row 3", "is not valid CSV"),
        (
            csv_edit(3, "acme,ground,,,local,", "acme,ground,,,,"),
            "row 3: zone",
            "must not be blank",
        ),
        (csv_edit(3, "5000,", ","), "row 3: up_to_grams", "give up_to_grams and price together"),
        (csv_edit(4, ",,AT,", ",100,AT,"), "row 4: max_km", "give max_km or country, not both"),
        (csv_edit(4, "AT,,", ",CN,"), "row 4: country", "must be given with a region"),
        (csv_edit(3, "local,,,,,", "local,,,,2,"), "row 3: transit_days", "differs from row 2"),
        (csv_edit(4, "4,5000", "x,5000"), "row 4: transit_days", "must be a whole number"),
        (csv_edit(3, "ground,,,", "ground,,USD,"), "row 3: currency", "differs from row 2"),
        (csv_edit(2, "Acme Ground", ""), "row 2: name", "is required"),
        (csv_edit(4, ",4,", ",,"), "row 4: transit_days", "is required"),
        (csv_edit(2, "local,100", "local,abc"), "row 2: max_km", "must be a number"),
        (csv_edit(3, "5000,6.90", "900,6.90"), "row 3: up_to_grams", "the break before"),
        (csv_edit(3, "6.90", "6.905"), "row 3: price", "must have at most 2 decimals"),
        (csv_edit(2, "0,5000", "150,5000"), "row 2: fuel_surcharge_pct", "from 0 to 100"),
        (csv_edit(2, "EUR", "EURO"), "row 2: currency", "ISO 4217"),
        (csv_edit(4, ",AT,", ",at,"), "row 4: country", "ISO 3166"),
        (CSV_OK + "acme,ground,,,isles,,ES,,5,,,2.00,,\n", "row 5: up_to_grams", "needs at least"),
        (CSV_OK + "acme,ground,,,far,,AT,,5,900,9.00,1.00,,\n", "row 5: country", "repeats"),
        (
            CSV_OK + "acme,ground,,,far,50,,,3,900,9.00,1.00,,\n",
            "row 5: max_km",
            "the band before",
        ),
    ],
)
def test_malformed_csv_is_refused_naming_the_row_and_column(
    text: str, pointer: str, detail: str
) -> None:
    assert parse_rate_cards(CSV_OK, fmt="csv")
    problems = refused(text, "csv")
    assert any(p == pointer and detail in d for p, d in problems), problems


YAML_OK = """
- carrier: acme
  code: ground
  name: Acme Ground
  currency: EUR
  zones: {regions: [{country: AT, zone: eu}]}
  prices:
    - {zone: eu, transit_days: 4, per_kg_over: "1.20",
       breaks: [{up_to_grams: 5000, price: "12.50"}]}
"""


def yaml_edit(old: str, new: str) -> str:
    assert old in YAML_OK
    return YAML_OK.replace(old, new)


BREAK = "#/0/prices/0/breaks/0"


@pytest.mark.parametrize(
    ("text", "pointer", "detail"),
    [
        ("- [unclosed", "line 1", "is not valid YAML"),
        ("carrier: acme", "#", "must be a list"),
        (yaml_edit("  currency: EUR\n", ""), "#/0/currency", "is required"),
        (yaml_edit("EUR", "EUR\n  dim_divsor: 6"), "#/0/dim_divsor", "is not a known field"),
        (yaml_edit('"12.50"', "twelve"), f"{BREAK}/price", "must be a decimal"),
        (yaml_edit("5000", "true"), f"{BREAK}/up_to_grams", "must be a whole number"),
        (yaml_edit("5000", "1" * 5000), "#", "is not valid YAML"),  # over int()'s digit limit
        (
            yaml_edit('[{up_to_grams: 5000, price: "12.50"}]', "{}"),
            BREAK[:-2],
            "must be a list",
        ),
        (yaml_edit("{regions:", "{bands:"), "#/0/zones/bands", "is not a known field"),
        (yaml_edit("zone: eu}", "zone: ch}"), "#/0/zones/regions/0/zone", "has no price"),
        (yaml_edit("up_to_grams: 5000", "up_to_grams: 0"), f"{BREAK}/up_to_grams", "must exceed 0"),
        (YAML_OK + yaml_edit("Acme Ground", "Again"), "#/1/code", "repeats the service at #/0"),
        (yaml_edit("- carrier", "- 42\n- carrier"), "#/0", "must be a mapping"),
    ],
)
def test_malformed_yaml_is_refused_with_pointers(text: str, pointer: str, detail: str) -> None:
    assert parse_rate_cards(YAML_OK, fmt="yaml")
    problems = refused(text, "yaml")
    assert any(p == pointer and detail in d for p, d in problems), problems


def test_an_unknown_format_is_refused() -> None:
    assert refused(CSV_OK, "xlsx") == [("fmt", "must be csv or yaml")]


@settings(deadline=None)  # timings on a busy machine say nothing here
@given(text=st.text(max_size=300) | st.sampled_from([CSV_OK, YAML_OK]).map(lambda t: t[:150]))
def test_any_text_is_read_or_refused_never_crashes(text: str) -> None:
    for fmt in ("csv", "yaml"):
        with contextlib.suppress(InvalidRequest):
            parse_rate_cards(text, fmt=fmt)  # type: ignore[arg-type]
