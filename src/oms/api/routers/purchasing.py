"""/v1/suppliers and /v1/purchase-orders: buying stock (docs/inbound.md)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from oms.api.deps import (
    ActorDep,
    CurrentPrincipal,
    GatewaysDep,
    GeocoderDep,
    PageDep,
    TenantId,
    UowDep,
    page_of,
    uuid_cursor,
)
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import Page
from oms.api.schemas.inbound import (
    PurchaseOrderCreate,
    PurchaseOrderRead,
    PurchaseOrderReceiptCreate,
    SupplierCreate,
    SupplierRead,
)
from oms.services import purchasing

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, tags=["purchasing"])


def _cursor(page_cursor: str | None) -> UUID | None:
    return None if page_cursor is None else uuid_cursor(page_cursor)


@router.post("/v1/suppliers", status_code=status.HTTP_201_CREATED, response_model=SupplierRead)
def create_supplier(body: SupplierCreate, tenant_id: TenantId, uow: UowDep) -> SupplierRead:
    """Add a supplier: lead time in days, minimum order (MOQ) and pack size in units."""
    return SupplierRead.of(
        purchasing.create_supplier(uow_factory=uow, tenant_id=tenant_id, command=body.to_command())
    )


@router.get("/v1/suppliers", response_model=Page[SupplierRead])
def list_suppliers(tenant_id: TenantId, uow: UowDep, page: PageDep) -> Page[SupplierRead]:
    found = purchasing.list_suppliers(
        uow_factory=uow, tenant_id=tenant_id, after_id=_cursor(page.cursor), limit=page.limit + 1
    )
    return page_of(found, page, item=SupplierRead.of, cursor=lambda s: str(s.id))


@router.post(
    "/v1/purchase-orders", status_code=status.HTTP_201_CREATED, response_model=PurchaseOrderRead
)
def create_purchase_order(
    body: PurchaseOrderCreate, tenant_id: TenantId, actor: ActorDep, uow: UowDep
) -> PurchaseOrderRead:
    """A draft purchase order; its quantities count as incoming supply once sent."""
    po = purchasing.create_purchase_order(
        uow_factory=uow, tenant_id=tenant_id, command=body.to_command(), actor=actor
    )
    return PurchaseOrderRead.of(po)


@router.get("/v1/purchase-orders", response_model=Page[PurchaseOrderRead])
def list_purchase_orders(
    tenant_id: TenantId, uow: UowDep, page: PageDep
) -> Page[PurchaseOrderRead]:
    found = purchasing.list_purchase_orders(
        uow_factory=uow, tenant_id=tenant_id, after_id=_cursor(page.cursor), limit=page.limit + 1
    )
    return page_of(found, page, item=PurchaseOrderRead.of, cursor=lambda p: str(p.id))


@router.get("/v1/purchase-orders/{po_id}", response_model=PurchaseOrderRead)
def get_purchase_order(po_id: UUID, tenant_id: TenantId, uow: UowDep) -> PurchaseOrderRead:
    return PurchaseOrderRead.of(
        purchasing.get_purchase_order(uow_factory=uow, tenant_id=tenant_id, po_id=po_id)
    )


@router.post("/v1/purchase-orders/{po_id}/send", response_model=PurchaseOrderRead)
def send_purchase_order(po_id: UUID, tenant_id: TenantId, uow: UowDep) -> PurchaseOrderRead:
    """Draft to sent (409 otherwise)."""
    return PurchaseOrderRead.of(
        purchasing.send_purchase_order(uow_factory=uow, tenant_id=tenant_id, po_id=po_id)
    )


@router.post("/v1/purchase-orders/{po_id}/cancel", response_model=PurchaseOrderRead)
def cancel_purchase_order(po_id: UUID, tenant_id: TenantId, uow: UowDep) -> PurchaseOrderRead:
    """Cancel a draft or sent purchase order nothing was received on (409 otherwise)."""
    return PurchaseOrderRead.of(
        purchasing.cancel_purchase_order(uow_factory=uow, tenant_id=tenant_id, po_id=po_id)
    )


@router.post("/v1/purchase-orders/{po_id}/receipts", response_model=PurchaseOrderRead)
def receive_purchase_order(
    po_id: UUID,
    body: PurchaseOrderReceiptCreate,
    principal: CurrentPrincipal,
    actor: ActorDep,
    uow: UowDep,
    geocoder: GeocoderDep,
    gateways: GatewaysDep,
) -> PurchaseOrderRead:
    """Receive units (``receipt`` movements); waiting backorders are routed at once."""
    po = purchasing.receive_purchase_order(
        uow_factory=uow,
        tenant_id=principal.require_tenant(),
        po_id=po_id,
        lines=body.to_lines(),
        actor=actor,
        operator=principal.is_operator,
        geocoder=geocoder,
        gateways=gateways,
    )
    return PurchaseOrderRead.of(po)
