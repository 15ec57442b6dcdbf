"""Fulfilment orders: made from a released order's allocations, kept in step with them.

``sync_fulfilment`` runs whenever a released order is saved (``save_order_changes`` and
intake call it): allocations no fulfilment order covers yet become new fulfilment orders
(one per location), units an allocation gave back (rerouted, cancelled) are cancelled on
their fulfilment-order line, and an open hold on the order (not a flag such as
``refund_due``) holds its fulfilment orders.
Digital lines need no location: ``deliver_digital`` delivers them when the order is released.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from oms.domain.catalogue import ProductKind, location_named, unit_demand
from oms.domain.errors import FieldError, InvalidRequest, NotFound
from oms.domain.fulfilment import (
    FulfillmentKind,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentOrderStatus,
    line_units,
)
from oms.domain.ids import new_id
from oms.domain.orders import SYSTEM, Allocation, Order
from oms.domain.packing import Package
from oms.domain.tenancy import Principal
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "apply_progress",
    "deliver_digital",
    "describe",
    "fulfillment_orders_of_order",
    "get_fulfillment_order",
    "list_fulfillment_orders",
    "packages_of",
    "sync_fulfilment",
]


def describe(fo: FulfillmentOrder) -> dict[str, Any]:
    """What a timeline event says about a fulfilment order."""
    return {
        "fulfillment_order_id": str(fo.id),
        "location": fo.location_code,
        "kind": fo.kind.value,
        "status": fo.status.value,
    }


def _planned(order: Order, code: str | None) -> tuple[str | None, str | None, date | None]:
    """The carrier service and ship date the router planned for the location, if any."""
    for package in (order.routing or {}).get("packages", []):
        if package.get("location") == code and package.get("carrier"):
            ship_on = package.get("ship_on")
            return (
                package["carrier"],
                package.get("service"),
                date.fromisoformat(ship_on) if ship_on else order.promised_ship_by,
            )
    return None, None, order.promised_ship_by


def _new_orders(
    order: Order, fresh: Sequence[Allocation], at: datetime, priority: int
) -> list[FulfillmentOrder]:
    by_location: dict[UUID, list[Allocation]] = defaultdict(list)
    for allocation in fresh:
        by_location[allocation.location_id].append(allocation)
    made: list[FulfillmentOrder] = []
    for location_id, allocations in sorted(by_location.items(), key=lambda item: str(item[0])):
        code = allocations[0].location_code
        carrier, service, ship_by = _planned(order, code)
        pickup = order.pickup_location_id == location_id
        made.append(
            FulfillmentOrder(
                id=new_id(),
                tenant_id=order.tenant_id,
                order_id=order.id,
                order_number=order.number,
                location_id=location_id,
                location_code=code,
                kind=FulfillmentKind.PICKUP if pickup else FulfillmentKind.SHIP,
                lines=[
                    FulfillmentLine(
                        seq=n,
                        line_no=a.line_no,
                        sku=a.sku,
                        quantity=a.open,
                        allocation_id=a.id,
                    )
                    for n, a in enumerate(
                        sorted(allocations, key=lambda a: (a.line_no, a.sku)), start=1
                    )
                ],
                created_at=at,
                updated_at=at,
                carrier=None if pickup else carrier,
                service=None if pickup else service,
                promised_ship_by=ship_by,
                priority=priority,
            )
        )
    return made


# Changes of a fulfilment order that the order's timeline records when a sync causes them.
_NOTEWORTHY = {
    FulfillmentOrderStatus.CANCELLED: "fulfillment_order.cancelled",
    FulfillmentOrderStatus.ON_HOLD: "fulfillment_order.on_hold",
}


def deliver_digital(order: Order, at: datetime) -> None:
    """Digital lines leave at release: shipped and delivered at once, no stock involved;
    the download links are signed when asked for (``GET /v1/orders/{id}/downloads``)."""
    for line in order.lines:
        if line.kind is ProductKind.DIGITAL and line.allocated > 0:
            units = line.allocated
            with order.change("digital.delivered", actor=SYSTEM, at=at) as data:
                order.record_progress(
                    line.line_no, shipped=line.shipped + units, delivered=line.delivered + units
                )
                data.update(line_no=line.line_no, sku=line.sku, quantity=units)


def _sync_inputs(order: Order) -> tuple[object, ...]:
    """All ``sync_fulfilment`` reads of the order to decide what to change: whether it was
    released, each allocation's open units, and whether a hold stops fulfilment."""
    return (
        order.released_at is not None,
        tuple((a.id, a.open) for a in order.allocations),
        bool(order.blocking_holds),
    )


def mark_fulfilment_in_step(order: Order) -> None:
    """Note that the order's stored fulfilment orders are in step with the order as it is
    now: called on an order just read under its lock (every transaction that changed its
    allocations or holds synced them before it committed, ``save_order_changes``)."""
    order.fulfilment_in_step = _sync_inputs(order)


