"""Distributed order management: route an order's units to the best location(s).

For one order: geocode the destination (offline), gather candidate locations (active, able
to ship, not excluded by the profile, stores only with ship-from-store, stock above the
routing safety stock, capacity left today), price each possible package with the carrier
rate cards (cheapest service that meets the promise), let ``oms.domain.routing.route`` pick
the cheapest plan, then take each package's stock whole (``reservations.take_stock``). A
lost race re-plans what is left on fresh figures. Without any carrier service configured,
or without a place for the destination, nothing can be priced by distance: the priority
rule decides, and rate cards still price each location's parcel where they can without a
distance (a parcel none prices is recorded ``unpriced``, and the order held). The record
kept with the order is built in ``oms.services.routing_records``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.allocation import Demand, Pick
from oms.domain.catalogue import Location, Product, unit_weight_grams, weighed_by
from oms.domain.geo import Geocode, GeoPoint, GeoPrecision
from oms.domain.orders import Allocation
from oms.domain.routing import (
    RoutingLine,
    RoutingPolicy,
    RoutingResult,
    route,
)
from oms.domain.routing_profile import RoutingProfile
from oms.domain.shipping import CarrierService, add_business_days
from oms.services.geocoding import Geocoder
from oms.services.incoming import promise_from_incoming
from oms.services.ports import TransientStorageError, UnitOfWork
from oms.services.reservations import ReservationResult, hold_picks, reserve_demands, take_stock
from oms.services.routing_lookahead import lookahead_for
from oms.services.routing_network import Shipper, carrier_services, priced_in
from oms.services.routing_network import network as gather_network
from oms.services.routing_records import (
    destination_record,
    fallback_package,
    package_record,
    packages_of,
    round_record,
)

__all__ = [
    "NO_GEOCODER",
    "Geocoder",
    "RouteRequest",
    "RoutedOrder",
    "plan_route",
    "route_and_reserve",
    "unit_weights",
]

MAX_ROUNDS = 20


class _GivenCoordinatesOnly:
    """Uses the coordinates an address carries and knows no other place (no data loaded)."""

    def geocode(self, address: Address) -> Geocode:
        if address.latitude is None or address.longitude is None:
            return Geocode(None, GeoPrecision.UNKNOWN)
        return Geocode(GeoPoint(address.latitude, address.longitude), GeoPrecision.GIVEN)


NO_GEOCODER: Geocoder = _GivenCoordinatesOnly()


def unit_weights(
    uow: UnitOfWork, *, tenant_id: UUID, products: Mapping[str, Product]
) -> dict[str, int]:
    """Grams per unit of each of ``products``; reads the components a bundle is weighed by."""
    parts = products
    missing = {sku for product in products.values() for sku in weighed_by(product)}
    if missing - products.keys():
        parts = {**products, **uow.products.by_skus(tenant_id, sorted(missing - products.keys()))}
    return {sku: unit_weight_grams(product, parts) for sku, product in products.items()}


@dataclass(frozen=True)
class RouteRequest:
    lines: Sequence[RoutingLine]
    destination: Address | None
    service_level: str
    exclude: frozenset[str] = frozenset()
    currency: str | None = None
    profile: RoutingProfile | None = None  # the current one is read when not given
    pickup_at: Location | None = None  # a store pickup: everything from there, nothing else
    carrier_rate_cards: Sequence[Mapping[str, Any]] | None = None  # read when not given
    # Where the destination is, when an earlier routing of this address placed it; the
    # geocoder places it when not given.
    destination_geocode: Geocode | None = None


@dataclass
class RoutedOrder:
    """What was reserved where, what is backordered, and the record kept with the order."""

    reserved: ReservationResult
    record: dict[str, Any] = field(default_factory=dict)
    promised_ship_by: date | None = None
    promised_deliver_by: date | None = None
    profile_version: int = 0


@dataclass
class _Taken:
    allocations: list[Allocation] = field(default_factory=list)
    placed: dict[int, int] = field(default_factory=dict)  # line -> units reserved
    packages: list[Any] = field(default_factory=list)  # the packages that were reserved
    raced: bool = False


def _take(
    uow: UnitOfWork,
    tenant_id: UUID,
    result: RoutingResult,
    lines: Mapping[int, RoutingLine],
    today: date,
    profile: RoutingProfile,
    at: datetime,
) -> _Taken:
    """Reserve each package's stock whole; a package a race or a full location refused is
    skipped (its capacity given back)."""
    taken_all = _Taken()
    packages = []
    for package in sorted(result.packages, key=lambda p: p.code):
        limit = profile.daily_capacity.get(package.code)
        # Only a location with a daily capacity is counted: the counter row is hot, and an
        # unlimited location has nothing to protect.
        if limit is None or uow.routing.take_capacity(tenant_id, package.location_id, today, limit):
            packages.append(package)
        else:
            taken_all.raced = True
    per_unit = {line_no: line.per_unit for line_no, line in lines.items()}
    groups = [
        [Pick(line_no, package.location_id, units) for line_no, units in package.lines]
        for package in packages
    ]
    reserved = take_stock(uow, tenant_id=tenant_id, groups=groups, per_unit=per_unit, at=at)
    held: dict[tuple[int, str, UUID], Allocation] = {}
    for package, picks, whole in zip(packages, groups, reserved, strict=True):
        if not whole:
            taken_all.raced = True
            if package.code in profile.daily_capacity:
                uow.routing.give_back_capacity(tenant_id, package.location_id, today)
            continue
        taken_all.packages.append(package)
        for pick in picks:
            taken_all.placed[pick.line_no] = taken_all.placed.get(pick.line_no, 0) + pick.units
        hold_picks(held, picks, per_unit, at, package.code)
    taken_all.allocations = list(held.values())
    return taken_all


def route_and_reserve(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    request: RouteRequest,
    geocoder: Geocoder,
    at: datetime,
) -> RoutedOrder:
    """Route ``request.lines`` and reserve the stock; unplaceable units are backordered, and
    promised by the purchase orders bringing them when there are any (docs/inbound.md)."""
    routed = _route_and_reserve(uow, tenant_id=tenant_id, request=request, geocoder=geocoder, at=at)
    if not routed.reserved.unfilled:
        return routed
    lines = {line.line_no: line for line in request.lines}
    unfilled: dict[str, int] = {}
    for line_no, units in routed.reserved.unfilled.items():
        for sku, per_unit in lines[line_no].per_unit.items():
            unfilled[sku] = unfilled.get(sku, 0) + units * per_unit
    profile = request.profile or uow.routing.current_profile(tenant_id)
    routed.promised_ship_by, routed.promised_deliver_by = promise_from_incoming(
        uow,
        tenant_id,
        unfilled=unfilled,
        promise_days=profile.promise_days(request.service_level),
        record=routed.record,
        promised_ship_by=routed.promised_ship_by,
        promised_deliver_by=routed.promised_deliver_by,
    )
    return routed


def _route_and_reserve(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    request: RouteRequest,
    geocoder: Geocoder,
    at: datetime,
) -> RoutedOrder:
    profile = request.profile or uow.routing.current_profile(tenant_id)
    today = at.date()
    days = profile.promise_days(request.service_level)
    promise = None if days is None else add_business_days(today, days)
    services = priced_in(carrier_services(uow, request.carrier_rate_cards), request.currency)
    # Only a rate card prices by distance: without one the destination is not placed (a
    # later routing with cards places it then; ``recorded_destination`` finds none).
    destination = _placed(request, geocoder) if services else _NOT_PLACED
    policy = RoutingPolicy(
        allow_split=profile.allow_split,
        max_locations=profile.max_locations,
        split_penalty=profile.split_penalty,
    )
    skus = sorted({sku for line in request.lines for sku in line.per_unit})
    if request.pickup_at is not None:
        return _store_pickup(uow, tenant_id, request, request.pickup_at, profile, promise, at)
    if not services or destination.point is None:
        why = (
            "no carrier rate cards are configured, so nothing can be priced"
            if not services
            else "the destination could not be placed on the map, so distances are unknown"
        )
        fallback = _Fallback(profile, promise, destination, services, why)
        return _priority_rule(uow, tenant_id, request, skus, fallback, at)
    remaining = {line.line_no: line for line in request.lines if line.quantity > 0}
    reserved = ReservationResult()
    rounds: list[dict[str, Any]] = []
    packages: list[dict[str, Any]] = []
    for _ in range(MAX_ROUNDS):
        if not remaining:
            break
        net = gather_network(uow, tenant_id, skus, profile, request.exclude, today)
        ship = Shipper(services, net.locations, destination, request.destination, promise, at)
        todo = list(remaining.values())
        lookahead = lookahead_for(
            uow,
            tenant_id=tenant_id,
            profile=profile,
            net=net,
            services=services,
            lines=todo,
            at=at,
        )
        result = route(todo, net.candidates, ship=ship, policy=policy, lookahead=lookahead)
        taken = _take(uow, tenant_id, result, remaining, today, profile, at)
        rounds.append(round_record(result, net.rejected))
        packages.extend(package_record(p, net.locations, at) for p in taken.packages)
        reserved.allocations.extend(taken.allocations)
        for line_no, units in taken.placed.items():
            reserved.allocated_units[line_no] = reserved.allocated_units.get(line_no, 0) + units
        remaining = {
            line_no: RoutingLine(
                line_no,
                line.quantity - taken.placed.get(line_no, 0),
                line.weight_grams,
                line.per_unit,
            )
            for line_no, line in remaining.items()
            if line.quantity - taken.placed.get(line_no, 0) > 0
        }
        raced = taken.raced
        if not raced:
            break
    else:
        raise TransientStorageError("stock kept changing while routing")
    reserved.unfilled = {n: line.quantity for n, line in remaining.items()}
    record = {
        "profile_version": profile.version,
        "service_level": request.service_level,
        "destination": destination_record(destination, request.destination),
        "promised_deliver_by": None if promise is None else promise.isoformat(),
        "carrier_rates": bool(services),
        "packages": packages,
        "backordered": {str(n): q for n, q in sorted(reserved.unfilled.items())},
        "rounds": rounds,
    }
    ship_by = min((date.fromisoformat(p["ship_on"]) for p in packages), default=None)
    deliver_by = max((date.fromisoformat(p["deliver_by"]) for p in packages), default=None)
    return RoutedOrder(
        reserved=reserved,
        record=record,
        promised_ship_by=ship_by,
        promised_deliver_by=deliver_by if deliver_by is not None else promise,
        profile_version=profile.version,
    )


@dataclass(frozen=True)
class _Fallback:
    """What the priority rule is given: the profile, the promise, the destination as placed,
    the carrier services (none, or none that can use distances) and why it is used."""

    profile: RoutingProfile
    promise: date | None
    destination: Geocode
    services: Sequence[CarrierService]
    why: str


def _priority_rule(
    uow: UnitOfWork,
    tenant_id: UUID,
    request: RouteRequest,
    skus: Sequence[str],
    fallback: _Fallback,
    at: datetime,
) -> RoutedOrder:
    """When nothing can be priced by distance (no rate card, or no place for the
    destination): one location with everything in priority order, else a split by priority
    (the foundation's rule); ``fallback.why`` says which. With rate cards, each location's
    parcel is priced as the cards price a destination without a place (by country or
    region); a parcel none of them prices is recorded ``unpriced`` (the order is held)."""
    profile = fallback.profile
    net = gather_network(uow, tenant_id, skus, profile, request.exclude, at.date())
    reserved = reserve_demands(
        uow,
        tenant_id=tenant_id,
        demands=[Demand(line.line_no, line.quantity, line.per_unit) for line in request.lines],
        locations=[c.location_id for c in net.candidates],
        at=at,
        snapshot=net.levels,
    )
    codes = {loc_id: loc.code for loc_id, loc in net.locations.items()}
    for allocation in reserved.allocations:
        allocation.location_code = codes.get(allocation.location_id)
    ship = (
        Shipper(
            fallback.services,
            net.locations,
            fallback.destination,
            request.destination,
            fallback.promise,
            at,
        )
        if fallback.services
        else None
    )
    packages = [
        fallback_package(package, ship, net.locations, at)
        for package in packages_of(reserved, request.lines)
    ]
    record = {
        "profile_version": profile.version,
        "service_level": request.service_level,
        "destination": (
            destination_record(fallback.destination, request.destination)
            if fallback.services
            else None
        ),
        "carrier_rates": bool(fallback.services),
        "packages": packages,
        "backordered": {str(n): q for n, q in sorted(reserved.unfilled.items())},
        "rounds": [
            {
                "method": "priority",
                "why": f"{fallback.why}: one location with everything, in priority order, "
                "else a split by priority",
                "rejected": [{"location": c, "why": w} for c, w in net.rejected],
            }
        ],
        "promised_deliver_by": None if fallback.promise is None else fallback.promise.isoformat(),
    }
    priced = [date.fromisoformat(p["deliver_by"]) for p in packages if "deliver_by" in p]
    return RoutedOrder(
        reserved=reserved,
        record=record,
        promised_ship_by=min(
            (date.fromisoformat(p["ship_on"]) for p in packages if "ship_on" in p), default=None
        ),
        promised_deliver_by=max(priced, default=fallback.promise),
        profile_version=profile.version,
    )


def _store_pickup(
    uow: UnitOfWork,
    tenant_id: UUID,
    request: RouteRequest,
    store: Location,
    profile: RoutingProfile,
    promise: date | None,
    at: datetime,
) -> RoutedOrder:
    """The customer collects in ``store``: its stock only; what it lacks is backordered."""
    reserved = reserve_demands(
        uow,
        tenant_id=tenant_id,
        demands=[Demand(line.line_no, line.quantity, line.per_unit) for line in request.lines],
        locations=[store.id],
        at=at,
    )
    for allocation in reserved.allocations:
        allocation.location_code = store.code
    record = {
        "profile_version": profile.version,
        "service_level": request.service_level,
        "pickup_location": store.code,
        "packages": [],
        "backordered": {str(n): q for n, q in sorted(reserved.unfilled.items())},
        "rounds": [
            {
                "method": "pickup",
                "why": f"the customer collects the order in {store.code}: only its stock counts",
                "rejected": [],
            }
        ],
        "promised_deliver_by": None if promise is None else promise.isoformat(),
    }
    return RoutedOrder(
        reserved=reserved,
        record=record,
        promised_ship_by=at.date(),
        promised_deliver_by=promise,
        profile_version=profile.version,
    )


def plan_route(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    request: RouteRequest,
    geocoder: Geocoder,
    profile: RoutingProfile,
    at: datetime,
) -> RoutingResult:
    """Route without reserving anything, under ``profile`` (what-if simulation)."""
    days = profile.promise_days(request.service_level)
    promise = None if days is None else add_business_days(at.date(), days)
    destination = _placed(request, geocoder)
    skus = sorted({sku for line in request.lines for sku in line.per_unit})
    net = gather_network(uow, tenant_id, skus, profile, request.exclude, at.date())
    services = priced_in(carrier_services(uow), request.currency)
    ship = Shipper(
        services,
        net.locations,
        destination,
        request.destination,
        promise,
        at,
    )
    policy = RoutingPolicy(
        allow_split=profile.allow_split,
        max_locations=profile.max_locations,
        split_penalty=profile.split_penalty,
    )
    lookahead = lookahead_for(
        uow,
        tenant_id=tenant_id,
        profile=profile,
        net=net,
        services=services,
        lines=request.lines,
        at=at,
    )
    return route(list(request.lines), net.candidates, ship=ship, policy=policy, lookahead=lookahead)


_NOT_PLACED = Geocode(None, GeoPrecision.UNKNOWN)


def _placed(request: RouteRequest, geocoder: Geocoder) -> Geocode:
    """Where the destination is: as given with the request, else as the geocoder places it."""
    if request.destination_geocode is not None:
        return request.destination_geocode
    if request.destination is None:
        return _NOT_PLACED
    return geocoder.geocode(request.destination)
