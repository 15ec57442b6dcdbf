"""/v1/carrier-services (the operator's rate cards) and /v1/rates (rate shopping)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from oms.api.deps import CurrentPrincipal, GeocoderDep, PageDep, TenantId, UowDep, page_of_all
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import AddressIn, Code, Page, Strict
from oms.domain.shipping import Parcel
from oms.services import carriers
from oms.services.carriers import to_document

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1", tags=["carriers"])


class RateCardImport(Strict):
    format: Literal["csv", "yaml"]
    document: Annotated[str, StringConstraints(min_length=1, max_length=500_000)] = Field(
        description="The file's text; see docs/routing.md for both formats"
    )


class ImportRead(BaseModel):
    created: int
    updated: int


class CarrierServiceRead(BaseModel):
    carrier: str
    code: str
    name: str
    currency: str
    rate_card: dict[str, Any]


@router.post("/carrier-services/import", response_model=ImportRead)
def import_rate_cards(body: RateCardImport, principal: CurrentPrincipal, uow: UowDep) -> ImportRead:
    """Create or replace carrier services from a rate card file (operator keys only)."""
    result = carriers.import_rate_cards(
        uow_factory=uow, principal=principal, text=body.document, fmt=body.format
    )
    return ImportRead(created=result.created, updated=result.updated)


@router.get("/carrier-services", response_model=Page[CarrierServiceRead])
def list_services(
    principal: CurrentPrincipal, uow: UowDep, page: PageDep
) -> Page[CarrierServiceRead]:
    """Every active carrier service with its rate card (YAML import format), by carrier and
    code."""
    del principal  # any valid key may read the rate cards
    return page_of_all(
        carriers.list_carrier_services(uow_factory=uow),
        page,
        item=lambda s: CarrierServiceRead(
            carrier=s.carrier,
            code=s.code,
            name=s.name,
            currency=s.rate_card.currency,
            rate_card=to_document(s),
        ),
        # U+001F sorts before any printable character: the key orders as (carrier, code).
        cursor=lambda s: f"{s.carrier}\x1f{s.code}",
    )


class RateRequest(Strict):
    origin: Code = Field(description="The location code the parcel leaves from")
    destination: AddressIn
    weight_grams: int = Field(ge=1, le=1_000_000)
    length_mm: int | None = Field(default=None, ge=1, le=10_000)
    width_mm: int | None = Field(default=None, ge=1, le=10_000)
    height_mm: int | None = Field(default=None, ge=1, le=10_000)
    deliver_by: date | None = Field(default=None, description="Only services arriving by then")


class QuoteRead(BaseModel):
    carrier: str
    service: str
    zone: str
    price: str
    currency: str
    transit_days: int
    ship_on: date
    deliver_by: date


@router.post("/rates", response_model=list[QuoteRead])
def shop_rates(
    body: RateRequest, tenant_id: TenantId, uow: UowDep, geocoder: GeocoderDep
) -> list[QuoteRead]:
    """Every carrier service that can carry the parcel on that route, cheapest first."""
    quotes = carriers.shop_rates(
        uow_factory=uow,
        tenant_id=tenant_id,
        geocoder=geocoder,
        origin_code=body.origin,
        destination=body.destination.to_domain(),
        parcel=Parcel(
            weight_grams=body.weight_grams,
            length_mm=body.length_mm,
            width_mm=body.width_mm,
            height_mm=body.height_mm,
        ),
        deliver_by=body.deliver_by,
    )
    return [
        QuoteRead(
            carrier=q.carrier,
            service=q.service,
            zone=q.zone,
            price=format(q.price, "f"),
            currency=q.currency,
            transit_days=q.transit_days,
            ship_on=q.ship_on,
            deliver_by=q.deliver_by,
        )
        for q in quotes
    ]
