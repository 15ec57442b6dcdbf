"""Where a new order's stock comes from: its cart reservation's hold first, then routing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from oms.domain.allocation import Demand
from oms.domain.carts import CartStatus
from oms.domain.catalogue import Location, Product, ProductKind, unit_demand
from oms.domain.errors import FieldError, InsufficientStock, InvalidRequest, Shortage
from oms.domain.orders import Order
from oms.domain.routing_profile import RoutingProfile
from oms.services.ports import UnitOfWork
from oms.services.reservations import ReservationResult, merge_results, take_held_stock
from oms.services.route_requests import order_route_request
from oms.services.routing import Geocoder, RoutedOrder, route_and_reserve, unit_weights

__all__ = ["held_by_cart", "reserve_order_stock"]


def held_by_cart(
    uow: UnitOfWork, tenant_id: UUID, cart_id: UUID | None, order_id: UUID, at: datetime
) -> tuple[dict[tuple[str, UUID], int], dict[str, str] | None]:
    """The stock a cart reservation holds for this order (now consumed), and a note on it."""
    if cart_id is None:
        return {}, None
    cart = uow.carts.get(tenant_id, cart_id, for_update=True)
    if cart is None:
        raise InvalidRequest(
            "Unknown reservation", [FieldError("#/reservation_id", f"no reservation {cart_id}")]
        )
    note = {"id": str(cart_id), "status": cart.status_at(at).value}
    if not cart.holds_stock(at):
        return {}, note  # it lapsed: the order takes stock like any other
    held: dict[tuple[str, UUID], int] = defaultdict(int)
    for line in cart.lines:
        held[(line.sku, line.location_id)] += line.quantity
    uow.carts.close(tenant_id, cart.id, CartStatus.CONSUMED, at, order_id=order_id)
    note["status"] = CartStatus.CONSUMED.value
    return held, note


def reserve_order_stock(
    uow: UnitOfWork,
    order: Order,
    products: dict[str, Product],
    held: dict[tuple[str, UUID], int],
    geocoder: Geocoder,
    at: datetime,
    profile: RoutingProfile,
    carrier_rate_cards: Sequence[Mapping[str, Any]] | None = None,
    store: Location | None = None,
) -> tuple[ReservationResult, RoutedOrder]:
    """Reserve the order's stock: a cart reservation's hold first, then routed (DOM)."""
    demands = [
        Demand(line.line_no, line.quantity, unit_demand(products[line.sku]))
        for line in order.lines
        if line.kind is not ProductKind.DIGITAL
    ]
    from_cart, rest = take_held_stock(
        uow, tenant_id=order.tenant_id, demands=demands, held=held, at=at
    )
    if from_cart.allocations:
        code_of = {loc.id: loc.code for loc in uow.locations.visible_to(order.tenant_id)}
        for allocation in from_cart.allocations:
            allocation.location_code = code_of.get(allocation.location_id)
    grams = unit_weights(uow, tenant_id=order.tenant_id, products=products)
    routed = route_and_reserve(
        uow,
        tenant_id=order.tenant_id,
        request=order_route_request(
            order,
            {d.line_no: d.quantity for d in rest},
            products,
            grams=grams,
            profile=profile,
            carrier_rate_cards=carrier_rate_cards,
            pickup_at=store,
        ),
        geocoder=geocoder,
        at=at,
    )
    reserved = merge_results(from_cart, routed.reserved)
    if reserved.unfilled and not order.allow_backorder:
        raise InsufficientStock(
            [
                Shortage(
                    sku=_sku(order, n),
                    requested=order.line(n).quantity,
                    available=reserved.allocated_units.get(n, 0),
                )
                for n in sorted(reserved.unfilled)
            ]
        )
    order.assign_units(reserved.allocated_units)
    return reserved, routed


def _sku(order: Order, line_no: int) -> str:
    return order.line(line_no).sku
