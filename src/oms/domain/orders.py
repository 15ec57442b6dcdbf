"""The order aggregate: lines with quantities per state, allocations and the timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.catalogue import ProductKind
from oms.domain.errors import IllegalTransition
from oms.domain.money import round_money
from oms.domain.status import (
    FulfillmentStatus,
    OrderStatus,
    PaymentStatus,
    derive_fulfillment_status,
    derive_order_status,
)

__all__ = ["Actor", "Allocation", "Customer", "Order", "OrderEvent", "OrderLine"]


@dataclass(frozen=True)
class Actor:
    """Who did something: ``kind`` is api_key, user or system."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Customer:
    email: str | None = None
    name: str | None = None
    phone: str | None = None


@dataclass
class OrderLine:
    """One line; ``quantity`` = allocated + backordered + shipped + cancelled always."""

    line_no: int
    sku: str
    name: str
    kind: ProductKind
    quantity: int
    unit_price: Decimal
    allocated: int = 0
    backordered: int = 0
    shipped: int = 0
    delivered: int = 0
    cancelled: int = 0
    returned: int = 0

    def total(self, currency: str) -> Decimal:
        """Line total rounded to the currency's minor unit."""
        return round_money(self.unit_price * self.quantity, currency)

    @property
    def quantities_balance(self) -> bool:
        """The line invariant every change must keep."""
        return self.quantity == self.allocated + self.backordered + self.shipped + self.cancelled


@dataclass
class Allocation:
    """Stock of ``sku`` held at ``location_id`` for line ``line_no`` (component SKU for bundles)."""

    id: UUID
    line_no: int
    sku: str
    location_id: UUID
    quantity: int
    released: int = 0
    fulfilled: int = 0
    created_at: datetime | None = None
    location_code: str | None = None

    @property
    def open(self) -> int:
        """Units still reserved in the inventory level."""
        return self.quantity - self.released - self.fulfilled


@dataclass(frozen=True)
class OrderEvent:
    """One entry of the order's immutable timeline."""

    seq: int
    type: str
    actor: str
    created_at: datetime
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Order:
    """An order of one tenant as it arrived, and everything that happened to it since."""

    id: UUID
    tenant_id: UUID
    number: int
    channel: str
    external_id: str | None
    currency: str
    customer: Customer
    shipping_address: Address | None
    billing_address: Address | None
    lines: list[OrderLine]
    created_at: datetime
    allow_backorder: bool = True
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    allocations: list[Allocation] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    updated_at: datetime | None = None
    version: int = 1
    status: OrderStatus = OrderStatus.OPEN
    fulfillment_status: FulfillmentStatus = FulfillmentStatus.UNFULFILLED
    payment_status: PaymentStatus = PaymentStatus.PENDING
    new_events: list[OrderEvent] = field(default_factory=list, repr=False)

    @property
    def subtotal(self) -> Decimal:
        """Sum of the line totals."""
        return sum((line.total(self.currency) for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        """What the customer pays; taxes, shipping and discounts come with verification."""
        return self.subtotal

    def line(self, line_no: int) -> OrderLine:
        """The line numbered ``line_no``."""
        return next(line for line in self.lines if line.line_no == line_no)

    def record(
        self,
        event_type: str,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> OrderEvent:
        """Append a timeline event; it is saved with the change that caused it."""
        event = OrderEvent(
            seq=len(self.events) + 1,
            type=event_type,
            actor=str(actor),
            created_at=at,
            reason=reason,
            data=data or {},
        )
        self.events.append(event)
        self.new_events.append(event)
        return event

    def refresh_statuses(self) -> None:
        """Derive every status axis again from the lines."""
        self.fulfillment_status = derive_fulfillment_status(self.lines)
        self.status = derive_order_status(self.lines, open_holds=0)

    def cancel(self, *, actor: Actor, at: datetime, reason: str | None) -> list[Allocation]:
        """Cancel every unit not yet shipped and return the allocations to release.

        Cancelling an already cancelled order changes nothing and returns nothing.
        """
        if self.status is OrderStatus.CANCELLED:
            return []
        if any(line.shipped for line in self.lines):
            raise IllegalTransition(
                "Part of this order has shipped; cancel the unshipped lines instead",
                order_id=str(self.id),
            )
        released: list[Allocation] = []
        for allocation in self.allocations:
            if allocation.open > 0:
                released.append(
                    Allocation(
                        id=allocation.id,
                        line_no=allocation.line_no,
                        sku=allocation.sku,
                        location_id=allocation.location_id,
                        quantity=allocation.open,
                    )
                )
                allocation.released += allocation.open
        cancelled_units: dict[str, int] = {}
        for line in self.lines:
            units = line.allocated + line.backordered
            line.cancelled += units
            line.allocated = 0
            line.backordered = 0
            cancelled_units[str(line.line_no)] = units
        self.refresh_statuses()
        self.record(
            "order.cancelled",
            actor=actor,
            at=at,
            reason=reason,
            data={
                "cancelled_units": cancelled_units,
                "released": [
                    {"sku": a.sku, "location_id": str(a.location_id), "quantity": a.quantity}
                    for a in released
                ],
            },
        )
        return released
