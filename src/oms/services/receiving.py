"""Stock arriving at a location: a ``receipt`` movement in the ledger, for purchase orders
and inbound shipments alike."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from oms.domain.errors import (
    FieldError,
    InsufficientStock,
    InvalidRequest,
    Shortage,
    StockReserved,
)
from oms.domain.inventory import MAX_QUANTITY, MovementKind
from oms.services.ports import MovementNote, TransientStorageError, UnitOfWork

__all__ = [
    "count_into_stock",
    "receive_into_stock",
    "receive_units_into_stock",
    "take_from_stock",
]

MAX_CAS_ATTEMPTS = 50


def receive_into_stock(
    uow: UnitOfWork,
    tenant_id: UUID,
    *,
    sku: str,
    location_id: UUID,
    quantity: int,
    reason: str,
    reference: str | None,
    actor: str,
    at: datetime,
    kind: MovementKind = MovementKind.RECEIPT,
) -> int:
    """Add ``quantity`` units to on hand with a ``receipt`` movement (or ``kind``); on hand
    after.

    The same compare-and-set on the level row as an adjustment, so a concurrent reservation
    is never overwritten (it is retried against the fresh row)."""
    uow.inventory.ensure_level(tenant_id, sku, location_id, at)
    for _ in range(MAX_CAS_ATTEMPTS):
        (level,) = uow.inventory.levels(tenant_id, [sku], [location_id])
        on_hand = level.on_hand + quantity
        if on_hand > MAX_QUANTITY:
            raise InvalidRequest(
                "On hand would exceed the maximum quantity",
                [FieldError("#/lines", f"on hand cannot exceed {MAX_QUANTITY}")],
            )
        if uow.inventory.compare_and_set(
            tenant_id, level, on_hand=on_hand, safety_stock=level.safety_stock, at=at
        ):
            break
    else:
        raise TransientStorageError("the stock level kept changing")
    uow.inventory.add_movement(
        tenant_id,
        sku=sku,
        location_id=location_id,
        kind=kind,
        quantity=quantity,
        on_hand_after=on_hand,
        reason=reason,
        reference=reference,
        actor=actor,
        at=at,
    )
    return on_hand


def receive_units_into_stock(
    uow: UnitOfWork,
    tenant_id: UUID,
    *,
    location_id: UUID,
    units: dict[str, int],
    reason: str,
    reference: str | None,
    actor: str,
    at: datetime,
) -> dict[str, int]:
    """``receive_into_stock`` for several SKUs at one location in fewer statements: the
    levels' on hand raised by upserts (in SKU order, as every stock writer; one statement
    on PostgreSQL, the ``receipt`` movements in the same statement); each SKU's on hand
    after."""
    after = uow.inventory.add_on_hand_with_movements(
        tenant_id,
        location_id,
        {sku: n for sku, n in units.items() if n > 0},
        at,
        note=MovementNote(
            kind=MovementKind.RECEIPT, reason=reason, reference=reference, actor=actor
        ),
    )
    if after is None:
        raise InvalidRequest(
            "On hand would exceed the maximum quantity",
            [FieldError("#/lines", f"on hand cannot exceed {MAX_QUANTITY}")],
        )
    return after


def count_into_stock(
    uow: UnitOfWork,
    tenant_id: UUID,
    *,
    sku: str,
    location_id: UUID,
    counted: int,
    reason: str,
    reference: str | None,
    actor: str,
    at: datetime,
) -> int:
    """Set on hand to a counted figure with a ``count`` movement of the difference (none
    when it agrees); the change. Refuses (409) to count below what is reserved there."""
    uow.inventory.ensure_level(tenant_id, sku, location_id, at)
    for _ in range(MAX_CAS_ATTEMPTS):
        (level,) = uow.inventory.levels(tenant_id, [sku], [location_id])
        if counted < level.reserved:
            raise StockReserved(
                f"{level.reserved} units of {sku} are reserved there; a count cannot go below",
                reserved=level.reserved,
            )
        if counted == level.on_hand:
            return 0
        if uow.inventory.compare_and_set(
            tenant_id, level, on_hand=counted, safety_stock=level.safety_stock, at=at
        ):
            break
    else:
        raise TransientStorageError("the stock level kept changing")
    uow.inventory.add_movement(
        tenant_id,
        sku=sku,
        location_id=location_id,
        kind=MovementKind.COUNT,
        quantity=counted - level.on_hand,
        on_hand_after=counted,
        reason=reason,
        reference=reference,
        actor=actor,
        at=at,
    )
    return counted - level.on_hand


def take_from_stock(
    uow: UnitOfWork,
    tenant_id: UUID,
    *,
    sku: str,
    location_id: UUID,
    quantity: int,
    kind: MovementKind,
    reason: str,
    reference: str | None,
    actor: str,
    at: datetime,
) -> int:
    """Take ``quantity`` units that are available (not reserved, above safety stock) off
    on hand with a movement of ``kind``; on hand after. Refuses (409) what is not there."""
    uow.inventory.ensure_level(tenant_id, sku, location_id, at)
    for _ in range(MAX_CAS_ATTEMPTS):
        (level,) = uow.inventory.levels(tenant_id, [sku], [location_id])
        if level.available < quantity:
            raise InsufficientStock(
                [Shortage(sku=sku, requested=quantity, available=level.available)]
            )
        on_hand = level.on_hand - quantity
        if uow.inventory.compare_and_set(
            tenant_id, level, on_hand=on_hand, safety_stock=level.safety_stock, at=at
        ):
            break
    else:
        raise TransientStorageError("the stock level kept changing")
    uow.inventory.add_movement(
        tenant_id,
        sku=sku,
        location_id=location_id,
        kind=kind,
        quantity=-quantity,
        on_hand_after=on_hand,
        reason=reason,
        reference=reference,
        actor=actor,
        at=at,
    )
    return on_hand
