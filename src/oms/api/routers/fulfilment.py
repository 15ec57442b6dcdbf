"""Fulfilment orders: the work queue per location, packing, shipping, pickup, documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from oms.api.deps import (
    ActorDep,
    CarriersDep,
    CurrentPrincipal,
    DocumentsDep,
    GatewaysDep,
    GeocoderDep,
    LocationFilter,
    PageDep,
    PickupKeyDep,
    TenantId,
    UowDep,
    page_of,
    page_of_all,
    parse_uuid,
    uuid_cursor,
)
from oms.api.one_hop import OneHopRoute
from oms.api.responses import PDF_RESPONSE, REPLAYED_CREATE, create_status, pdf_response
from oms.api.schemas.common import Page
from oms.api.schemas.fulfilment import (
    FulfillmentOrderRead,
    MoveIn,
    PackageIn,
    PackageRead,
    PickupIn,
    RejectIn,
    ShipmentIn,
    ShipmentRead,
)
from oms.domain import lengths
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.fulfilment import FulfillmentOrderStatus
from oms.services import documents, fulfilment, fulfilment_changes, packing, pickup, shipping

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/fulfillment-orders", tags=["fulfilment"])


def _statuses(raw: list[str]) -> tuple[str, ...]:
    wanted = [part.strip() for value in raw for part in value.split(",") if part.strip()]
    known = {s.value for s in FulfillmentOrderStatus}
    wrong = [s for s in wanted if s not in known]
    if wrong:
        raise InvalidRequest(
            "Unknown status", [FieldError("query:status", f"one of: {', '.join(sorted(known))}")]
        )
    return tuple(wanted)


@router.get("", response_model=Page[FulfillmentOrderRead])
def list_fulfillment_orders(
    principal: CurrentPrincipal,
    uow: UowDep,
    page: PageDep,
    location: LocationFilter = None,
    status_: Annotated[
        list[str],
        Query(alias="status", description="Statuses, repeated or comma-separated"),
    ] = [],  # noqa: B006 (FastAPI copies query defaults)
) -> Page[FulfillmentOrderRead]:
    """A location's queue of work (or all of the tenant's), oldest first. An operator key
    without OMS-Tenant gets one of its own locations' queue across every merchant."""
    found = fulfilment.list_fulfillment_orders(
        uow_factory=uow,
        principal=principal,
        location_code=location,
        statuses=_statuses(status_),
        after_id=None if page.cursor is None else uuid_cursor(page.cursor),
        limit=page.limit + 1,
    )
    return page_of(found, page, item=FulfillmentOrderRead.of, cursor=lambda fo: str(fo.id))


@router.get("/{fulfillment_order_id}", response_model=FulfillmentOrderRead)
def get_fulfillment_order(
    fulfillment_order_id: str, tenant_id: TenantId, uow: UowDep
) -> FulfillmentOrderRead:
    fo = fulfilment.get_fulfillment_order(
        uow_factory=uow,
        tenant_id=tenant_id,
        fo_id=parse_uuid(fulfillment_order_id, "fulfilment order"),
    )
    return FulfillmentOrderRead.of(fo)


@router.post("/{fulfillment_order_id}/reject", response_model=FulfillmentOrderRead)
def reject_fulfillment_order(
    fulfillment_order_id: str,
    body: RejectIn,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    geocoder: GeocoderDep,
) -> FulfillmentOrderRead:
    """The location cannot fulfil it: the units are routed again, never back here."""
    located = fulfilment_changes.reject_fulfillment_order(
        uow_factory=uow,
        tenant_id=tenant_id,
        fo_id=parse_uuid(fulfillment_order_id, "fulfilment order"),
        reason=body.reason,
        actor=actor,
        geocoder=geocoder,
    )
    return FulfillmentOrderRead.of(located.fo)


@router.post("/{fulfillment_order_id}/move", response_model=list[FulfillmentOrderRead])
def move_fulfillment_order(
    fulfillment_order_id: str,
    body: MoveIn,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    geocoder: GeocoderDep,
) -> list[FulfillmentOrderRead]:
    """Move the work to another location (409 when it cannot take all of it); answers the
    order's fulfilment orders, the new one included."""
    located = fulfilment_changes.move_fulfillment_order(
        uow_factory=uow,
        tenant_id=tenant_id,
        fo_id=parse_uuid(fulfillment_order_id, "fulfilment order"),
        to_location=body.location,
        actor=actor,
        geocoder=geocoder,
    )
    fos = fulfilment.fulfillment_orders_of_order(
        uow_factory=uow, tenant_id=tenant_id, order_id=located.order.id
    )
    return [FulfillmentOrderRead.of(fo) for fo in fos]


