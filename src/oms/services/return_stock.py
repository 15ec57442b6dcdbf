"""Units of a return counted in at a location: what each disposition does to stock.

``restock``: on hand rises by the units (one upsert per SKU, with its stock-push marker
and a ``return_restock`` movement in the ledger, so ``oms check`` still finds on hand
equal to the ledger; one statement on PostgreSQL), and they are available again.
``quarantine`` and ``dispose``: nothing enters stock; the return counts them (a quarantined
unit waits aside, outside what can be sold, until someone adjusts it in by hand).
A bundle's units go back as its components.

A receipt decides what goes back first (``units_to_put_back``: reads only) and writes it
last, after the return and the order (``put_back``): the levels' rows stay locked from
their write to the commit, and every other receipt of the same SKUs waits for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from oms.domain.catalogue import Location, ProductKind, location_named
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.inventory import MAX_QUANTITY, MovementKind
from oms.domain.orders import Actor, Order
from oms.domain.returns import Disposition, ReturnRequest
from oms.services.ports import MovementNote, UnitOfWork

__all__ = ["ReceivedUnits", "Restock", "put_back", "units_to_put_back"]


@dataclass(frozen=True)
class ReceivedUnits:
    """``quantity`` units of order line ``line_no`` received with ``disposition``."""

    line_no: int
    quantity: int
    disposition: Disposition


def receiving_location(
    uow: UnitOfWork, tenant_id: UUID, location: str, *, pointer: str = "#/location"
) -> Location:
    """The location returned units are received at (a code or id the tenant may use);
    InvalidRequest at ``pointer`` when there is none."""
    found = location_named(uow.locations.visible_to(tenant_id), location, tenant_id)
    if found is None:
        raise InvalidRequest("Unknown location", [FieldError(pointer, f"no location {location!r}")])
    return found


@dataclass(frozen=True)
class Restock:
    """What a receipt puts back on hand: units per SKU (a bundle's as its components) at
    one location."""

    location_id: UUID
    units: dict[str, int] = field(default_factory=dict)


def units_to_put_back(
    uow: UnitOfWork, order: Order, location: str, units: list[ReceivedUnits]
) -> Restock:
    """What ``units`` say to restock at ``location`` (its code or id), nothing written yet.
    Refuses an unknown location with a pointer at ``#/location``."""
    found = receiving_location(uow, order.tenant_id, location)
    restocked = [
        (order.line(unit.line_no), unit.quantity)
        for unit in units
        if unit.disposition is Disposition.RESTOCK and unit.quantity > 0
    ]
    # Only a bundle line's product is read (for its components), all in one read: any other
    # line went out as its own SKU and comes back as it.
    bundles = sorted({line.sku for line, _ in restocked if line.kind is ProductKind.BUNDLE})
    products = uow.products.by_skus(order.tenant_id, bundles) if bundles else {}
    wanted: dict[str, int] = {}
    for line, quantity in restocked:
        sku = line.sku
        product = products.get(sku)
        parts = (
            [(c.sku, c.quantity) for c in product.components]
            if product and product.components
            else [(sku, 1)]
        )
        for part, per_unit in parts:
            wanted[part] = wanted.get(part, 0) + per_unit * quantity
    return Restock(found.id, wanted)


def put_back(
    uow: UnitOfWork,
    order: Order,
    request: ReturnRequest,
    restock: Restock,
    *,
    actor: Actor,
    at: datetime,
) -> None:
    """Raise on hand by ``restock`` with a ``return_restock`` movement per SKU; refuses
    (``#/lines``) a level that would exceed the maximum quantity."""
    wanted = restock.units
    if not wanted:
        return
    # Adding units never takes what is reserved: one upsert for every level, in the
    # canonical (SKU, location) order, no compare-and-set; the ledger's movements with it.
    raised = uow.inventory.add_on_hand_with_movements(
        order.tenant_id,
        restock.location_id,
        wanted,
        at,
        note=MovementNote(
            kind=MovementKind.RETURN_RESTOCK,
            reason=f"return of order {order.number}",
            reference=f"return:{request.id}",
            actor=str(actor),
        ),
    )
    if raised is None:
        raise InvalidRequest(
            "On hand would exceed the maximum quantity",
            [FieldError("#/lines", f"on hand cannot exceed {MAX_QUANTITY}")],
        )
