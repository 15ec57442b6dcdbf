"""Replenishment suggestions as the API returns them (docs/decisions.md)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from oms.api.schemas.common import Price, Strict
from oms.api.schemas.inbound import PurchaseOrderRead
from oms.domain.inbound import SupplierSku
from oms.domain.replenishment import ReplenishmentPlan
from oms.services.replenishment import PurchaseSuggestions, Suggestions

__all__ = [
    "DraftPurchaseOrdersRead",
    "PurchaseSuggestionsRead",
    "SuggestionsRead",
    "SupplierSkuRead",
    "SupplierSkuUpdate",
]


class SuggestionRead(BaseModel):
    sku: str
    location: str | None = Field(description="Location code; null: all locations together")
    quantity: int = Field(description="Units to order now (MOQ and packs applied)")
    position: int = Field(
        description="On hand less reserved now (per supplier: plus stock on order)"
    )
    demand_over_lead_time: float
    safety_stock: int
    reorder_point: int
    order_up_to: int
    reason: str


class TermsRead(BaseModel):
    supplier: str | None
    lead_time_days: int
    review_period_days: int
    service_level: float
    moq: int
    pack_size: int


class SuggestionsRead(BaseModel):
    terms: TermsRead
    suggestions: list[SuggestionRead]

    @classmethod
    def of(cls, found: Suggestions) -> SuggestionsRead:
        t = found.terms
        return cls(
            terms=TermsRead(
                supplier=t.supplier,
                lead_time_days=t.lead_time_days,
                review_period_days=t.review_period_days,
                service_level=t.service_level,
                moq=t.moq,
                pack_size=t.pack_size,
            ),
            suggestions=[_suggestion(p) for p in found.plans],
        )


def _suggestion(p: ReplenishmentPlan) -> SuggestionRead:
    return SuggestionRead(
        sku=p.sku,
        location=p.location or None,
        quantity=p.quantity,
        position=p.position,
        demand_over_lead_time=p.demand_over_lead_time,
        safety_stock=p.safety_stock,
        reorder_point=p.reorder_point,
        order_up_to=p.order_up_to,
        reason=p.reason,
    )


class SupplierSkuUpdate(Strict):
    unit_cost: Price


class SupplierSkuRead(BaseModel):
    sku: str
    supplier_id: str
    unit_cost: Decimal

    @classmethod
    def of(cls, link: SupplierSku) -> SupplierSkuRead:
        return cls(sku=link.sku, supplier_id=str(link.supplier_id), unit_cost=link.unit_cost)


class PurchaseLineRead(SuggestionRead):
    unit_cost: Decimal
    cost: Decimal = Field(description="quantity x unit cost")


class SupplierSuggestionRead(BaseModel):
    supplier_id: str
    name: str
    currency: str
    lead_time_days: int
    moq: int
    pack_size: int
    total: Decimal = Field(description="The lines' cost at the supplier's unit costs")
    lines: list[PurchaseLineRead]


class TransferSuggestionRead(BaseModel):
    sku: str
    from_location: str
    to_location: str
    quantity: int
    reason: str


class PurchaseSuggestionsRead(BaseModel):
    review_period_days: int
    service_level: float
    transfers: list[TransferSuggestionRead] = Field(description="Make these before buying")
    suppliers: list[SupplierSuggestionRead]
    unlinked: list[str] = Field(description="SKUs forecast at a location with no supplier")

    @classmethod
    def of(cls, found: PurchaseSuggestions) -> PurchaseSuggestionsRead:
        return cls(
            review_period_days=found.review_period_days,
            service_level=found.service_level,
            transfers=[
                TransferSuggestionRead(
                    sku=t.sku,
                    from_location=t.from_location,
                    to_location=t.to_location,
                    quantity=t.quantity,
                    reason=t.reason,
                )
                for t in found.transfers
            ],
            suppliers=[
                SupplierSuggestionRead(
                    supplier_id=str(g.supplier.id),
                    name=g.supplier.name,
                    currency=g.supplier.currency,
                    lead_time_days=g.supplier.lead_time_days,
                    moq=g.supplier.moq,
                    pack_size=g.supplier.pack_size,
                    total=g.total,
                    lines=[
                        PurchaseLineRead(
                            **_suggestion(line.plan).model_dump(),
                            unit_cost=line.unit_cost,
                            cost=line.unit_cost * line.plan.quantity,
                        )
                        for line in g.lines
                    ],
                )
                for g in found.suppliers
            ],
            unlinked=found.unlinked,
        )


class DraftPurchaseOrdersRead(BaseModel):
    purchase_orders: list[PurchaseOrderRead]
