"""Stock levels and adjustments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints, model_validator

from oms.api.schemas.common import Code, Sku, Strict
from oms.api.schemas.inbound import IncomingRead
from oms.domain import lengths
from oms.domain.catalogue import ProductKind
from oms.domain.inventory import MAX_QUANTITY, Movement, MovementKind
from oms.services.inventory import Adjustment, SkuStock

__all__ = ["AdjustmentCreate", "MovementRead", "StockRead", "StockWithIncomingRead"]


class AdjustmentCreate(Strict):
    sku: Sku
    location: Code = Field(description="Location code")
    delta: int | None = Field(default=None, ge=-MAX_QUANTITY, le=MAX_QUANTITY)
    set_on_hand: int | None = Field(default=None, ge=0, le=MAX_QUANTITY)
    safety_stock: int | None = Field(default=None, ge=0, le=MAX_QUANTITY)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    reference: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=lengths.REFERENCE)]
        | None
    ) = None

    @model_validator(mode="after")
    def _one_change(self) -> AdjustmentCreate:
        if self.delta is not None and self.set_on_hand is not None:
            raise ValueError("give delta or set_on_hand, not both")
        if self.delta is None and self.set_on_hand is None and self.safety_stock is None:
            raise ValueError("give delta, set_on_hand or safety_stock")
        return self

    def to_command(self) -> Adjustment:
        delta = self.delta
        if delta is None and self.set_on_hand is None:
            delta = 0  # only the safety stock changes
        return Adjustment(
            sku=self.sku,
            location_code=self.location,
            reason=self.reason,
            delta=delta,
            set_on_hand=self.set_on_hand,
            safety_stock=self.safety_stock,
            reference=self.reference,
        )


class LocationStockRead(BaseModel):
    location: str = Field(description="Location code")
    location_id: str
    on_hand: int | None
    reserved: int | None
    safety_stock: int | None
    available: int


class StockRead(BaseModel):
    sku: str
    kind: ProductKind
    on_hand: int | None = Field(description="Null for bundles, which hold no stock")
    reserved: int | None
    safety_stock: int | None
    available: int
    locations: list[LocationStockRead]

    @classmethod
    def of(cls, stock: SkuStock) -> StockRead:
        return cls(
            sku=stock.product.sku,
            kind=stock.product.kind,
            on_hand=stock.on_hand,
            reserved=stock.reserved,
            safety_stock=stock.safety_stock,
            available=stock.available,
            locations=[
                LocationStockRead(
                    location=row.location.code,
                    location_id=str(row.location.id),
                    on_hand=row.on_hand,
                    reserved=row.reserved,
                    safety_stock=row.safety_stock,
                    available=row.available,
                )
                for row in stock.locations
            ],
        )


class MovementRead(BaseModel):
    id: UUID
    sku: str
    location: str = Field(description="Location code")
    location_id: UUID
    kind: MovementKind
    quantity: int = Field(description="Signed change of on hand: negative takes stock out")
    on_hand_after: int
    reason: str | None
    reference: str | None
    actor: str
    created_at: datetime

    @classmethod
    def of(cls, movement: Movement) -> MovementRead:
        return cls(
            id=movement.id,
            sku=movement.sku,
            location=movement.location_code,
            location_id=movement.location_id,
            kind=movement.kind,
            quantity=movement.quantity,
            on_hand_after=movement.on_hand_after,
            reason=movement.reason,
            reference=movement.reference,
            actor=movement.actor,
            created_at=movement.created_at,
        )


class InTransitRead(BaseModel):
    """Units of the SKU shipped from one location to another and not yet received: in no
    location's stock, so sellable nowhere."""

    from_: str = Field(serialization_alias="from")
    to: str
    quantity: int
    transfer_id: str


class StockWithIncomingRead(StockRead):
    """One SKU's stock and what open purchase orders bring, by expected date."""

    incoming: list[IncomingRead] = Field(default_factory=list)
    in_transit: list[InTransitRead] = Field(
        default_factory=list, description="Shipped between locations, not yet received"
    )
