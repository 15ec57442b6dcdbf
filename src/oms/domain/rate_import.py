"""Reading carrier services and their rate cards from YAML or CSV (``parse_rate_cards``).

Both formats describe the same ``CarrierService`` objects; every card is ``validate()``-d.
Bad input raises ``InvalidRequest`` listing every problem found: YAML problems point into the
document (``#/0/prices/1/breaks/0/price``), CSV problems name the row and the column
(``row 4: price``; rows are numbered as lines, the header being row 1).

The format is documented for users in docs/routing.md ("The import format"), with an example
that ``tests/integration/test_rate_card_docs.py`` imports; the examples below are this
module's own (``tests/unit/test_rate_import.py`` reads them).

YAML: a list of services. ``dim_divisor`` (cm³ per kg, default 5000), ``fuel_surcharge_pct``
(default 0), ``max_weight_grams`` (default: no limit) and ``international`` (default true;
false: a domestic-only service, never offered across a border) may be left out, and so may
``distance_bands`` and ``regions``; other keys are required and unknown keys are refused.
Amounts may be numbers or quoted strings; ``.inf`` is an open-ended band; ``yes``, ``no``,
``on`` and ``off`` are read as text, so ``country: NO`` is Norway::

    - carrier: acme
      code: ground
      name: Acme Ground
      currency: EUR
      fuel_surcharge_pct: 8.5
      max_weight_grams: 31500
      zones:
        distance_bands:                 # domestic shipments, by great-circle distance
          - {up_to_km: 150, zone: local}
          - {up_to_km: .inf, zone: national}
        regions:                        # by destination; a region beats its country
          - {country: AT, zone: eu}
          - {country: ES, zone: eu}
          - {country: ES, region: CN, zone: canaries}
      prices:
        - {zone: local, transit_days: 1, per_kg_over: "0.50", breaks: [
            {up_to_grams: 1000, price: "4.90"}, {up_to_grams: 5000, price: "6.90"}]}
        - {zone: national, transit_days: 2, per_kg_over: "0.80", breaks: [
            {up_to_grams: 5000, price: "7.90"}]}
        - {zone: eu, transit_days: 4, per_kg_over: "1.20", breaks: [
            {up_to_grams: 5000, price: "12.50"}]}
        - {zone: canaries, transit_days: 6, per_kg_over: "3.00", breaks: [
            {up_to_grams: 5000, price: "29.00"}]}

CSV: a header row naming the columns carrier, service, name, currency, zone, max_km, country,
region, transit_days, up_to_grams, price, per_kg_over, fuel_surcharge_pct, dim_divisor, in
any order, and optionally max_weight_grams. Each row is one weight break (``up_to_grams``
and ``price``) of one zone of one service (``carrier`` and ``service``, the service code).
Where the zone applies is given on its rows: ``max_km`` (a number, or ``inf``) makes it the
domestic distance band up to that distance; ``country`` (and ``region``) sends that
destination to it. A row gives ``max_km`` or ``country``, or neither; a zone serving several
places names each on its own row, on a break row or on a row whose ``up_to_grams`` and
``price`` are blank. The service's columns (name, currency, fuel_surcharge_pct, dim_divisor,
max_weight_grams) and the zone's (transit_days, per_kg_over) may be blank on all but one of
its rows, but the values given must be identical. Zones, bands and regions keep the order of
their first rows (list the bands from the nearest). The card above::

    carrier,service,name,currency,zone,max_km,country,region,transit_days,up_to_grams,price,\
per_kg_over,fuel_surcharge_pct,dim_divisor,max_weight_grams
    acme,ground,Acme Ground,EUR,local,150,,,1,1000,4.90,0.50,8.5,,31500
    acme,ground,,,local,,,,,5000,6.90,,,,
    acme,ground,,,national,inf,,,2,5000,7.90,0.80,,,
    acme,ground,,,eu,,AT,,4,5000,12.50,1.20,,,
    acme,ground,,,eu,,ES,,,,,,,,
    acme,ground,,,canaries,,ES,CN,6,5000,29.00,3.00,,,

(The header is one line; it is split here only to fit the page.)
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

import yaml

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.shipping import (
    CarrierService,
    DistanceBand,
    RateCard,
    RegionZone,
    WeightBreak,
    ZonePrice,
    ZoneRule,
)

__all__ = ["parse_rate_cards"]

_TITLE = "The rate cards are not valid"
_T = TypeVar("_T")


_BOOL = "tag:yaml.org,2002:bool"


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type information
    """The safe loader, with only true/false as booleans (YAML 1.2): ``NO`` stays text."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_rate_cards(text: str, *, fmt: Literal["csv", "yaml"]) -> list[CarrierService]:
    """The services ``text`` describes in the format documented above, each card validated;
    ``InvalidRequest`` with a pointer per problem otherwise."""
    if fmt == "yaml":
        return _build(_load_yaml(text), lambda pointer: pointer)
    if fmt == "csv":
        document, places = _load_csv(text)
        return _build(document, lambda pointer: _locate(pointer, places))
    raise InvalidRequest(_TITLE, [FieldError("fmt", "must be csv or yaml")])


