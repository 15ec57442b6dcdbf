"""Distributed order management: route an order's units to the best location(s).

For one order: geocode the destination (offline), gather candidate locations (active, able
to ship, not excluded by the profile, stores only with ship-from-store, stock above the
routing safety stock, capacity left today), price each possible package with the carrier
rate cards (cheapest service that meets the promise), let ``oms.domain.routing.route`` pick
the cheapest plan, then take the stock with the usual conditional updates. A lost race
re-plans what is left on fresh figures. Without any carrier service configured there is
nothing to price: every package costs its handling, and candidates are offered in priority
order so the cheapest-equal plan is the priority rule's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.allocation import Demand
from oms.domain.catalogue import Location, Product, unit_weight_grams, weighed_by
from oms.domain.geo import Geocode, GeoPoint, GeoPrecision
from oms.domain.ids import new_id
from oms.domain.orders import Allocation
from oms.domain.routing import (
    RoutingLine,
    RoutingPolicy,
    RoutingResult,
    route,
)
from oms.domain.routing_profile import RoutingProfile
from oms.domain.shipping import add_business_days, ship_date
from oms.services.ports import TransientStorageError, UnitOfWork
from oms.services.reservations import ReservationResult, reserve_demands
from oms.services.routing_network import (
    Shipper,
    carrier_services,
    cutoff_of,
    priced_in,
)
from oms.services.routing_network import network as gather_network

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


class Geocoder(Protocol):
    """Where an address is (``oms.adapters.geocoding``); never raises, never goes online."""

    def geocode(self, address: Address) -> Geocode: ...


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
    parts = dict(products)
    missing = {sku for product in products.values() for sku in weighed_by(product)} - set(parts)
    if missing:
        parts.update(uow.products.by_skus(tenant_id, sorted(missing)))
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
    """Reserve each package's stock; a package a race or a full location refused is skipped."""
    taken_all = _Taken()
    for package in sorted(result.packages, key=lambda p: p.code):
        taken: list[tuple[str, int]] = []
        wanted = sorted(
            {
                (sku, per * units)
                for line_no, units in package.lines
                for sku, per in lines[line_no].per_unit.items()
            }
        )
        merged: dict[str, int] = {}
        for sku, units in wanted:
            merged[sku] = merged.get(sku, 0) + units
        limit = profile.daily_capacity.get(package.code)
        # Only a location with a daily capacity is counted: the counter row is hot, and an
        # unlimited location has nothing to protect.
        ok = limit is None or uow.routing.take_capacity(
            tenant_id, package.location_id, today, limit
        )
        for sku in sorted(merged) if ok else []:
            if not uow.inventory.try_reserve(tenant_id, sku, package.location_id, merged[sku], at):
                ok = False
                break
            taken.append((sku, merged[sku]))
        if not ok:
            taken_all.raced = True
            for sku, units in taken:
                uow.inventory.release(tenant_id, sku, package.location_id, units, at)
            continue
        taken_all.packages.append(package)
        for line_no, units in package.lines:
            taken_all.placed[line_no] = taken_all.placed.get(line_no, 0) + units
            for sku, per in sorted(lines[line_no].per_unit.items()):
                taken_all.allocations.append(
                    Allocation(
                        id=new_id(),
                        line_no=line_no,
                        sku=sku,
                        location_id=package.location_id,
                        quantity=per * units,
                        created_at=at,
                        location_code=package.code,
                    )
                )
    return taken_all


