"""What every warehouse use case shares: the order lock, stock leaving the shelf, and
giving units back to routing (payment for what left: ``payments.capture_shipped_value``).

The order row is the lock of the whole aggregate: every change to a fulfilment order locks
its order first, then reads all of the order's fulfilment orders, so two stations working
on one order take turns and ``sync_fulfilment`` always sees every fulfilment order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.catalogue import Location, location_named, unit_demand
from oms.domain.errors import NotFound
from oms.domain.fulfilment import FulfillmentLine, FulfillmentOrder, lost_line_units
from oms.domain.inventory import MovementKind
from oms.domain.orders import Actor, Order
from oms.services.persistence import locked_order
from oms.services.ports import UnitOfWork
from oms.services.rerouting import refresh_routing_holds, route_units
from oms.services.routing import NO_GEOCODER, Geocoder

__all__ = [
    "Locked",
    "give_back",
    "location_by_code",
    "lock_fulfillment_order",
    "recipes_of",
    "release_fo_line",
    "take_off_shelf",
]


@dataclass
class Locked:
    """An order locked for this transaction, all its fulfilment orders, and the one asked for."""

    order: Order
    fulfilment: list[FulfillmentOrder]
    fo: FulfillmentOrder


def lock_fulfillment_order(uow: UnitOfWork, tenant_id: UUID, fo_id: UUID) -> Locked:
    """Lock the fulfilment order's order and read them (NotFound for another tenant's id)."""
    order_id = uow.fulfilment.order_id_of(tenant_id, fo_id)
    if order_id is None:
        raise NotFound(f"No fulfilment order {fo_id}")
    # Warehouse steps answer with fulfilment orders, not the order: its timeline stays unread.
    order = locked_order(uow, tenant_id, order_id, with_events=False)
    fos = uow.fulfilment.for_order(tenant_id, order.id)
    fo = next(f for f in fos if f.id == fo_id)
    return Locked(order, fos, fo)


def location_by_code(uow: UnitOfWork, tenant_id: UUID, code: str) -> Location:
    """A location the tenant may use, by id or code (its own first); NotFound otherwise."""
    found = location_named(uow.locations.visible_to(tenant_id), code, tenant_id)
    if found is None:
        raise NotFound(f"No location {code!r}")
    return found


def take_off_shelf(
    uow: UnitOfWork,
    fo: FulfillmentOrder,
    units: Iterable[tuple[FulfillmentLine, int]],
    *,
    kind: MovementKind,
    reason: str,
    reference: str,
    actor: Actor,
    at: datetime,
) -> None:
    """Reserved units leave the location: ``on_hand`` and ``reserved`` drop together and
    the ledger records why, in the fixed (SKU) order."""
    by_sku: dict[str, int] = defaultdict(int)
    for line, quantity in units:
        by_sku[line.sku] += quantity
    for sku, quantity in sorted(by_sku.items()):
        if quantity <= 0:
            continue
        after = uow.inventory.take_out(fo.tenant_id, sku, fo.location_id, quantity, at)
        uow.inventory.add_movement(
            fo.tenant_id,
            sku=sku,
            location_id=fo.location_id,
            kind=kind,
            quantity=-quantity,
            on_hand_after=after,
            reason=reason,
            reference=reference,
            actor=str(actor),
            at=at,
        )


def recipes_of(uow: UnitOfWork, order: Order) -> dict[int, dict[str, int]]:
    """Each line's stock per unit (SKU -> units; a bundle's components)."""
    products = uow.products.by_skus(order.tenant_id, [line.sku for line in order.lines])
    return {line.line_no: unit_demand(products[line.sku]) for line in order.lines}


def give_back(
    uow: UnitOfWork,
    located: Locked,
    cancelled: dict[tuple[int, str], int],
    *,
    exclude: Iterable[str] = (),
    geocoder: Geocoder | None = None,
    at: datetime,
) -> dict[int, int]:
    """Units cancelled on a fulfilment order (line, SKU -> units, their allocations already
    released) go back to the order's routing: rerouted where stock allows, else backordered.
    Returns the line units that found a new home."""
    order, fo = located.order, located.fo
    recipes = recipes_of(uow, order)
    lost = lost_line_units(cancelled, recipes)
    # A bundle unit short of one component frees its other components too.
    for line_no, units in lost.items():
        for sku, per in recipes[line_no].items():
            extra = units * per - cancelled.get((line_no, sku), 0)
            for fo_line in fo.lines:
                if extra <= 0:
                    break
                if fo_line.line_no == line_no and fo_line.sku == sku:
                    freed = fo.cancel_units(fo_line.seq, extra)
                    _release_allocation(uow, order, fo, fo_line, freed, at)
                    extra -= freed
    for line_no, units in lost.items():
        line = order.line(line_no)
        line.allocated -= units
        line.backordered += units
    placed = route_units(uow, order, lost, geocoder or NO_GEOCODER, frozenset(exclude), at)
    for line_no, units in placed.items():
        line = order.line(line_no)
        line.backordered -= units
        line.allocated += units
    refresh_routing_holds(order, uow, at)
    return placed


def _release_allocation(
    uow: UnitOfWork,
    order: Order,
    fo: FulfillmentOrder,
    line: FulfillmentLine,
    units: int,
    at: datetime,
) -> None:
    if units <= 0 or line.allocation_id is None:
        return
    allocation = next(a for a in order.allocations if a.id == line.allocation_id)
    allocation.released += units
    uow.inventory.release(fo.tenant_id, line.sku, fo.location_id, units, at)


def release_fo_line(
    uow: UnitOfWork,
    order: Order,
    fo: FulfillmentOrder,
    line: FulfillmentLine,
    units: int,
    at: datetime,
) -> int:
    """Cancel ``units`` of a fulfilment-order line and give its reservation back."""
    freed = fo.cancel_units(line.seq, units)
    _release_allocation(uow, order, fo, line, freed, at)
    return freed