def sync_fulfilment(
    uow: UnitOfWork,
    order: Order,
    at: datetime,
    known: list[FulfillmentOrder] | None = None,
) -> list[FulfillmentOrder]:
    """Bring the order's fulfilment orders in step with its allocations and holds, record
    what changed on the order's timeline, and save them; returns them all.

    Without ``known`` (the caller neither read nor changed them), an order whose release,
    allocations and blocking holds are as they were when its fulfilment orders were last
    in step (``mark_fulfilment_in_step``) needs nothing: a sync decides from those alone
    and changes nothing on a second run, so they are not read and [] is returned.
    """
    if order.released_at is None:
        return known or []
    deliver_digital(order, at)
    inputs = _sync_inputs(order)
    if known is None and order.fulfilment_in_step == inputs:
        return []
    fos = known if known is not None else uow.fulfilment.for_order(order.tenant_id, order.id)
    by_allocation = {
        line.allocation_id: (fo, line)
        for fo in fos
        for line in fo.lines
        if line.allocation_id is not None
    }
    before = {fo.id: fo.status for fo in fos}
    for allocation in order.allocations:
        covered = by_allocation.get(allocation.id)
        if covered is not None:
            fo, line = covered
            extra = line.unshipped - allocation.open
            if extra > 0:
                fo.cancel_units(line.seq, extra)
    fresh = [a for a in order.allocations if a.id not in by_allocation and a.open > 0]
    priority = 10 if order.service_level != "standard" else 100
    created = _new_orders(order, fresh, at, priority)
    held = bool(order.blocking_holds)
    for fo in [*fos, *created]:
        if fo.on_hold != held or fo.id not in before:
            fo.on_hold = held
            fo.refresh_status()
    for fo in created:
        fo.refresh_status()
        uow.fulfilment.add(fo)
        with order.change("fulfillment_order.created", actor=SYSTEM, at=at) as data:
            data.update(describe(fo))
            data["lines"] = [
                {"line_no": ln.line_no, "sku": ln.sku, "quantity": ln.quantity} for ln in fo.lines
            ]
    for fo in fos:
        if fo.changed:
            event = _NOTEWORTHY.get(fo.status)
            if before[fo.id] is FulfillmentOrderStatus.ON_HOLD and not fo.on_hold:
                event = "fulfillment_order.resumed"
            if event is not None and fo.status is not before[fo.id]:
                with order.change(event, actor=SYSTEM, at=at) as data:
                    data.update(describe(fo))
            fo.updated_at = at
            uow.fulfilment.save(fo)
    order.fulfilment_in_step = inputs
    return [*fos, *created]


def apply_progress(uow: UnitOfWork, order: Order, fos: Sequence[FulfillmentOrder]) -> None:
    """Count each physical line's shipped and delivered units from its fulfilment orders
    (bundles: whole bundles only) and mark the allocations fulfilled."""
    products = uow.products.by_skus(order.tenant_id, [line.sku for line in order.lines])
    shipped: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    delivered: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_allocation: dict[UUID, int] = defaultdict(int)
    for fo in fos:
        for item in fo.lines:
            shipped[item.line_no][item.sku] += item.shipped
            delivered[item.line_no][item.sku] += item.delivered
            if item.allocation_id is not None:
                by_allocation[item.allocation_id] += item.shipped
    for allocation in order.allocations:
        if allocation.id in by_allocation:
            allocation.fulfilled = by_allocation[allocation.id]
    for line in order.lines:
        if line.kind is ProductKind.DIGITAL or line.sku not in products:
            continue
        recipe = unit_demand(products[line.sku])
        order.record_progress(
            line.line_no,
            shipped=line_units(shipped[line.line_no], recipe),
            delivered=line_units(delivered[line.line_no], recipe),
        )


def list_fulfillment_orders(
    *,
    uow_factory: UnitOfWorkFactory,
    principal: Principal,
    location_code: str | None,
    statuses: tuple[str, ...],
    after_id: UUID | None,
    limit: int,
) -> list[FulfillmentOrder]:
    """A location's queue of work (or all of a tenant's), oldest first. An operator key
    without a tenant sees the queue of one of its own locations across every merchant
    (a 3PL's floor); it must name the location."""
    with uow_factory(readonly=True) as uow:
        location_id = None
        if principal.tenant_id is None:
            principal.require_operator()
            found = (
                None
                if location_code is None
                else location_named(uow.locations.operator_locations(), location_code, None)
            )
            if found is None:
                raise InvalidRequest(
                    "Name one of your locations",
                    [
                        FieldError(
                            "query:location", "the id or code of an operator location is required"
                        )
                    ],
                )
            location_id = found.id
        elif location_code is not None:
            found = location_named(
                uow.locations.visible_to(principal.tenant_id), location_code, principal.tenant_id
            )
            if found is None:
                raise InvalidRequest(
                    "Unknown location",
                    [FieldError("query:location", f"no location {location_code!r}")],
                )
            location_id = found.id
        return uow.fulfilment.page(
            principal.tenant_id,
            location_id=location_id,
            statuses=statuses,
            after_id=after_id,
            limit=limit,
        )


def fulfillment_orders_of_order(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> list[FulfillmentOrder]:
    """An order's fulfilment orders, oldest first (NotFound for an unknown order)."""
    with uow_factory(readonly=True) as uow:
        if not uow.orders.exists(tenant_id, order_id):
            raise NotFound(f"No order {order_id}")
        return uow.fulfilment.for_order(tenant_id, order_id)


def packages_of(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID, fo_id: UUID) -> list[Package]:
    """A fulfilment order's packages, oldest first (NotFound for an unknown one)."""
    with uow_factory(readonly=True) as uow:
        if uow.fulfilment.order_id_of(tenant_id, fo_id) is None:
            raise NotFound(f"No fulfilment order {fo_id}")
        return uow.fulfilment.packages_of(tenant_id, fo_id)


def get_fulfillment_order(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, fo_id: UUID
) -> FulfillmentOrder:
    """One fulfilment order, or NotFound."""
    with uow_factory(readonly=True) as uow:
        fo = uow.fulfilment.get(tenant_id, fo_id)
    if fo is None:
        raise NotFound(f"No fulfilment order {fo_id}")
    return fo
