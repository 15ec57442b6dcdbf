"""What routing an order works with, built one way for its intake and every later routing.

An order is routed at intake, and again after an edit, a reroute, a rejected fulfilment
order or when its backorder's stock arrives. Each time the router gets the same inputs:
the order's lines (weights and the stock a unit draws), its address placed as its last
routing placed it while the address is the same (else by the geocoder), its service level
and currency, the tenant's current routing profile and the carrier rate cards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from oms.domain.catalogue import Location, Product, ProductKind, unit_demand
from oms.domain.orders import Order
from oms.domain.routing import RoutingLine
from oms.domain.routing_profile import RoutingProfile
from oms.services.routing import RouteRequest
from oms.services.routing_records import recorded_destination

__all__ = ["order_route_request"]


def order_route_request(
    order: Order,
    units: Mapping[int, int],
    products: Mapping[str, Product],
    *,
    grams: Mapping[str, int],
    exclude: frozenset[str] = frozenset(),
    profile: RoutingProfile | None = None,
    carrier_rate_cards: Sequence[Mapping[str, Any]] | None = None,
    pickup_at: Location | None = None,
) -> RouteRequest:
    """Route ``units`` per line of ``order`` (physical lines only), each unit weighing
    ``grams`` by SKU (``routing.unit_weights``: a bundle weighs its components); ``profile``
    and ``carrier_rate_cards`` are read in the transaction when not given."""
    lines = [
        RoutingLine(
            line.line_no,
            units[line.line_no],
            grams[line.sku],
            unit_demand(products[line.sku]),
        )
        for line in order.lines
        if units.get(line.line_no, 0) > 0 and line.kind is not ProductKind.DIGITAL
    ]
    return RouteRequest(
        lines=lines,
        destination=order.shipping_address,
        service_level=order.service_level,
        exclude=exclude,
        currency=order.currency,
        profile=profile,
        pickup_at=pickup_at,
        carrier_rate_cards=carrier_rate_cards,
        # Placed as before while the address is the same; else the router's geocoder places it.
        destination_geocode=recorded_destination(order.routing, order.shipping_address),
    )
