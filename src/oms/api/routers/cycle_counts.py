"""/v1/cycle-counts: count sheets, blind counts, variance review, approval (docs/inbound.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, StringConstraints

from oms.api.deps import ActorDep, CurrentPrincipal, GatewaysDep, GeocoderDep, UowDep
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import Code, Sku, Strict
from oms.domain import lengths
from oms.domain.counts import CountSheet, CountStatus
from oms.domain.inventory import MAX_QUANTITY
from oms.services import cycle_counts
from oms.services.cycle_counts import ReviewLine

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/cycle-counts", tags=["inventory"])

BinCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.BIN)
]


class CountSheetCreate(Strict):
    location: Code = Field(description="The location counted: its id or code")
    skus: list[Sku] = Field(default_factory=list, max_length=1000)
    bins: list[BinCode] = Field(
        default_factory=list, max_length=1000, description="Count the SKUs kept in these bins"
    )
    blind: bool = Field(default=True, description="Hide on-hand figures until counted")


class CountEntry(Strict):
    sku: Sku
    counted: int = Field(ge=0, le=MAX_QUANTITY)


class CountsCreate(Strict):
    lines: list[CountEntry] = Field(min_length=1, max_length=1000)


class ApprovalCreate(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CountLineRead(BaseModel):
    sku: str
    bin: str | None
    on_hand: int | None = Field(description="Null on a blind sheet until every line is counted")
    counted: int | None
    variance: int | None


class CountSheetRead(BaseModel):
    id: str
    location: str
    blind: bool
    status: CountStatus
    lines: list[CountLineRead]
    created_at: datetime
    approved_at: datetime | None
    reason: str | None

    @classmethod
    def of(cls, sheet: CountSheet, lines: list[ReviewLine]) -> CountSheetRead:
        return cls(
            id=str(sheet.id),
            location=sheet.location_code,
            blind=sheet.blind,
            status=sheet.status,
            lines=[
                CountLineRead(
                    sku=ln.sku,
                    bin=ln.bin,
                    on_hand=ln.on_hand,
                    counted=ln.counted,
                    variance=ln.variance,
                )
                for ln in lines
            ],
            created_at=sheet.created_at,
            approved_at=sheet.approved_at,
            reason=sheet.reason,
        )


def _read(uow: UowDep, tenant_id: UUID, sheet_id: UUID) -> CountSheetRead:
    sheet, lines = cycle_counts.review_count(
        uow_factory=uow, tenant_id=tenant_id, sheet_id=sheet_id
    )
    return CountSheetRead.of(sheet, lines)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CountSheetRead)
def create_count(
    body: CountSheetCreate, principal: CurrentPrincipal, actor: ActorDep, uow: UowDep
) -> CountSheetRead:
    """A count sheet by SKU, by bin, or (neither) for every SKU stocked at the location."""
    tenant_id = principal.require_tenant()
    sheet = cycle_counts.create_count(
        uow_factory=uow,
        tenant_id=tenant_id,
        location=body.location,
        skus=body.skus,
        bins=body.bins,
        blind=body.blind,
        actor=actor,
        operator=principal.is_operator,
    )
    return _read(uow, tenant_id, sheet.id)


@router.get("/{sheet_id}", response_model=CountSheetRead)
def review(sheet_id: UUID, principal: CurrentPrincipal, uow: UowDep) -> CountSheetRead:
    """The sheet with each line's variance (a blind sheet's once fully counted)."""
    return _read(uow, principal.require_tenant(), sheet_id)


@router.post("/{sheet_id}/counts", response_model=CountSheetRead)
def record(
    sheet_id: UUID, body: CountsCreate, principal: CurrentPrincipal, uow: UowDep
) -> CountSheetRead:
    """Write counted figures (repeatable: a recount replaces the figure)."""
    tenant_id = principal.require_tenant()
    cycle_counts.record_counts(
        uow_factory=uow,
        tenant_id=tenant_id,
        sheet_id=sheet_id,
        counts=[(ln.sku, ln.counted) for ln in body.lines],
        operator=principal.is_operator,
    )
    return _read(uow, tenant_id, sheet_id)


@router.post("/{sheet_id}/approve", response_model=CountSheetRead)
def approve(
    sheet_id: UUID,
    body: ApprovalCreate,
    principal: CurrentPrincipal,
    actor: ActorDep,
    uow: UowDep,
    geocoder: GeocoderDep,
    gateways: GatewaysDep,
) -> CountSheetRead:
    """Post each variance as a ``count`` movement with the reason (all lines or none)."""
    tenant_id = principal.require_tenant()
    cycle_counts.approve_count(
        uow_factory=uow,
        tenant_id=tenant_id,
        sheet_id=sheet_id,
        reason=body.reason,
        actor=actor,
        operator=principal.is_operator,
        geocoder=geocoder,
        gateways=gateways,
    )
    return _read(uow, tenant_id, sheet_id)