@router.post(
    "/{fulfillment_order_id}/packages",
    response_model=PackageRead,
    status_code=status.HTTP_201_CREATED,
)
def pack(
    fulfillment_order_id: str, body: PackageIn, tenant_id: TenantId, actor: ActorDep, uow: UowDep
) -> PackageRead:
    """Pack the scanned units into one package; a wrong or surplus scan is refused (422)."""
    result = packing.pack(
        uow_factory=uow,
        tenant_id=tenant_id,
        fo_id=parse_uuid(fulfillment_order_id, "fulfilment order"),
        request=packing.PackRequest(
            scans=body.scans,
            box=body.box,
            weight_grams=body.weight_grams,
            length_mm=body.length_mm,
            width_mm=body.width_mm,
            height_mm=body.height_mm,
        ),
        actor=actor,
    )
    return PackageRead.of(result.package)


@router.get("/{fulfillment_order_id}/packages", response_model=Page[PackageRead])
def list_packages(
    fulfillment_order_id: str, tenant_id: TenantId, uow: UowDep, page: PageDep
) -> Page[PackageRead]:
    """The fulfilment order's packages, oldest first."""
    found = fulfilment.packages_of(
        uow_factory=uow,
        tenant_id=tenant_id,
        fo_id=parse_uuid(fulfillment_order_id, "fulfilment order"),
    )
    return page_of_all(found, page, item=PackageRead.of, cursor=lambda p: str(p.id))


@router.delete("/{fulfillment_order_id}/packages/{package_id}", response_model=FulfillmentOrderRead)
def unpack(
    fulfillment_order_id: str, package_id: str, tenant_id: TenantId, actor: ActorDep, uow: UowDep
) -> FulfillmentOrderRead:
    """Take a package that has not shipped apart; its units are to be packed again (409 once
    it has shipped)."""
    fo = packing.unpack(
        uow_factory=uow,
        tenant_id=tenant_id,
        fo_id=parse_uuid(fulfillment_order_id, "fulfilment order"),
        package_id=parse_uuid(package_id, "package"),
        actor=actor,
    )
    return FulfillmentOrderRead.of(fo)


@router.post(
    "/{fulfillment_order_id}/shipments",
    response_model=ShipmentRead,
    status_code=status.HTTP_201_CREATED,
    responses=REPLAYED_CREATE,
)
def create_shipment(
    fulfillment_order_id: str,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    gateways: GatewaysDep,
    carriers: CarriersDep,
    response: Response,
    body: ShipmentIn | None = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=lengths.IDEMPOTENCY_KEY,
            description="Repeat the call with the same key: the same shipment, no second label",
        ),
    ] = None,
) -> ShipmentRead:
    """Buy a label and ship packed packages: stock leaves, payment for them is captured
    (201); a retry with the same Idempotency-Key answers the first shipment (200)."""
    given = body or ShipmentIn()
    made = shipping.create_shipment(
        uow_factory=uow,
        gateways=gateways,
        carriers=carriers,
        tenant_id=tenant_id,
        fo_id=parse_uuid(fulfillment_order_id, "fulfilment order"),
        request=shipping.ShipRequest(
            package_ids=given.package_ids,
            carrier=given.carrier,
            service=given.service,
            idempotency_key=idempotency_key,
        ),
        actor=actor,
    )
    response.status_code = create_status(made.created)
    return ShipmentRead.of(made.resource)


@router.post("/{fulfillment_order_id}/pickup", response_model=FulfillmentOrderRead)
def collect_pickup(
    fulfillment_order_id: str,
    body: PickupIn,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    gateways: GatewaysDep,
    pickup_key: PickupKeyDep,
) -> FulfillmentOrderRead:
    """The customer shows the one-time pickup code at the counter: 422 when wrong, 423 (with
    Retry-After) while locked after too many wrong codes."""
    located = pickup.collect_pickup(
        uow_factory=uow,
        gateways=gateways,
        pickup_key=pickup_key,
        tenant_id=tenant_id,
        fo_id=parse_uuid(fulfillment_order_id, "fulfilment order"),
        code=body.code,
        actor=actor,
    )
    return FulfillmentOrderRead.of(located.fo)


@router.get("/{fulfillment_order_id}/packing-slip", response_class=Response, responses=PDF_RESPONSE)
def packing_slip(
    fulfillment_order_id: str, tenant_id: TenantId, uow: UowDep, renderer: DocumentsDep
) -> Response:
    """The packing slip of a fulfilment order, as PDF."""
    document = documents.packing_slip_document(
        uow_factory=uow,
        tenant_id=tenant_id,
        fo_id=parse_uuid(fulfillment_order_id, "fulfilment order"),
        renderer=renderer,
        now=datetime.now(UTC),
    )
    return pdf_response(document.content, document.filename)
