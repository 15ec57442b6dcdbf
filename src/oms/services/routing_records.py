"""The routing record kept with an order: where its destination was placed, each package
with its carrier service, and each routing round with its explanation.

``destination_record`` keeps where the destination was placed, with a digest of the
address, and ``recorded_destination`` gives it back while the address is the same: every
later routing of the order uses the geocode its intake used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from oms.domain.addresses import Address
from oms.domain.catalogue import Location
from oms.domain.geo import Geocode, GeoPoint, GeoPrecision
from oms.domain.routing import Package, RoutingLine, RoutingResult
from oms.domain.shipping import ship_date
from oms.services.reservations import ReservationResult
from oms.services.routing_network import Shipper, cutoff_of

__all__ = [
    "destination_record",
    "fallback_package",
    "package_record",
    "packages_of",
    "recorded_destination",
    "round_record",
]


def _address_key(address: Address) -> str:
    """A short digest of every field of ``address``: another address, another key."""
    text = orjson.dumps(address)  # every field, in the dataclass's order
    return hashlib.sha256(text).hexdigest()[:16]


def destination_record(destination: Geocode, address: Address | None) -> dict[str, Any]:
    """Where ``address`` was placed, as the order's routing record keeps it."""
    point = destination.point
    return {
        "latitude": None if point is None else point.latitude,
        "longitude": None if point is None else point.longitude,
        "precision": destination.precision.value,
        "address": None if address is None else _address_key(address),
    }


def recorded_destination(
    routing: Mapping[str, Any] | None, address: Address | None
) -> Geocode | None:
    """Where the order's last routing placed ``address``, if it placed this very address."""
    recorded = (routing or {}).get("destination")
    if address is None or not isinstance(recorded, Mapping):
        return None
    if recorded.get("address") != _address_key(address):
        return None
    latitude, longitude = recorded.get("latitude"), recorded.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        return None
    return Geocode(GeoPoint(float(latitude), float(longitude)), GeoPrecision(recorded["precision"]))


def package_record(
    package: Package, locations: Mapping[UUID, Location], at: datetime
) -> dict[str, Any]:
    """One package the router planned and reserved, with its carrier service."""
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


def round_record(result: RoutingResult, rejected: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """One routing round: its cost, the plans considered and why the winner won."""
    cost = result.cost
    explanation = result.explanation
    record: dict[str, Any] = {
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
    # The look-ahead's share, only when it had one (records without it stay as they were).
    if cost.depletion:
        record["cost"]["depletion"] = str(cost.depletion)
    if explanation.lookahead:
        record["lookahead"] = explanation.lookahead
    return record


def packages_of(
    reserved: ReservationResult, lines: Sequence[RoutingLine]
) -> list[tuple[UUID, str, list[tuple[int, int]], int]]:
    """(location, code, (line, units) pairs, parcel grams) of each location's share."""
    by_line = {line.line_no: line for line in lines}
    units: dict[tuple[UUID, str], dict[int, int]] = {}
    for a in reserved.allocations:
        line = by_line[a.line_no]
        share = units.setdefault((a.location_id, a.location_code or ""), {})
        share[a.line_no] = max(share.get(a.line_no, 0), a.quantity // line.per_unit[a.sku])
    return [
        (
            location_id,
            code,
            sorted(share.items()),
            sum(n * by_line[line_no].weight_grams for line_no, n in share.items()),
        )
        for (location_id, code), share in sorted(units.items(), key=lambda item: item[0][1])
    ]


def fallback_package(
    package: tuple[UUID, str, list[tuple[int, int]], int],
    ship: Shipper | None,
    locations: Mapping[UUID, Location],
    at: datetime,
) -> dict[str, Any]:
    """One location's share under the priority rule, priced by ``ship`` where it can be
    (``unpriced`` when rate cards exist and none prices it)."""
    location_id, code, lines, grams = package
    found: dict[str, Any] = {
        "location": code,
        "lines": [[line_no, units] for line_no, units in lines],
        "weight_grams": grams,
    }
    option = None if ship is None else ship(location_id, grams)
    if option is not None:
        found.update(
            carrier=option.carrier,
            service=option.service,
            shipping=str(option.price),
            ship_on=ship_date(at, cutoff_of(locations[location_id])).isoformat(),
            deliver_by=option.deliver_by.isoformat(),
            late=option.late,
        )
    elif ship is not None:
        found["unpriced"] = True  # no carrier service prices this parcel
    return found
