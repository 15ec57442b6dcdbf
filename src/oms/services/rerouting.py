"""Routing again: on request (a location cannot fulfil), and backorders when stock arrives."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from oms.domain.catalogue import ProductKind, location_named
from oms.domain.errors import IllegalTransition
from oms.domain.fulfilment import FulfillmentOrderStatus
from oms.domain.holds import HoldReason
from oms.domain.lifecycle import OrderAction, ensure_allowed
from oms.domain.orders import Actor, Order
from oms.services.carts import expire_due_in
from oms.services.common import retry_transient, utcnow
from oms.services.payments import GatewayProvider, capture_shipped_value
from oms.services.persistence import (
    SYSTEM,
    locked_order,
    new_hold,
    release_open_allocations,
    save_order_changes,
    settle_order,
)
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.route_requests import order_route_request
from oms.services.routing import NO_GEOCODER, Geocoder, route_and_reserve, unit_weights

__all__ = [
    "allocate_backorders",
    "backorders_wait_for",
    "refresh_routing_holds",
    "reroute_order",
    "route_backorders_in_stock",
    "route_units",
]

log = logging.getLogger("oms.routing")

BACKORDER_BATCH = 100
# A whole-order reroute would undo work on the floor; these need a reject or a move.
_WORK_STARTED = frozenset(
    {
        FulfillmentOrderStatus.IN_PROGRESS,
        FulfillmentOrderStatus.PACKED,
        FulfillmentOrderStatus.READY_FOR_PICKUP,
        FulfillmentOrderStatus.PARTIALLY_SHIPPED,
    }
)


def _location_codes(uow: UnitOfWork, tenant_id: UUID, refs: Collection[str]) -> frozenset[str]:
    """The codes of the locations ``refs`` name (ids or codes), as routing rules name them;
    a ref that names no location the tenant may use is kept as given (it matches none)."""
    visible = uow.locations.visible_to(tenant_id)
    codes = set()
    for ref in refs:
        found = location_named(visible, ref, tenant_id)
        codes.add(ref if found is None else found.code)
    return frozenset(codes)


def route_units(
    uow: UnitOfWork,
    order: Order,
    units: dict[int, int],
    geocoder: Geocoder,
    exclude: Collection[str],
    at: datetime,
) -> dict[int, int]:
    """Route ``units`` per line, add the allocations to the order; units placed per line."""
    products = uow.products.by_skus(order.tenant_id, [line.sku for line in order.lines])
    grams = unit_weights(uow, tenant_id=order.tenant_id, products=products)
    store = (
        None if order.pickup_location_id is None else uow.locations.get(order.pickup_location_id)
    )
    if store is not None and store.code in exclude and order.shipping_address is None:
        # The pickup store refused it and there is nowhere to ship to: it waits (backordered)
        # for the merchant to agree another store or an address with the customer.
        return {}
    routed = route_and_reserve(
        uow,
        tenant_id=order.tenant_id,
        request=order_route_request(
            order,
            units,
            products,
            grams=grams,
            exclude=frozenset(exclude),
            # A pickup store that refused the order is not asked again: it ships instead.
            pickup_at=store if store is not None and store.code not in exclude else None,
        ),
        geocoder=geocoder,
        at=at,
    )
    order.allocations.extend(routed.reserved.allocations)
    order.routing = routed.record
    order.routing_profile_version = routed.profile_version
    order.promised_ship_by = routed.promised_ship_by
    order.promised_deliver_by = routed.promised_deliver_by
    return routed.reserved.allocated_units


_RESOLVED = {
    HoldReason.BACKORDERED: "stock allocated",
    HoldReason.NO_CARRIER_SERVICE: "every parcel has a carrier service",
}


def refresh_routing_holds(order: Order, uow: UnitOfWork, at: datetime) -> None:
    """Hold the order for what its routing left undone (units without stock, parcels no
    carrier service prices), and release those holds once done."""
    policies = None
    for reason, note in order.routing_holds().items():
        if note is None:
            order.release_holds_of(reason, actor=SYSTEM, at=at, note=_RESOLVED[reason])
            continue
        policies = policies or uow.tenants.policies(order.tenant_id)
        order.place_hold(
            new_hold(reason, policies=policies, actor=SYSTEM, at=at, note=note),
            actor=SYSTEM,
            at=at,
        )


def _settle_and_capture(
    uow: UnitOfWork, order: Order, gateways: GatewayProvider | None, at: datetime
) -> None:
    """``settle_order``; an order it releases has its digital lines delivered, and their
    value is captured here when the gateways are at hand (else with the next shipment)."""
    policies = uow.tenants.policies(order.tenant_id)
    settle_order(order, policies=policies, at=at)
    if gateways is not None:
        capture_shipped_value(order, gateways=gateways, policies=policies, actor=SYSTEM, at=at)


def reroute_order(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    exclude: Collection[str],
    reason: str | None,
    actor: Actor,
    geocoder: Geocoder | None = None,
    gateways: GatewayProvider | None = None,
    at: datetime | None = None,
) -> Order:
    """Release what is not shipped and route it again, never to ``exclude`` (locations by id
    or code)."""
    when = at or utcnow()

    def attempt() -> Order:
        with uow_factory() as uow:
            order = locked_order(uow, tenant_id, order_id)
            excluded = _location_codes(uow, tenant_id, exclude)
            ensure_allowed(OrderAction.REROUTE, order.status)
            busy = [
                fo
                for fo in uow.fulfilment.for_order(tenant_id, order_id)
                if fo.status in _WORK_STARTED
            ]
            if busy:
                raise IllegalTransition(
                    f"{busy[0].location_code} has started on this order: reject or move its "
                    "fulfilment order instead",
                    fulfillment_order_id=str(busy[0].id),
                )
            expire_due_in(uow, tenant_id, when)
            before = sorted(
                {a.location_code or str(a.location_id) for a in order.allocations if a.open}
            )
            with order.change("order.rerouted", actor=actor, at=when, reason=reason) as data:
                release_open_allocations(uow, order, when)
                wanted = {
                    line.line_no: line.allocated + line.backordered
                    for line in order.lines
                    if line.kind is not ProductKind.DIGITAL
                }
                placed = route_units(uow, order, wanted, geocoder or NO_GEOCODER, excluded, when)
                order.assign_units(placed)
                data.update(
                    excluded=sorted(excluded),
                    from_locations=before,
                    to_locations=sorted(
                        {a.location_code or "" for a in order.allocations if a.open}
                    ),
                    backordered={
                        str(line.line_no): line.backordered
                        for line in order.lines
                        if line.backordered
                    },
                )
            refresh_routing_holds(order, uow, when)
            _settle_and_capture(uow, order, gateways, when)
            save_order_changes(uow, order, at=when)
            uow.commit()
            return order

    return retry_transient(attempt)


def backorders_wait_for(uow: UnitOfWork, tenant_id: UUID, skus: Collection[str]) -> bool:
    """Whether an open order waits for any of ``skus`` (bundles included): asked in the
    transaction that brings them, so that ``allocate_backorders`` (transactions of its
    own) runs after it only when one does."""
    return bool(skus) and bool(uow.orders.waiting_for_stock(tenant_id, skus, limit=1))


def route_backorders_in_stock(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    at: datetime,
    geocoder: Geocoder | None = None,
    gateways: GatewayProvider | None = None,
) -> int:
    """Route the backorders whose stock is on a shelf now, though no arrival told them (a
    cancellation's release, an expired cart, an order placed as the stock arrived that the
    arrival's routing did not see); orders served. A timer: ``oms timers`` runs it."""
    with uow_factory(readonly=True) as uow:
        skus = uow.orders.backordered_skus(tenant_id, limit=BACKORDER_BATCH)
        if not skus:
            return 0
        products = uow.products.by_skus(tenant_id, skus)
        drawn: set[str] = set()
        for sku in skus:  # a bundle draws on its components' stock
            parts = products[sku].components if sku in products else ()
            drawn |= {c.sku for c in parts} if parts else {sku}
        free = sorted({lv.sku for lv in uow.inventory.levels(tenant_id, drawn) if lv.available})
    if not free:
        return 0
    return allocate_backorders(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        skus=free,
        geocoder=geocoder,
        gateways=gateways,
        at=at,
    )


def allocate_backorders(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    skus: Collection[str],
    geocoder: Geocoder | None = None,
    gateways: GatewayProvider | None = None,
    at: datetime | None = None,
) -> int:
    """Route waiting backorders that draw on ``skus``, earliest promise first; orders served
    (an order this releases has the value of its digital lines captured, given ``gateways``)."""
    when = at or utcnow()
    with uow_factory(readonly=True) as uow:
        waiting = uow.orders.waiting_for_stock(tenant_id, skus, limit=BACKORDER_BATCH)
    served = 0
    for order_id in waiting:

        def attempt(order_id: UUID = order_id) -> bool:
            with uow_factory() as uow:
                order = uow.orders.get(tenant_id, order_id, for_update=True)
                if order is None or not any(line.backordered for line in order.lines):
                    return False
                wanted = {line.line_no: line.backordered for line in order.lines}
                with order.change("order.backorder_allocated", actor=SYSTEM, at=when) as data:
                    placed = route_units(uow, order, wanted, geocoder or NO_GEOCODER, (), when)
                    for line in order.lines:
                        units = placed.get(line.line_no, 0)
                        line.allocated += units
                        line.backordered -= units
                    data["allocated"] = {str(n): u for n, u in sorted(placed.items()) if u}
                if not any(placed.values()):
                    return False
                refresh_routing_holds(order, uow, when)
                _settle_and_capture(uow, order, gateways, when)
                save_order_changes(uow, order, at=when)
                uow.commit()
                return True

        try:
            served += retry_transient(attempt)
        except Exception:  # one order's trouble must not stop the others; it is logged
            log.exception("could not route the backorder of order %s", order_id)
    return served
