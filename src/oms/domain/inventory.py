"""Inventory levels, the movement ledger and availability (ATP), including bundles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest

__all__ = [
    "MAX_QUANTITY",
    "Movement",
    "MovementKind",
    "StockLevel",
    "adjustment_delta",
    "bundle_availability",
    "total",
]

# Far above any real stock count, and below what both databases store in an INTEGER.
MAX_QUANTITY = 1_000_000_000


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    SHIPMENT = "shipment"
    RETURN_RESTOCK = "return_restock"
    TRANSFER = "transfer"
    COUNT = "count"
    # Units moved into a bin within a location: on hand there is unchanged (quantity 0),
    # the reason names the bin and the units (docs/inbound.md).
    PUTAWAY = "putaway"


@dataclass(frozen=True)
class Movement:
    """One ledger row: a signed change of on-hand stock at a location, and who made it."""

    id: UUID
    sku: str
    location_id: UUID
    location_code: str
    kind: MovementKind
    quantity: int
    on_hand_after: int
    reason: str | None
    reference: str | None
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class StockLevel:
    """Stock of one SKU at one location."""

    sku: str
    location_id: UUID
    on_hand: int
    reserved: int
    safety_stock: int = 0

    @property
    def available(self) -> int:
        """What can still be promised: on hand less reserved less safety stock, never < 0."""
        return max(0, self.on_hand - self.reserved - self.safety_stock)


def adjustment_delta(*, on_hand: int, delta: int | None, set_on_hand: int | None) -> int:
    """The ledger delta of an adjustment given as ``delta`` or as a counted ``set_on_hand``.

    Refuses a result below zero or above ``MAX_QUANTITY``; the caller refuses one below
    ``reserved`` (see ``StockReserved``) because that needs the row's current state.
    """
    if (delta is None) == (set_on_hand is None):
        raise InvalidRequest(
            "Give exactly one of delta or set_on_hand",
            [FieldError("#/delta", "give exactly one of delta or set_on_hand")],
        )
    change = delta if delta is not None else (set_on_hand or 0) - on_hand
    target = on_hand + change
    if target < 0:
        raise InvalidRequest(
            f"On hand would become {target}; it cannot be negative",
            [FieldError("#/delta", f"on hand is {on_hand}; it cannot go below zero")],
        )
    if target > MAX_QUANTITY:
        raise InvalidRequest(
            "On hand would exceed the maximum quantity",
            [FieldError("#/delta", f"on hand cannot exceed {MAX_QUANTITY}")],
        )
    return change


def bundle_availability(
    components: Mapping[str, int], available: Mapping[tuple[str, UUID], int]
) -> dict[UUID, int]:
    """Whole bundles each location can supply from its own component stock.

    ``components`` maps component SKU to units per bundle; ``available`` maps
    (sku, location) to available units. A location missing any component supplies 0.
    """
    locations: set[UUID] = {loc for (_, loc) in available}
    result: dict[UUID, int] = {}
    for location in locations:
        result[location] = min(
            (
                available.get((sku, location), 0) // per_bundle
                for sku, per_bundle in components.items()
            ),
            default=0,
        )
    return result


def total(levels: Iterable[StockLevel]) -> tuple[int, int, int, int]:
    """Sum of on_hand, reserved, safety_stock and available over ``levels``."""
    on_hand = reserved = safety = available = 0
    for level in levels:
        on_hand += level.on_hand
        reserved += level.reserved
        safety += level.safety_stock
        available += level.available
    return on_hand, reserved, safety, available
