"""/v1/replenishment/suggestions: what to order now, from the latest forecasts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from oms.api.deps import TenantId, UowDep
from oms.api.schemas.replenishment import SuggestionsRead
from oms.domain.replenishment import SupplyTerms
from oms.services.common import utcnow
from oms.services.replenishment import suggest_replenishment

__all__ = ["router"]

router = APIRouter(prefix="/v1/replenishment", tags=["replenishment"])


@router.get("/suggestions", response_model=SuggestionsRead)
def list_suggestions(
    tenant_id: TenantId,
    uow: UowDep,
    lead_time_days: Annotated[int, Query(description="Days from order to receipt")],
    review_period_days: Annotated[int, Query(description="Days between orders")] = 7,
    service_level: Annotated[
        float, Query(description="Wanted chance of no stock-out over a lead time")
    ] = 0.95,
    moq: Annotated[int, Query(description="The supplier's minimum order quantity")] = 1,
    pack_size: Annotated[int, Query(description="Orders are whole packs of this")] = 1,
    supplier: Annotated[str | None, Query(description="Named back in the answer")] = None,
    location: Annotated[
        str | None, Query(description="A location code; default: all locations together")
    ] = None,
    sku: Annotated[list[str] | None, Query(description="Only these SKUs")] = None,
    all_skus: Annotated[
        bool, Query(alias="all", description="Also the SKUs with nothing to order")
    ] = False,
) -> SuggestionsRead:
    """The SKUs to order under one supplier's terms, each with its reorder point,
    order-up-to level, quantity and the reason in words (422 for bad terms)."""
    terms = SupplyTerms(
        lead_time_days=lead_time_days,
        review_period_days=review_period_days,
        service_level=service_level,
        moq=moq,
        pack_size=pack_size,
        supplier=supplier,
    )
    found = suggest_replenishment(
        uow_factory=uow,
        tenant_id=tenant_id,
        terms=terms,
        today=utcnow().date(),
        location=location,
        skus=sku,
        include_no_order=all_skus,
    )
    return SuggestionsRead.of(found)
