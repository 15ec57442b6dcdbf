"""Shipments, their labels and tracking, carrier webhooks, and an order's deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from oms.api.deps import (
    CarrierSignaturesDep,
    DocumentsDep,
    DownloadsDep,
    GatewaysDep,
    PageDep,
    TenantId,
    UowDep,
    page_of_all,
    parse_uuid,
)
from oms.api.one_hop import OneHopRoute
from oms.api.responses import PDF_RESPONSE, pdf_response
from oms.api.schemas.common import Page
from oms.api.schemas.fulfilment import (
    CarrierEventsIn,
    CarrierEventsOut,
    DownloadOut,
    FulfillmentOrderRead,
    ShipmentRead,
)
from oms.domain.tracking import TrackingEvent
from oms.services import carrier_webhooks, documents, downloads, fulfilment, shipping, tracking
from oms.services.common import utcnow
from oms.services.parcel_claims import ExceptionHandler

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, tags=["fulfilment"])

SIGNATURE_HEADER = "X-OMS-Signature"


@router.get("/v1/shipments/{shipment_id}", response_model=ShipmentRead)
def get_shipment(shipment_id: str, tenant_id: TenantId, uow: UowDep) -> ShipmentRead:
    """A shipment with its tracking events."""
    shipment = shipping.get_shipment(
        uow_factory=uow, tenant_id=tenant_id, shipment_id=parse_uuid(shipment_id, "shipment")
    )
    return ShipmentRead.of(shipment)


@router.get("/v1/shipments/{shipment_id}/label", response_class=Response, responses=PDF_RESPONSE)
def shipping_label(
    shipment_id: str, tenant_id: TenantId, uow: UowDep, renderer: DocumentsDep
) -> Response:
    """The 4x6 shipping label(s) with the tracking number as Code 128, one page a package."""
    document = documents.labels_document(
        uow_factory=uow,
        tenant_id=tenant_id,
        shipment_id=parse_uuid(shipment_id, "shipment"),
        renderer=renderer,
    )
    return pdf_response(document.content, document.filename)


@router.get("/v1/orders/{order_id}/shipments", response_model=Page[ShipmentRead])
def order_shipments(
    order_id: str, tenant_id: TenantId, uow: UowDep, page: PageDep
) -> Page[ShipmentRead]:
    """Every shipment of the order, oldest first."""
    found = shipping.shipments_of_order(
        uow_factory=uow, tenant_id=tenant_id, order_id=parse_uuid(order_id, "order")
    )
    return page_of_all(found, page, item=ShipmentRead.of, cursor=lambda s: str(s.id))


@router.get("/v1/orders/{order_id}/fulfillment-orders", response_model=Page[FulfillmentOrderRead])
def order_fulfillment_orders(
    order_id: str, tenant_id: TenantId, uow: UowDep, page: PageDep
) -> Page[FulfillmentOrderRead]:
    """The order's fulfilment orders, oldest first: one per location (and per move or
    reroute)."""
    found = fulfilment.fulfillment_orders_of_order(
        uow_factory=uow, tenant_id=tenant_id, order_id=parse_uuid(order_id, "order")
    )
    return page_of_all(found, page, item=FulfillmentOrderRead.of, cursor=lambda fo: str(fo.id))


@router.get("/v1/orders/{order_id}/downloads", response_model=Page[DownloadOut])
def order_downloads(
    order_id: str, tenant_id: TenantId, uow: UowDep, signer: DownloadsDep, page: PageDep
) -> Page[DownloadOut]:
    """Signed download links of the order's delivered digital lines (in line order), valid
    for the tenant's ``download_link_days`` from delivery."""
    found = downloads.download_links(
        uow_factory=uow, tenant_id=tenant_id, order_id=parse_uuid(order_id, "order"), links=signer
    )
    return page_of_all(
        found,
        page,
        item=lambda d: DownloadOut(
            line_no=d.line_no, sku=d.sku, url=d.url, expires_at=d.expires_at
        ),
        cursor=lambda d: f"{d.line_no:010d}",
    )


@router.get("/downloads/{token}", tags=["public"], status_code=307)
def download(token: str, uow: UowDep, signer: DownloadsDep) -> RedirectResponse:
    """A customer's download link: redirects to the file while the link is valid (410 after,
    404 for anything forged)."""
    target = downloads.open_download(
        uow_factory=uow, token=token, links=signer, now=datetime.now(UTC)
    )
    return RedirectResponse(target, status_code=307)


@router.post("/v1/carriers/{carrier}/events", response_model=CarrierEventsOut, tags=["carriers"])
async def carrier_events(
    carrier: str,
    request: Request,
    signatures: CarrierSignaturesDep,
    uow: UowDep,
    gateways: GatewaysDep,
    signature: Annotated[
        str | None,
        Header(alias=SIGNATURE_HEADER, description="sha256=<hex HMAC of the raw body>"),
    ] = None,
) -> CarrierEventsOut:
    """Tracking events from a carrier, signed with HMAC-SHA256 of the raw body (401 and
    nothing read when the signature is missing or wrong); each event id counts once."""
    body = await request.body()
    carrier_webhooks.authenticate_carrier_events(body=body, signature=signature, check=signatures)
    try:
        parsed = CarrierEventsIn.model_validate_json(body)
    except ValidationError as invalid:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in invalid.errors()]
        ) from None
    events = [
        tracking.CarrierEvent(
            e.tracking_number,
            TrackingEvent(
                event_id=e.id,
                status=e.status,
                occurred_at=e.occurred_at,
                location=e.location,
                description=e.description,
            ),
        )
        for e in parsed.events
    ]
    report = await run_in_threadpool(
        tracking.record_carrier_events,
        uow_factory=uow,
        carrier=carrier,
        events=events,
        on_exception=ExceptionHandler(uow, gateways, utcnow()),
    )
    return CarrierEventsOut(
        accepted=report.accepted,
        duplicates=report.duplicates,
        unknown_tracking_numbers=report.unknown,
    )