def route_and_reserve(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    request: RouteRequest,
    geocoder: Geocoder,
    at: datetime,
) -> RoutedOrder:
    """Route ``request.lines`` and reserve the stock; unplaceable units are backordered."""
    profile = request.profile or uow.routing.current_profile(tenant_id)
    today = at.date()
    days = profile.promise_days(request.service_level)
    promise = None if days is None else add_business_days(today, days)
    destination = (
        geocoder.geocode(request.destination)
        if request.destination is not None
        else Geocode(None, GeoPrecision.UNKNOWN)
    )
    services = priced_in(carrier_services(uow, request.carrier_rate_cards), request.currency)
    policy = RoutingPolicy(
        allow_split=profile.allow_split,
        max_locations=profile.max_locations,
        split_penalty=profile.split_penalty,
    )
    skus = sorted({sku for line in request.lines for sku in line.per_unit})
    if request.pickup_at is not None:
        return _store_pickup(uow, tenant_id, request, request.pickup_at, profile, promise, at)
    if not services:
        return _priority_rule(
            uow,
            tenant_id,
            request,
            profile,
            skus,
            promise,
            at,
            why="no carrier rate cards are configured, so nothing can be priced",
        )
    if destination.point is None:
        return _priority_rule(
            uow,
            tenant_id,
            request,
            profile,
            skus,
            promise,
            at,
            why="the destination could not be placed on the map, so distances are unknown",
        )
    remaining = {line.line_no: line for line in request.lines if line.quantity > 0}
    reserved = ReservationResult()
    rounds: list[dict[str, Any]] = []
    packages: list[dict[str, Any]] = []
    for _ in range(MAX_ROUNDS):
        if not remaining:
            break
        net = gather_network(uow, tenant_id, skus, profile, request.exclude, today)
        ship = Shipper(services, net.locations, destination, request.destination, promise, at)
        result = route(list(remaining.values()), net.candidates, ship=ship, policy=policy)
        taken = _take(uow, tenant_id, result, remaining, today, profile, at)
        rounds.append(_round_record(result, net.rejected))
        packages.extend(_package_record(p, net.locations, at) for p in taken.packages)
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
        "destination": {
            "latitude": None if destination.point is None else destination.point.latitude,
            "longitude": None if destination.point is None else destination.point.longitude,
            "precision": destination.precision.value,
        },
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


def _package_record(
    package: Any, locations: Mapping[UUID, Location], at: datetime
) -> dict[str, Any]:
    option = package.option
    ship_on = ship_date(at, cutoff_of(locations[package.location_id]))
    return {
        "location": package.code,
        "lines": [[line_no, units] for line_no, units in package.lines],
        "weight_grams": package.weight_grams,
        "carrier": option.carrier,
        "service": option.service,
        "shipping": str(option.price),
        "handling": str(package.handling),
        "ship_on": ship_on.isoformat(),
        "deliver_by": option.deliver_by.isoformat(),
        "late": option.late,
    }


def _round_record(result: RoutingResult, rejected: Sequence[tuple[str, str]]) -> dict[str, Any]:
    cost = result.cost
    explanation = result.explanation
    return {
        "method": result.method,
        "cost": {
            "shipping": str(cost.shipping),
            "handling": str(cost.handling),
            "split_penalty": str(cost.split_penalty),
            "late_penalty": str(cost.late_penalty),
            "total": str(cost.total),
        },
        "why": explanation.why,
        "considered": [
            {
                "locations": list(plan.locations),
                "total": str(plan.cost.total),
                "shipping": str(plan.cost.shipping),
                "handling": str(plan.cost.handling),
                "split_penalty": str(plan.cost.split_penalty),
                "feasible": plan.feasible,
                "note": plan.note,
            }
            for plan in explanation.considered
        ],
        "rejected": [
            {"location": code, "why": why} for code, why in [*rejected, *explanation.rejected]
        ],
    }


def _priority_rule(
    uow: UnitOfWork,
    tenant_id: UUID,
    request: RouteRequest,
    profile: RoutingProfile,
    skus: Sequence[str],
    promise: date | None,
    at: datetime,
    *,
    why: str,
) -> RoutedOrder:
    """When nothing can be priced (no rate card, or no place for the destination): one
    location with everything in priority order, else a split by priority (the foundation's
    rule); ``why`` says which."""
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
    record = {
        "profile_version": profile.version,
        "service_level": request.service_level,
        "packages": [
            {
                "location": code,
                "lines": sorted(
                    {(a.line_no, 0) for a in reserved.allocations if a.location_code == code}
                ),
            }
            for code in sorted({a.location_code or "" for a in reserved.allocations})
        ],
        "backordered": {str(n): q for n, q in sorted(reserved.unfilled.items())},
        "rounds": [
            {
                "method": "priority",
                "why": f"{why}: one location with everything, in priority order, else a "
                "split by priority",
                "rejected": [{"location": c, "why": w} for c, w in net.rejected],
            }
        ],
        "promised_deliver_by": None if promise is None else promise.isoformat(),
    }
    return RoutedOrder(
        reserved=reserved,
        record=record,
        promised_deliver_by=promise,
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
    destination = (
        geocoder.geocode(request.destination)
        if request.destination is not None
        else Geocode(None, GeoPrecision.UNKNOWN)
    )
    skus = sorted({sku for line in request.lines for sku in line.per_unit})
    net = gather_network(uow, tenant_id, skus, profile, request.exclude, at.date())
    ship = Shipper(
        priced_in(carrier_services(uow), request.currency),
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
    return route(list(request.lines), net.candidates, ship=ship, policy=policy)
