"""Replenishment suggestions as the API returns them (docs/decisions.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from oms.services.replenishment import Suggestions

__all__ = ["SuggestionsRead"]


class SuggestionRead(BaseModel):
    sku: str
    location: str | None = Field(description="Location code; null: all locations together")
    quantity: int = Field(description="Units to order now (MOQ and packs applied)")
    position: int = Field(description="On hand less reserved now")
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
            suggestions=[
                SuggestionRead(
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
                for p in found.plans
            ],
        )