class _Reader:
    """Converts raw values (YAML scalars or CSV cells), noting each failure as a problem."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, pointer: str, detail: str) -> None:
        self.errors.append(FieldError(pointer, detail))

    def text(self, raw: object, at: str) -> str:
        if isinstance(raw, int | str) and not isinstance(raw, bool) and str(raw).strip():
            return str(raw).strip()
        self.fail(at, "must be a non-empty text")
        return ""

    def whole(self, raw: object, at: str) -> int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"\s*[-+]?[0-9]{1,18}\s*", raw):
            return int(raw)
        self.fail(at, "must be a whole number")
        return 0

    def amount(self, raw: object, at: str) -> Decimal:
        if isinstance(raw, int | float | str) and not isinstance(raw, bool):
            try:  # a YAML float reads as its shortest repr: 4.9, not 4.9000000000000003552...
                value = Decimal(repr(raw) if isinstance(raw, float) else raw)
            except InvalidOperation:
                value = Decimal("NaN")
            if value.is_finite():
                return value
        self.fail(at, "must be a decimal number")
        return Decimal(0)

    def km(self, raw: object, at: str) -> float:
        if isinstance(raw, int | float | str) and not isinstance(raw, bool):
            try:
                value = float(raw)
            except (ValueError, OverflowError):
                value = math.nan
            if not math.isnan(value):
                return value
        self.fail(at, "must be a number of kilometres, or inf")
        return 0.0

    def optional(self, convert: Callable[[object, str], _T], raw: object, at: str) -> _T | None:
        return None if raw is None or raw == "" else convert(raw, at)


# --- From a document (the parsed YAML, or the CSV rows gathered into the same shape) ---------

_SERVICE = {"carrier", "code", "name", "currency", "zones", "prices"}
_SERVICE_OPTIONAL = {"dim_divisor", "fuel_surcharge_pct", "max_weight_grams", "international"}
_PRICE = {"zone", "transit_days", "per_kg_over", "breaks"}


def _build(document: object, locate: Callable[[str], str]) -> list[CarrierService]:
    reader, services, seen = _Reader(), [], dict[tuple[str, str], str]()
    for at, entry in _mappings(reader, document, "#", _SERVICE, _SERVICE_OPTIONAL):
        before = len(reader.errors)
        service = _service(reader, entry, at)
        if len(reader.errors) > before:
            continue  # a card of placeholders would only repeat the problems
        key = (service.carrier, service.code)
        if key in seen:
            reader.fail(f"{at}/code", f"repeats the service at {locate(seen[key])}")
        seen.setdefault(key, at)
        try:
            service.validate()
        except InvalidRequest as refused:
            reader.errors += [FieldError(at + e.pointer[1:], e.detail) for e in refused.errors]
        services.append(service)
    if reader.errors:
        raise InvalidRequest(
            _TITLE, [FieldError(locate(e.pointer), e.detail) for e in reader.errors]
        )
    return services


def _keys(
    reader: _Reader, raw: object, at: str, required: Set[str], optional: Set[str] = frozenset()
) -> dict[str, Any] | None:
    """``raw`` if it is a mapping with every required key and no unknown one."""
    if not isinstance(raw, dict):
        reader.fail(at, "must be a mapping")
        return None
    missing = sorted(required - raw.keys())
    unknown = sorted(str(key) for key in raw.keys() - required - optional)
    reader.errors += [FieldError(f"{at}/{key}", "is required") for key in missing]
    reader.errors += [FieldError(f"{at}/{key}", "is not a known field") for key in unknown]
    return None if missing or unknown else raw


def _mappings(
    reader: _Reader, raw: object, at: str, required: Set[str], optional: Set[str] = frozenset()
) -> list[tuple[str, dict[str, Any]]]:
    """The entries of a list that pass ``_keys``, with their pointers."""
    if not isinstance(raw, list):
        reader.fail(at, "must be a list")
        return []
    found = [
        (f"{at}/{i}", _keys(reader, entry, f"{at}/{i}", required, optional))
        for i, entry in enumerate(raw)
    ]
    return [(here, entry) for here, entry in found if entry is not None]


def _service(reader: _Reader, entry: dict[str, Any], at: str) -> CarrierService:
    text, whole, amount = reader.text, reader.whole, reader.amount
    zones = _keys(reader, entry["zones"], f"{at}/zones", set(), {"distance_bands", "regions"})
    zones = zones or {}
    where = f"{at}/zones/distance_bands"
    bands = [
        DistanceBand(reader.km(band["up_to_km"], f"{p}/up_to_km"), text(band["zone"], f"{p}/zone"))
        for p, band in _mappings(
            reader, zones.get("distance_bands", []), where, {"up_to_km", "zone"}
        )
    ]
    where = f"{at}/zones/regions"
    regions = [
        RegionZone(
            text(place["country"], f"{p}/country"),
            reader.optional(text, place.get("region"), f"{p}/region"),
            text(place["zone"], f"{p}/zone"),
        )
        for p, place in _mappings(
            reader, zones.get("regions", []), where, {"country", "zone"}, {"region"}
        )
    ]
    prices = []
    for p, price in _mappings(reader, entry["prices"], f"{at}/prices", _PRICE):
        breaks = _mappings(reader, price["breaks"], f"{p}/breaks", {"up_to_grams", "price"})
        prices.append(
            ZonePrice(
                text(price["zone"], f"{p}/zone"),
                tuple(
                    WeightBreak(
                        whole(b["up_to_grams"], f"{q}/up_to_grams"),
                        amount(b["price"], f"{q}/price"),
                    )
                    for q, b in breaks
                ),
                amount(price["per_kg_over"], f"{p}/per_kg_over"),
                whole(price["transit_days"], f"{p}/transit_days"),
            )
        )
    card = RateCard(
        currency=text(entry["currency"], f"{at}/currency"),
        zones=ZoneRule(tuple(bands), tuple(regions)),
        prices=tuple(prices),
        dim_divisor=whole(entry.get("dim_divisor", 5000), f"{at}/dim_divisor"),
        fuel_surcharge_pct=amount(entry.get("fuel_surcharge_pct", 0), f"{at}/fuel_surcharge_pct"),
        max_weight_grams=reader.optional(
            whole, entry.get("max_weight_grams"), f"{at}/max_weight_grams"
        ),
    )
    carrier, code = text(entry["carrier"], f"{at}/carrier"), text(entry["code"], f"{at}/code")
    international = entry.get("international", True)
    if not isinstance(international, bool):
        reader.errors.append(FieldError(f"{at}/international", "must be true or false"))
        international = True
    return CarrierService(
        carrier, code, text(entry["name"], f"{at}/name"), card, international=international
    )


def _load_yaml(text: str) -> object:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "#"
        raise InvalidRequest(_TITLE, [FieldError(where, f"is not valid YAML: {error}")]) from None


# --- CSV rows -----------------------------------------------------------------------------

_COLUMNS = (
    "carrier", "service", "name", "currency", "zone", "max_km", "country", "region",
    "transit_days", "up_to_grams", "price", "per_kg_over", "fuel_surcharge_pct", "dim_divisor",
)  # fmt: skip
_SERVICE_COLUMNS = ("name", "currency", "fuel_surcharge_pct", "dim_divisor", "max_weight_grams")
_RENAMED = {"code": "service", "up_to_km": "max_km", "breaks": "up_to_grams"}
_Places = dict[str, tuple[int, str]]  # document pointer -> (CSV row, column)


@dataclass
class _Group:
    """The rows of one service or of one zone, gathered into a document entry."""

    row: int
    settled: dict[str, tuple[str, int]] = field(default_factory=dict)
    zones: dict[str, _Group] = field(default_factory=dict)
    bands: dict[tuple[str, str], int] = field(default_factory=dict)  # (max_km, zone) -> row
    regions: dict[tuple[str, str, str], int] = field(default_factory=dict)
    breaks: list[tuple[str, str, int]] = field(default_factory=list)

    def settle(self, cells: dict[str, str], columns: tuple[str, ...], row: int) -> list[FieldError]:
        """Take the non-blank cells of per-group columns, refusing any that differ."""
        errors = []
        for column in columns:
            if cells.get(column):
                value, first = self.settled.setdefault(column, (cells[column], row))
                if value != cells[column]:
                    errors.append(FieldError(f"row {row}: {column}", f"differs from row {first}"))
        return errors

    def entry(self, keys: dict[str, Any], at: str, places: _Places) -> dict[str, Any]:
        """The group's settled columns added to ``keys``, with their rows noted in ``places``."""
        places.update(
            {f"{at}/{column}": (row, column) for column, (_, row) in self.settled.items()}
        )
        return keys | {column: value for column, (value, _) in self.settled.items()}


