"""Cart reservations: stock held for a checkout for a short time, then given back by itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

__all__ = ["CartLine", "CartReservation", "CartStatus"]


class CartStatus(StrEnum):
    ACTIVE = "active"
    CONSUMED = "consumed"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True)
class CartLine:
    """``quantity`` units of ``sku`` held at ``location_id`` for request line ``line_no``."""

    line_no: int
    sku: str
    location_id: UUID
    quantity: int


@dataclass
class CartReservation:
    id: UUID
    status: CartStatus
    expires_at: datetime
    created_at: datetime
    lines: list[CartLine] = field(default_factory=list)
    closed_at: datetime | None = None
    order_id: UUID | None = None

    def status_at(self, now: datetime) -> CartStatus:
        """The status as a customer sees it: an active hold past its time has expired."""
        if self.status is CartStatus.ACTIVE and now >= self.expires_at:
            return CartStatus.EXPIRED
        return self.status

    def holds_stock(self, now: datetime) -> bool:
        return self.status_at(now) is CartStatus.ACTIVE
