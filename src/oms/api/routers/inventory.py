"""/v1/inventory: availability per SKU and location, adjustments, and the ledger."""

from __future__ import annotations

from fastapi import APIRouter, status

from oms.api.deps import (
    ActorDep,
    GatewaysDep,
    GeocoderDep,
    LocationFilter,
    PageDep,
    TenantId,
    UowDep,
    page_of,
    uuid_cursor,
)
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import Page
from oms.api.schemas.inbound import IncomingRead
from oms.api.schemas.inventory import (
    AdjustmentCreate,
    InTransitRead,
    MovementRead,
    StockRead,
    StockWithIncomingRead,
)
from oms.services import incoming, inventory, transfers

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/inventory", tags=["inventory"])


@router.post("/adjustments", status_code=status.HTTP_201_CREATED, response_model=StockRead)
def adjust(
    body: AdjustmentCreate,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    geocoder: GeocoderDep,
    gateways: GatewaysDep,
) -> StockRead:
    """Change on-hand stock by ``delta`` or to a counted ``set_on_hand``; returns the stock.
    Backorders waiting for it are routed at once (a released order's digital value captured)."""
    command = body.to_command()
    inventory.adjust_inventory(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=command,
        actor=actor,
        geocoder=geocoder,
        gateways=gateways,
    )
    return StockRead.of(inventory.get_stock(uow_factory=uow, tenant_id=tenant_id, sku=command.sku))


@router.get("", response_model=Page[StockRead])
def list_stock(tenant_id: TenantId, uow: UowDep, page: PageDep) -> Page[StockRead]:
    found = inventory.list_stock(
        uow_factory=uow, tenant_id=tenant_id, after_sku=page.cursor, limit=page.limit + 1
    )
    return page_of(
        found,
        page,
        item=lambda s: StockRead.of(s),
        cursor=lambda s: s.product.sku,
    )


@router.get("/{sku}", response_model=StockWithIncomingRead, response_model_by_alias=True)
def get_stock(sku: str, tenant_id: TenantId, uow: UowDep) -> StockWithIncomingRead:
    """Totals, one row per location, and what open purchase orders bring, by date."""
    stock = StockRead.of(inventory.get_stock(uow_factory=uow, tenant_id=tenant_id, sku=sku))
    return StockWithIncomingRead(
        **stock.model_dump(),
        incoming=[
            IncomingRead.of(s)
            for s in incoming.incoming_supply(uow_factory=uow, tenant_id=tenant_id, sku=sku)
        ],
        in_transit=[
            InTransitRead(from_=src, to=dst, quantity=units, transfer_id=str(transfer_id))
            for src, dst, units, transfer_id in transfers.in_transit(
                uow_factory=uow, tenant_id=tenant_id, sku=sku
            )
        ],
    )


@router.get("/{sku}/movements", response_model=Page[MovementRead])
def list_movements(
    sku: str,
    tenant_id: TenantId,
    uow: UowDep,
    page: PageDep,
    location: LocationFilter = None,
) -> Page[MovementRead]:
    """The SKU's ledger, oldest first: every change of on hand, signed, and who made it."""
    found = inventory.list_movements(
        uow_factory=uow,
        tenant_id=tenant_id,
        sku=sku,
        location_code=location,
        after_id=None if page.cursor is None else uuid_cursor(page.cursor),
        limit=page.limit + 1,
    )
    return page_of(
        found,
        page,
        item=lambda m: MovementRead.of(m),
        cursor=lambda m: str(m.id),
    )
