"""/v1/inbound-shipments: ASNs announced, received by scanning, put away, closed
(docs/inbound.md). The operator's keys see and work every merchant's; a merchant's, its own."""

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
    CloseRead,
    InboundReceiptCreate,
    InboundShipmentCreate,
    InboundShipmentRead,
    PutawayCreate,
    ScanRead,
)
from oms.domain.tenancy import Principal
from oms.services import inbound
from oms.services.ports import UnitOfWorkFactory

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/inbound-shipments", tags=["inbound"])


def _tenant(principal: Principal, uow: UnitOfWorkFactory, shipment_id: UUID) -> UUID:
    if not principal.is_operator:
        return principal.require_tenant()
    return inbound.tenant_for_shipment(
        uow_factory=uow, tenant_id=principal.tenant_id, shipment_id=shipment_id
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InboundShipmentRead)
def announce(
    body: InboundShipmentCreate, tenant_id: TenantId, actor: ActorDep, uow: UowDep
) -> InboundShipmentRead:
    """Announce stock on its way to a warehouse (a merchant may announce to the operator's)."""
    shipment = inbound.announce_shipment(
        uow_factory=uow, tenant_id=tenant_id, command=body.to_command(), actor=actor
    )
    return InboundShipmentRead.of(shipment)


@router.get("", response_model=Page[InboundShipmentRead])
def list_shipments(
    principal: CurrentPrincipal, uow: UowDep, page: PageDep
) -> Page[InboundShipmentRead]:
    """A merchant's own shipments; an operator key without OMS-Tenant: every merchant's."""
    tenant_id = principal.tenant_id if principal.is_operator else principal.require_tenant()
    found = inbound.list_shipments(
        uow_factory=uow,
        tenant_id=tenant_id,
        after_id=None if page.cursor is None else uuid_cursor(page.cursor),
        limit=page.limit + 1,
    )
    return page_of(found, page, item=InboundShipmentRead.of, cursor=lambda s: str(s.id))


@router.get("/{shipment_id}", response_model=InboundShipmentRead)
def get_shipment(
    shipment_id: UUID, principal: CurrentPrincipal, uow: UowDep
) -> InboundShipmentRead:
    """The shipment, its exceptions and where each line would be put away."""
    shipment, bins = inbound.get_shipment(
        uow_factory=uow,
        tenant_id=_tenant(principal, uow, shipment_id),
        shipment_id=shipment_id,
    )
    return InboundShipmentRead.of(shipment, bins)


@router.post("/{shipment_id}/receipts", response_model=ScanRead)
def receive(
    shipment_id: UUID,
    body: InboundReceiptCreate,
    principal: CurrentPrincipal,
    actor: ActorDep,
    uow: UowDep,
    geocoder: GeocoderDep,
    gateways: GatewaysDep,
) -> ScanRead:
    """Count scanned units (repeatable; a ``scan_id`` sent again is not counted again)."""
    scan = inbound.receive_scan(
        uow_factory=uow,
        # The operator's key without OMS-Tenant: the shipment's tenant, in the scan's own
        # transaction (not one of its own before it, as the other routes here).
        tenant_id=principal.tenant_id if principal.is_operator else principal.require_tenant(),
        shipment_id=shipment_id,
        lines=body.to_lines(),
        actor=actor,
        operator=principal.is_operator,
        scan_id=body.scan_id,
        carton=body.carton,
        geocoder=geocoder,
        gateways=gateways,
    )
    return ScanRead.of(scan)


@router.post("/{shipment_id}/putaway", response_model=InboundShipmentRead)
def put_away(
    shipment_id: UUID,
    body: PutawayCreate,
    principal: CurrentPrincipal,
    actor: ActorDep,
    uow: UowDep,
) -> InboundShipmentRead:
    """Put received units into bins (the suggested one when no bin is named)."""
    shipment = inbound.put_away(
        uow_factory=uow,
        tenant_id=_tenant(principal, uow, shipment_id),
        shipment_id=shipment_id,
        lines=[inbound.PutawayLine(ln.sku, ln.quantity, ln.bin) for ln in body.lines],
        actor=actor,
        operator=principal.is_operator,
    )
    return InboundShipmentRead.of(shipment)


@router.post("/{shipment_id}/close", response_model=CloseRead)
def close(
    shipment_id: UUID, principal: CurrentPrincipal, actor: ActorDep, uow: UowDep
) -> CloseRead:
    """Close it: each line's expected, received, damaged and variance."""
    closed = inbound.close_shipment(
        uow_factory=uow,
        tenant_id=_tenant(principal, uow, shipment_id),
        shipment_id=shipment_id,
        actor=actor,
        operator=principal.is_operator,
    )
    return CloseRead.of(closed)
