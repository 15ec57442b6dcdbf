"""/v1/transfers: stock moved between a tenant's locations (docs/inbound.md#transfers)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from oms.api.deps import ActorDep, CurrentPrincipal, GatewaysDep, GeocoderDep, UowDep
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import Code, Sku, Strict
from oms.domain.counts import Transfer, TransferStatus
from oms.domain.inventory import MAX_QUANTITY
from oms.services import transfers

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/transfers", tags=["inventory"])


class TransferLineIn(Strict):
    sku: Sku
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class TransferCreate(Strict):
    from_: Code = Field(alias="from", description="Where it leaves: a location id or code")
    to: Code = Field(description="Where it goes")
    lines: list[TransferLineIn] = Field(min_length=1, max_length=1000)


class TransferReceiptCreate(Strict):
    lines: list[TransferLineIn] = Field(min_length=1, max_length=1000)


class TransferLineRead(BaseModel):
    sku: str
    quantity: int
    received: int
    in_transit: int


class TransferRead(BaseModel):
    id: str
    from_: str = Field(serialization_alias="from")
    to: str
    status: TransferStatus
    lines: list[TransferLineRead]
    created_at: datetime
    shipped_at: datetime | None

    @classmethod
    def of(cls, t: Transfer) -> TransferRead:
        in_flight = t.status is TransferStatus.IN_TRANSIT
        return cls(
            id=str(t.id),
            from_=t.from_code,
            to=t.to_code,
            status=t.status,
            lines=[
                TransferLineRead(
                    sku=ln.sku,
                    quantity=ln.quantity,
                    received=ln.received,
                    in_transit=ln.in_transit if in_flight else 0,
                )
                for ln in t.lines
            ],
            created_at=t.created_at,
            shipped_at=t.shipped_at,
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TransferRead,
    response_model_by_alias=True,
)
def create_transfer(
    body: TransferCreate, principal: CurrentPrincipal, actor: ActorDep, uow: UowDep
) -> TransferRead:
    """A draft transfer between two locations the tenant uses."""
    found = transfers.create_transfer(
        uow_factory=uow,
        tenant_id=principal.require_tenant(),
        source=body.from_,
        target=body.to,
        lines=[(ln.sku, ln.quantity) for ln in body.lines],
        actor=actor,
    )
    return TransferRead.of(found)


@router.get("/{transfer_id}", response_model=TransferRead, response_model_by_alias=True)
def get_transfer(transfer_id: UUID, principal: CurrentPrincipal, uow: UowDep) -> TransferRead:
    return TransferRead.of(
        transfers.get_transfer(
            uow_factory=uow, tenant_id=principal.require_tenant(), transfer_id=transfer_id
        )
    )


@router.post("/{transfer_id}/ship", response_model=TransferRead, response_model_by_alias=True)
def ship(
    transfer_id: UUID, principal: CurrentPrincipal, actor: ActorDep, uow: UowDep
) -> TransferRead:
    """Pick and ship it: the units leave the source and are in transit (sellable nowhere)."""
    return TransferRead.of(
        transfers.ship_transfer(
            uow_factory=uow,
            tenant_id=principal.require_tenant(),
            transfer_id=transfer_id,
            actor=actor,
            operator=principal.is_operator,
        )
    )


@router.post("/{transfer_id}/receipts", response_model=TransferRead, response_model_by_alias=True)
def receive(
    transfer_id: UUID,
    body: TransferReceiptCreate,
    principal: CurrentPrincipal,
    actor: ActorDep,
    uow: UowDep,
    geocoder: GeocoderDep,
    gateways: GatewaysDep,
) -> TransferRead:
    """Receive units at the destination (repeatable, up to what is in transit)."""
    return TransferRead.of(
        transfers.receive_transfer(
            uow_factory=uow,
            tenant_id=principal.require_tenant(),
            transfer_id=transfer_id,
            lines=[(ln.sku, ln.quantity) for ln in body.lines],
            actor=actor,
            operator=principal.is_operator,
            geocoder=geocoder,
            gateways=gateways,
        )
    )
