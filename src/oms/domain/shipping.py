"""Carriers, their services and rate cards: which zone a shipment falls in and what it costs.

A ``RateCard`` maps a shipment to a zone with a ``ZoneRule`` and prices the zone by weight:

* Zone: an explicit destination region (``US``/``HI``) beats everything; a domestic shipment
  (origin and destination in one country, both points known) then takes the first distance
  band it falls in; otherwise the destination country's country-wide entry applies. No
  match means the service does not serve the destination.
* Billable weight: the larger of the actual weight and the volumetric weight
  (length x width x height in cm³ / ``dim_divisor``), in whole grams rounded up.
* Price: the first weight break at or above the billable weight; above the last break, its
  price plus ``per_kg_over`` for every started kilogram beyond it; then the fuel surcharge,
  and one rounding half up to the currency's minor unit.
* Delivery: ``transit_days`` business days (Monday to Friday; no holiday calendar) after
  the ship date.

Cards are checked once with ``RateCard.validate``; ``quote`` then trusts them and reads
lookup tables built on first use, as the router calls it thousands of times a second.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import NamedTuple

from oms.domain import lengths
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.geo import GeoPoint, distance_km
from oms.domain.lengths import length_problems
from oms.domain.money import MAX_AMOUNT, is_known_currency, minor_unit_problem, round_money

__all__ = [
    "CarrierService",
    "DistanceBand",
    "Parcel",
    "Quote",
    "RateCard",
    "RegionZone",
    "WeightBreak",
    "ZonePrice",
    "ZoneRule",
    "add_business_days",
    "billable_grams",
    "quote",
    "rate_shop",
    "ship_date",
    "subtract_business_days",
]


@dataclass(frozen=True)
class DistanceBand:
    """Domestic shipments up to ``up_to_km`` (great-circle) fall in ``zone``."""

    up_to_km: float
    zone: str


@dataclass(frozen=True)
class RegionZone:
    """Shipments to ``country`` (ISO 3166 alpha-2), or only to its ``region``, fall in ``zone``."""

    country: str
    region: str | None
    zone: str


@dataclass(frozen=True)
class ZoneRule:
    """How a service assigns a zone: domestic distance bands and destination regions."""

    distance_bands: tuple[DistanceBand, ...] = ()
    regions: tuple[RegionZone, ...] = ()

    @cached_property
    def _bands(self) -> tuple[list[float], list[str]]:
        ordered = sorted(self.distance_bands, key=lambda band: band.up_to_km)
        return [band.up_to_km for band in ordered], [band.zone for band in ordered]

    @cached_property
    def _regions(self) -> dict[tuple[str, str | None], str]:
        # Reversed, so that the first of two entries for one place wins, as in validate().
        return {(entry.country, entry.region): entry.zone for entry in reversed(self.regions)}

    def zone_for(
        self,
        *,
        origin: GeoPoint | None,
        origin_country: str,
        destination: GeoPoint | None,
        destination_country: str,
        destination_region: str | None,
    ) -> str | None:
        """The zone of a shipment, or ``None`` when the service does not serve it."""
        country = destination_country.upper()
        if destination_region is not None:
            zone = self._regions.get((country, destination_region.upper()))
            if zone is not None:
                return zone
        if (
            self.distance_bands
            and origin is not None
            and destination is not None
            and country == origin_country.upper()
        ):
            limits, zones = self._bands
            index = bisect_left(limits, distance_km(origin, destination))
            if index < len(zones):
                return zones[index]
        return self._regions.get((country, None))


@dataclass(frozen=True)
class WeightBreak:
    """The price of a billable weight up to ``up_to_grams``."""

    up_to_grams: int
    price: Decimal


@dataclass(frozen=True)
class ZonePrice:
    """The prices and the transit time (business days) of one zone."""

    zone: str
    breaks: tuple[WeightBreak, ...]
    per_kg_over: Decimal
    transit_days: int


class _PriceTable(NamedTuple):
    limits: list[int]  # the weight breaks' up_to_grams, ascending
    charged: list[Decimal]  # the breaks' prices with the fuel surcharge, rounded
    last_grams: int
    last_price: Decimal  # before the surcharge
    per_kg_over: Decimal
    transit_days: int


@dataclass(frozen=True)
class RateCard:
    """A service's zones and prices in one currency; ``dim_divisor`` is cm³ per kg."""

    currency: str
    zones: ZoneRule
    prices: tuple[ZonePrice, ...]
    dim_divisor: int = 5000
    fuel_surcharge_pct: Decimal = Decimal(0)
    max_weight_grams: int | None = None

    @cached_property
    def _tables(self) -> dict[str, _PriceTable]:
        tables: dict[str, _PriceTable] = {}
        for priced in reversed(self.prices):  # the first price of a zone wins, as in validate()
            if priced.breaks:  # a zone without breaks is not priced
                tables[priced.zone] = _PriceTable(
                    [weight_break.up_to_grams for weight_break in priced.breaks],
                    [self._charge(weight_break.price) for weight_break in priced.breaks],
                    priced.breaks[-1].up_to_grams,
                    priced.breaks[-1].price,
                    priced.per_kg_over,
                    priced.transit_days,
                )
        return tables

    def _charge(self, price: Decimal) -> Decimal:
        return round_money(price * (1 + self.fuel_surcharge_pct / 100), self.currency)

    def _price_and_transit(self, zone: str, grams: int) -> tuple[Decimal, int] | None:
        table = self._tables.get(zone)
        if table is None:
            return None
        index = bisect_left(table.limits, grams)
        if index < len(table.limits):
            return table.charged[index], table.transit_days
        started_kg = -(-(grams - table.last_grams) // 1000)
        return self._charge(table.last_price + table.per_kg_over * started_kg), table.transit_days

    def validate(self) -> None:
        """Refuse an inconsistent card with ``InvalidRequest`` listing every problem."""
        problems = [FieldError(at, detail) for at, ok, detail in _card_checks(self) if not ok]
        if problems:
            raise InvalidRequest("The rate card is not valid", problems)


_Checks = list[tuple[str, bool, str]]  # (pointer, passed, what is wrong when it did not)


def _card_checks(card: RateCard) -> _Checks:
    fuel, max_weight = card.fuel_surcharge_pct, card.max_weight_grams
    currency = card.currency if is_known_currency(card.currency) else None
    checks = [
        ("#/currency", currency is not None, "must be the ISO 4217 code of a currency in use"),
        ("#/dim_divisor", card.dim_divisor > 0, "must be positive"),
        ("#/fuel_surcharge_pct", fuel.is_finite() and 0 <= fuel <= 100, "must be from 0 to 100"),
        ("#/max_weight_grams", max_weight is None or max_weight > 0, "must be positive"),
        *_rule_checks(card.zones),
    ]
    priced: set[str] = set()
    for index, zone_price in enumerate(card.prices):
        at, zone = f"#/prices/{index}", zone_price.zone
        checks += [
            (f"{at}/zone", bool(zone) and zone not in priced, "must be named, and priced once"),
            (f"{at}/transit_days", zone_price.transit_days >= 0, "must not be negative"),
            _amount_check(zone_price.per_kg_over, f"{at}/per_kg_over", currency),
            (f"{at}/breaks", bool(zone_price.breaks), "needs at least one weight break"),
        ]
        previous_grams, previous_price = 0, Decimal(0)
        for number, weight_break in enumerate(zone_price.breaks):
            here, grams = f"{at}/breaks/{number}", weight_break.up_to_grams
            price_check = _amount_check(weight_break.price, f"{here}/price", currency)
            heavier = grams > previous_grams
            rising = not price_check[1] or weight_break.price >= previous_price
            checks += [
                (f"{here}/up_to_grams", heavier, "must exceed 0 and the break before"),
                price_check,
                (f"{here}/price", rising, "must not be below the price of the break before"),
            ]
            previous_grams = max(previous_grams, grams)
            previous_price = weight_break.price if price_check[1] and rising else previous_price
        priced.add(zone)
    bands, regions = card.zones.distance_bands, card.zones.regions
    used = [(f"#/zones/distance_bands/{i}/zone", b.zone) for i, b in enumerate(bands)]
    used += [(f"#/zones/regions/{i}/zone", r.zone) for i, r in enumerate(regions)]
    return checks + [(at, not zone or zone in priced, "has no price") for at, zone in used]


def _rule_checks(rule: ZoneRule) -> _Checks:
    checks: _Checks = []
    previous_km = 0.0
    for index, band in enumerate(rule.distance_bands):
        at, rising = f"#/zones/distance_bands/{index}", band.up_to_km > previous_km  # NaN fails
        checks += [
            (f"{at}/up_to_km", rising, "must exceed 0 and the band before"),
            (f"{at}/zone", bool(band.zone), "must not be empty"),
        ]
        previous_km = band.up_to_km if rising else previous_km
    places: set[tuple[str, str | None]] = set()
    for index, entry in enumerate(rule.regions):
        at, country, region = f"#/zones/regions/{index}", entry.country, entry.region
        alpha_2 = len(country) == 2 and country.isascii() and country.isalpha()
        upper_region = region is None or (region != "" and region == region.upper())
        checks += [
            (f"{at}/country", alpha_2 and country.isupper(), "must be an ISO 3166 alpha-2 code"),
            (f"{at}/region", upper_region, "must be an upper-case code"),
            (f"{at}/zone", bool(entry.zone), "must not be empty"),
            (at, (country, region) not in places, "repeats the place of an entry before"),
        ]
        places.add((country, region))
    return checks


def _amount_check(amount: Decimal, pointer: str, currency: str | None) -> tuple[str, bool, str]:
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        return pointer, False, f"must be a number from 0 to below {MAX_AMOUNT:,}"
    problem = None if currency is None else minor_unit_problem(amount, currency)
    return pointer, problem is None, problem or ""


@dataclass(frozen=True)
class CarrierService:
    """One service of a carrier (``acme``/``ground``) with its rate card."""

    carrier: str
    code: str
    name: str
    rate_card: RateCard
    # False: a domestic-only service, never offered for a parcel that crosses a border.
    international: bool = True

    def serves_route(self, origin_country: str, destination_country: str) -> bool:
        """A domestic-only service serves only parcels that stay in one country (a country
        unknown on either side does not count as a border)."""
        if self.international or not origin_country or not destination_country:
            return True
        return origin_country.upper() == destination_country.upper()

    def validate(self) -> None:
        """Refuse codes or a name too long to store, or an inconsistent card, with
        ``InvalidRequest`` listing every problem (pointers relative to the service)."""
        problems = length_problems(
            [
                ("#/carrier", self.carrier, lengths.CARRIER),
                ("#/code", self.code, lengths.CARRIER_SERVICE),
                ("#/name", self.name, lengths.NAME),
            ]
        )
        checks = _card_checks(self.rate_card)
        problems += [FieldError(at, detail) for at, ok, detail in checks if not ok]
        if problems:
            raise InvalidRequest("The carrier service is not valid", problems)


@dataclass(frozen=True)
class Parcel:
    """A parcel's actual weight and, when all three are known, its outer dimensions."""

    weight_grams: int
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None

    def __post_init__(self) -> None:
        errors = []
        if self.weight_grams <= 0:
            errors.append(FieldError("#/weight_grams", "must be positive"))
        sides = (self.length_mm, self.width_mm, self.height_mm)
        given = [side for side in sides if side is not None]
        if len(given) not in (0, 3) or any(side <= 0 for side in given):
            errors.append(FieldError("#", "give three positive dimensions or none"))
        if errors:
            raise InvalidRequest("The parcel is not valid", errors)


def billable_grams(parcel: Parcel, dim_divisor: int) -> int:
    """The larger of the actual and the volumetric weight (mm³ / divisor, rounded up)."""
    if parcel.length_mm is None or parcel.width_mm is None or parcel.height_mm is None:
        return parcel.weight_grams
    # cm³ / (cm³ per kg) in kg equals mm³ / divisor in grams.
    volumetric = -(-(parcel.length_mm * parcel.width_mm * parcel.height_mm) // dim_divisor)
    return max(parcel.weight_grams, volumetric)


@dataclass(frozen=True)
class Quote:
    """What one service charges for one parcel and when it would arrive."""

    carrier: str
    service: str
    zone: str
    price: Decimal
    currency: str
    transit_days: int
    ship_on: date
    deliver_by: date


def add_business_days(day: date, days: int) -> date:
    """``days`` business days after ``day``, skipping Saturdays and Sundays (``days >= 0``)."""
    if days < 0:
        raise ValueError("days must not be negative")
    if days == 0:
        return day
    weekday = day.weekday()
    if weekday > 4:  # from a weekend, count as from the Friday before
        day -= timedelta(days=weekday - 4)
        weekday = 4
    weeks, rest = divmod(days, 5)
    if weekday + rest > 4:
        rest += 2
    return day + timedelta(days=weeks * 7 + rest)


def subtract_business_days(day: date, days: int) -> date:
    """``days`` business days before ``day``, skipping Saturdays and Sundays (``days >= 0``)."""
    if days < 0:
        raise ValueError("days must not be negative")
    while days:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


# The router asks for the same few (ship date, transit days) pairs all day long.
_deliver_by = lru_cache(maxsize=4096)(add_business_days)


def ship_date(now: datetime, cutoff: time) -> date:
    """Today (in the cut-off's zone, UTC if naive) before the cut-off on a business day, else
    the next business day."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(cutoff.tzinfo or UTC)
    today = local.date()
    if today.weekday() < 5 and local.time() < cutoff.replace(tzinfo=None):
        return today
    return add_business_days(today, 1)


def quote(
    service: CarrierService,
    *,
    parcel: Parcel,
    origin: GeoPoint | None,
    origin_country: str,
    destination: GeoPoint | None,
    destination_country: str,
    destination_region: str | None,
    ship_on: date,
) -> Quote | None:
    """The service's quote, or ``None`` when it does not serve the zone, the parcel is too
    heavy (actual weight above ``max_weight_grams``), or it is domestic-only and the parcel
    crosses a border."""
    card = service.rate_card
    if card.max_weight_grams is not None and parcel.weight_grams > card.max_weight_grams:
        return None
    if not service.serves_route(origin_country, destination_country):
        return None
    zone = card.zones.zone_for(
        origin=origin,
        origin_country=origin_country,
        destination=destination,
        destination_country=destination_country,
        destination_region=destination_region,
    )
    if zone is None:
        return None
    priced = card._price_and_transit(zone, billable_grams(parcel, card.dim_divisor))
    if priced is None:  # an unpriced zone; validate() refuses such cards
        return None
    price, transit_days = priced
    deliver_by = _deliver_by(ship_on, transit_days)
    return Quote(
        service.carrier, service.code, zone, price, card.currency, transit_days, ship_on, deliver_by
    )


def rate_shop(
    services: Sequence[CarrierService],
    *,
    parcel: Parcel,
    origin: GeoPoint | None,
    origin_country: str,
    destination: GeoPoint | None,
    destination_country: str,
    destination_region: str | None,
    ship_on: date,
    deliver_by: date | None = None,
) -> list[Quote]:
    """Quotes of every service that can deliver (by ``deliver_by`` when given), cheapest first,
    then fastest, then by carrier and service code. All services must share one currency."""
    currencies = {service.rate_card.currency for service in services}
    if len(currencies) > 1:
        raise InvalidRequest(f"Cannot compare prices in {', '.join(sorted(currencies))}")
    quotes = []
    for service in services:
        found = quote(
            service,
            parcel=parcel,
            origin=origin,
            origin_country=origin_country,
            destination=destination,
            destination_country=destination_country,
            destination_region=destination_region,
            ship_on=ship_on,
        )
        if found is not None and (deliver_by is None or found.deliver_by <= deliver_by):
            quotes.append(found)
    quotes.sort(key=lambda q: (q.price, q.transit_days, q.carrier, q.service))
    return quotes
