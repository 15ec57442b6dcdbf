"""Cart reservations."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from oms.api.schemas.common import Sku, Strict
from oms.domain.carts import CartReservation, CartStatus

__all__ = ["ReservationCreate", "ReservationRead"]


class ReservationLineIn(Strict):
    sku: Sku
    quantity: int = Field(ge=1, le=1_000_000)


class ReservationCreate(Strict):
    lines: list[ReservationLineIn] = Field(min_length=1, max_length=250)
    ttl_seconds: int = Field(
        default=900, ge=1, description="How long the stock is held; at most the tenant's limit"
    )


class ReservationLineOut(BaseModel):
    line_no: int
    sku: str
    location_id: UUID
    quantity: int


class ReservationRead(BaseModel):
    id: UUID
    status: CartStatus = Field(description="active, consumed (by an order), released or expired")
    expires_at: datetime
    created_at: datetime
    closed_at: datetime | None
    order_id: UUID | None
    lines: list[ReservationLineOut]

    @classmethod
    def of(cls, cart: CartReservation, *, now: datetime) -> ReservationRead:
        return cls(
            id=cart.id,
            status=cart.status_at(now),
            expires_at=cart.expires_at,
            created_at=cart.created_at,
            closed_at=cart.closed_at,
            order_id=cart.order_id,
            lines=[
                ReservationLineOut(
                    line_no=ln.line_no, sku=ln.sku, location_id=ln.location_id, quantity=ln.quantity
                )
                for ln in cart.lines
            ],
        )