def _load_csv(text: str) -> tuple[list[dict[str, Any]], _Places]:
    rows = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), strict=True)
    services: dict[tuple[str, str], _Group] = {}
    errors: list[FieldError] = []
    last_row = 1
    try:
        header = rows.fieldnames = [name.strip() for name in rows.fieldnames or ()]
        known = (*_COLUMNS, "max_weight_grams")
        errors += [FieldError(f"row 1: {n}", "is missing") for n in _COLUMNS if n not in header]
        errors += [
            FieldError(f"row 1: {name}", "is not a known column, or is repeated")
            for name in header
            if name not in known or header.count(name) > 1
        ]
        if errors:
            raise InvalidRequest(_TITLE, errors)
        for raw in rows:
            last_row = rows.line_num
            errors += _gather_row(services, raw, last_row)
    except csv.Error as error:  # the reader's own line count is unreliable after an error
        errors.append(FieldError(f"row {last_row + 1}", f"is not valid CSV: {error}"))
    if errors:
        raise InvalidRequest(_TITLE, errors)
    places: _Places = {}
    document = [
        _service_entry(service, carrier, code, f"#/{i}", places)
        for i, ((carrier, code), service) in enumerate(services.items())
    ]
    return document, places


def _gather_row(
    services: dict[tuple[str, str], _Group], raw: dict[Any, Any], row: int
) -> list[FieldError]:
    if None in raw or None in raw.values():
        return [FieldError(f"row {row}", "does not have as many fields as the header")]
    cells: dict[str, str] = {column: cell.strip() for column, cell in raw.items()}
    if not any(cells.values()):
        return []
    at = f"row {row}:"
    blank = [name for name in ("carrier", "service", "zone") if not cells[name]]
    errors = [FieldError(f"{at} {name}", "must not be blank") for name in blank]
    if bool(cells["up_to_grams"]) != bool(cells["price"]):
        errors.append(FieldError(f"{at} up_to_grams", "give up_to_grams and price together"))
    if cells["max_km"] and cells["country"]:
        errors.append(FieldError(f"{at} max_km", "give max_km or country, not both"))
    if cells["region"] and not cells["country"]:
        errors.append(FieldError(f"{at} country", "must be given with a region"))
    if errors:
        return errors
    service = services.setdefault((cells["carrier"], cells["service"]), _Group(row))
    zone = service.zones.setdefault(cells["zone"], _Group(row))
    errors = service.settle(cells, _SERVICE_COLUMNS, row)
    errors += zone.settle(cells, ("transit_days", "per_kg_over"), row)
    if cells["max_km"]:
        service.bands.setdefault((cells["max_km"], cells["zone"]), row)
    if cells["country"]:
        service.regions.setdefault((cells["country"], cells["region"], cells["zone"]), row)
    if cells["up_to_grams"]:
        zone.breaks.append((cells["up_to_grams"], cells["price"], row))
    return errors


