"""The order's status axes, each derived by a pure function from line quantities and records.

Nothing sets a status by hand: after every change the order recomputes all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

__all__ = [
    "FulfillmentStatus",
    "LineQuantities",
    "OrderStatus",
    "PaymentStatus",
    "derive_fulfillment_status",
    "derive_order_status",
]


class OrderStatus(StrEnum):
    OPEN = "open"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class FulfillmentStatus(StrEnum):
    UNFULFILLED = "unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    PARTIALLY_DELIVERED = "partially_delivered"
    DELIVERED = "delivered"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


class LineQuantities(Protocol):
    """The quantities of one order line that statuses are derived from."""

    @property
    def quantity(self) -> int: ...
    @property
    def shipped(self) -> int: ...
    @property
    def delivered(self) -> int: ...
    @property
    def cancelled(self) -> int: ...


def derive_fulfillment_status(lines: Sequence[LineQuantities]) -> FulfillmentStatus:
    """How far the goods have gone, counting only units that were not cancelled."""
    wanted = sum(line.quantity - line.cancelled for line in lines)
    shipped = sum(line.shipped for line in lines)
    delivered = sum(line.delivered for line in lines)
    if wanted <= 0 or shipped == 0:
        return FulfillmentStatus.UNFULFILLED
    if delivered >= wanted:
        return FulfillmentStatus.DELIVERED
    if delivered > 0:
        return FulfillmentStatus.PARTIALLY_DELIVERED
    if shipped >= wanted:
        return FulfillmentStatus.FULFILLED
    return FulfillmentStatus.PARTIALLY_FULFILLED


def derive_order_status(lines: Sequence[LineQuantities], *, open_holds: int) -> OrderStatus:
    """Cancelled when every unit is cancelled, closed when every other unit is delivered."""
    wanted = sum(line.quantity - line.cancelled for line in lines)
    if wanted <= 0:
        return OrderStatus.CANCELLED
    if sum(line.delivered for line in lines) >= wanted:
        return OrderStatus.CLOSED
    if open_holds > 0:
        return OrderStatus.ON_HOLD
    return OrderStatus.OPEN
