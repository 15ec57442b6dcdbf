"""/v1/replenishment/suggestions: what to order now, from the latest forecasts; per supplier
(from each SKU's supplier link) with transfers between locations first, or under terms given
in the request; a supplier's suggestions as draft purchase orders in one call."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from oms.api.deps import ActorDep, TenantId, UowDep
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.inbound import PurchaseOrderRead
from oms.api.schemas.replenishment import (
    DraftPurchaseOrdersRead,
    PurchaseSuggestionsRead,
    SuggestionsRead,
    SupplierSkuRead,
    SupplierSkuUpdate,
)
from oms.domain.replenishment import SupplyTerms
from oms.services.common import utcnow
from oms.services.replenishment import (
    draft_purchase_orders,
    link_supplier_sku,
    suggest_purchases,
    suggest_replenishment,
)

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, tags=["replenishment"])

ReviewDays = Annotated[int, Query(ge=0, le=365, description="Days between orders")]
ServiceLevel = Annotated[
    float, Query(ge=0.5, lt=1, description="Wanted chance of no stock-out over a lead time")
]


@router.get(
    "/v1/replenishment/suggestions", response_model=PurchaseSuggestionsRead | SuggestionsRead
)
def list_suggestions(
    tenant_id: TenantId,
    uow: UowDep,
    lead_time_days: Annotated[
        int | None,
        Query(description="Days from order to receipt; given: plan under these terms only"),
    ] = None,
    review_period_days: ReviewDays = 7,
    service_level: ServiceLevel = 0.95,
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
) -> PurchaseSuggestionsRead | SuggestionsRead:
    """Without ``lead_time_days``: per supplier (each SKU's supplier link gives lead time,
    MOQ and pack size), every location planned with stock on order, transfers between
    locations suggested before buying. With it: the SKUs to order under those terms at
    ``location`` (or all together). Each line has its quantity and the reason in words."""
    if lead_time_days is None:
        return PurchaseSuggestionsRead.of(
            suggest_purchases(
                uow_factory=uow,
                tenant_id=tenant_id,
                today=utcnow().date(),
                review_period_days=review_period_days,
                service_level=service_level,
                skus=sku,
                include_no_order=all_skus,
            )
        )
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


@router.post(
    "/v1/replenishment/suggestions/{supplier_id}/draft-po",
    status_code=status.HTTP_201_CREATED,
    response_model=DraftPurchaseOrdersRead,
)
def draft_po(
    supplier_id: UUID,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    review_period_days: ReviewDays = 7,
    service_level: ServiceLevel = 0.95,
) -> DraftPurchaseOrdersRead:
    """The supplier's suggested purchases now as draft purchase orders, one per location
    (409 when there is nothing to buy from it, 404 for an unknown supplier)."""
    now = utcnow()
    pos = draft_purchase_orders(
        uow_factory=uow,
        tenant_id=tenant_id,
        supplier_id=supplier_id,
        today=now.date(),
        actor=actor,
        at=now,
        review_period_days=review_period_days,
        service_level=service_level,
    )
    return DraftPurchaseOrdersRead(purchase_orders=[PurchaseOrderRead.of(po) for po in pos])


@router.put("/v1/suppliers/{supplier_id}/skus/{sku}", response_model=SupplierSkuRead)
def link_sku(
    supplier_id: UUID, sku: str, body: SupplierSkuUpdate, tenant_id: TenantId, uow: UowDep
) -> SupplierSkuRead:
    """Buy the SKU from this supplier at ``unit_cost`` (replaces its earlier supplier)."""
    return SupplierSkuRead.of(
        link_supplier_sku(
            uow_factory=uow,
            tenant_id=tenant_id,
            supplier_id=supplier_id,
            sku=sku,
            unit_cost=Decimal(body.unit_cost),
            at=utcnow(),
        )
    )
