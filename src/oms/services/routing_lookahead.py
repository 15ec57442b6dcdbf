"""What the look-ahead term is fed: demand expected near each candidate location (from the
latest forecasts, through the ``DemandRepository`` port: ``uow.demand``) and what a unit of
it costs to serve from each location (the carrier rate cards, with the location itself as
the destination). ``oms.domain.routing_lookahead`` turns them into the term.

Forecasts are made nightly (``oms forecast run``), so both are cached per tenant and UTC day
(``OutlookCache``): each (SKU, location) forecast is read once a day, not once per order;
only the stock, which changes with every order, is taken afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from oms.domain.catalogue import Location
from oms.domain.geo import Geocode, GeoPoint, GeoPrecision
from oms.domain.routing import Candidate, RoutingLine
from oms.domain.routing_lookahead import Lookahead, SkuOutlook, outlook_of
from oms.domain.routing_profile import RoutingProfile
from oms.domain.shipping import CarrierService
from oms.services.ports import UnitOfWork
from oms.services.routing_network import Network, Shipper

__all__ = ["OutlookCache", "lookahead_for", "unit_grams"]


@dataclass
class OutlookCache:
    """Per tenant, for one UTC day: expected demand per (SKU, location code, horizon) and the
    cost of a unit parcel per (from, to, grams). A new day starts afresh."""

    day: date | None = None
    demand: dict[tuple[UUID, str, str, int], float] = field(default_factory=dict)
    unit_cost: dict[tuple[UUID, UUID, int], Decimal | None] = field(default_factory=dict)
    reads: int = 0  # forecasts read: how often the cache missed

    def on(self, day: date) -> None:
        if day != self.day:
            self.day = day
            self.demand.clear()
            self.unit_cost.clear()


_SHARED = OutlookCache()


def unit_grams(lines: Sequence[RoutingLine]) -> dict[str, int]:
    """Grams of one unit of each SKU the lines draw (a bundle's weight shared out)."""
    grams: dict[str, int] = {}
    for line in lines:
        count = sum(line.per_unit.values()) or 1
        for sku in line.per_unit:
            weight = line.weight_grams // count
            grams[sku] = min(grams.get(sku, weight), weight)
    return grams


def lookahead_for(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    profile: RoutingProfile,
    net: Network,
    services: Sequence[CarrierService],
    lines: Sequence[RoutingLine],
    at: datetime,
    cache: OutlookCache | None = None,
) -> Lookahead | None:
    """The look-ahead term for routing ``lines`` over ``net``; None when the profile has it
    off or there are no rate cards to price the next-best location with."""
    settings = profile.lookahead
    if not settings.enabled or not services or not net.candidates:
        return None
    cache = _SHARED if cache is None else cache
    cache.on(at.date())
    horizon = settings.horizon_days
    by_code = {c.code: c for c in net.candidates}
    places = {loc.code: loc for loc in net.locations.values()}
    outlooks: dict[str, SkuOutlook] = {}
    for sku, grams in sorted(unit_grams(lines).items()):
        stock = {c.code: c.available.get(sku, 0) for c in net.candidates}
        demand = {
            code: _demand(uow, cache, tenant_id, sku, code, horizon, at) for code in sorted(places)
        }

        def unit_cost(origin: str, near: str, grams: int = grams) -> Decimal | None:
            return _unit_cost(cache, net, services, by_code[origin], places[near], grams, at)

        outlooks[sku] = outlook_of(stock, demand, unit_cost)
    return Lookahead(outlooks, settings.weight)


def _demand(
    uow: UnitOfWork,
    cache: OutlookCache,
    tenant_id: UUID,
    sku: str,
    code: str,
    horizon: int,
    at: datetime,
) -> float:
    key = (tenant_id, sku, code, horizon)
    found = cache.demand.get(key)
    if found is None:
        cache.reads += 1
        forecast = uow.demand.forecast(tenant_id, sku, code)
        found = 0.0 if forecast is None else forecast.demand_over(horizon, first=at.date())
        cache.demand[key] = found
    return found


def _unit_cost(
    cache: OutlookCache,
    net: Network,
    services: Sequence[CarrierService],
    origin: Candidate,
    place: Location,
    grams: int,
    at: datetime,
) -> Decimal | None:
    """Handling plus the cheapest service for one unit from ``origin`` to ``place``."""
    key = (origin.location_id, place.id, grams)
    if key not in cache.unit_cost:
        cost = None
        if place.latitude is not None and place.longitude is not None:
            point = Geocode(GeoPoint(place.latitude, place.longitude), GeoPrecision.GIVEN)
            ship = Shipper(services, net.locations, point, place.address, None, at)
            option = ship(origin.location_id, grams)
            if option is not None:
                cost = option.price + origin.handling_cost
        cache.unit_cost[key] = cost
    return cache.unit_cost[key]