def _service_entry(
    service: _Group, carrier: str, code: str, at: str, places: _Places
) -> dict[str, Any]:
    places[at] = (service.row, "carrier")
    bands, regions, prices = list[dict[str, Any]](), list[dict[str, Any]](), list[dict[str, Any]]()
    for (km, zone_name), row in service.bands.items():
        places[f"{at}/zones/distance_bands/{len(bands)}"] = (row, "max_km")
        bands.append({"up_to_km": km, "zone": zone_name})
    for (country, region, zone_name), row in service.regions.items():
        places[f"{at}/zones/regions/{len(regions)}"] = (row, "country")
        regions.append({"country": country, "region": region, "zone": zone_name})
    for name, zone in service.zones.items():
        here = f"{at}/prices/{len(prices)}"
        places[here], places[f"{here}/breaks"] = (zone.row, "zone"), (zone.row, "up_to_grams")
        places.update(
            {f"{here}/breaks/{j}": (row, "up_to_grams") for j, (*_, row) in enumerate(zone.breaks)}
        )
        breaks = [{"up_to_grams": grams, "price": price} for grams, price, _ in zone.breaks]
        prices.append(zone.entry({"zone": name, "breaks": breaks}, here, places))
    zones = {"distance_bands": bands, "regions": regions}
    entry = service.entry({"carrier": carrier, "code": code}, at, places)
    return entry | {"zones": zones, "prices": prices}


def _locate(pointer: str, places: _Places) -> str:
    """The CSV row and column of a document pointer, found by its longest known prefix."""
    parts = pointer.split("/")
    for end in range(len(parts), 0, -1):
        if (place := places.get("/".join(parts[:end]))) is not None:
            column = place[1] if end == len(parts) else _RENAMED.get(parts[-1], parts[-1])
            return f"row {place[0]}: {column}"
    return pointer
