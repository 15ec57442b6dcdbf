"""Pick waves: batch a location's open work, print the pick list, confirm what was found."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from oms.api.deps import (
    ActorDep,
    DocumentsDep,
    GeocoderDep,
    LocationFilter,
    LocationRef,
    PageDep,
    PickupKeyDep,
    TenantId,
    UowDep,
    page_of,
    parse_uuid,
    uuid_cursor,
)
from oms.api.one_hop import OneHopRoute
from oms.api.responses import PDF_RESPONSE, pdf_response
from oms.api.schemas.common import Page
from oms.api.schemas.fulfilment import FulfillmentOrderRead, PickConfirmIn, WaveIn, WaveRead
from oms.domain.errors import FieldError, InvalidRequest, NotFound
from oms.domain.picking import WaveStatus
from oms.services import documents, picking

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, tags=["fulfilment"])


@router.post(
    "/v1/locations/{location}/pick-waves",
    response_model=WaveRead,
    status_code=status.HTTP_201_CREATED,
)
def create_wave(
    location: LocationRef,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    body: WaveIn | None = None,
) -> WaveRead:
    """Batch the location's most urgent open fulfilment orders (carrier cut-off, promised
    date, priority, age) into a wave; 409 when there is nothing to pick."""
    given = body or WaveIn()
    result = picking.create_wave(
        uow_factory=uow,
        tenant_id=tenant_id,
        location_code=location,
        max_orders=given.max_orders,
        max_units=given.max_units,
        actor=actor,
    )
    view = picking.wave_pick_list(uow_factory=uow, tenant_id=tenant_id, wave_id=result.wave.id)
    read = WaveRead.of_view(view)
    read.fulfillment_orders = [FulfillmentOrderRead.of(fo) for fo in result.fulfillment_orders]
    return read


@router.get("/v1/pick-waves", response_model=Page[WaveRead])
def list_waves(
    tenant_id: TenantId,
    uow: UowDep,
    page: PageDep,
    location: LocationFilter = None,
    status_: Annotated[WaveStatus | None, Query(alias="status")] = None,
) -> Page[WaveRead]:
    """The floor's waves, newest first: open ones are out being picked."""
    try:
        found = picking.list_waves(
            uow_factory=uow,
            tenant_id=tenant_id,
            location_code=location,
            status=status_,
            before_id=None if page.cursor is None else uuid_cursor(page.cursor),
            limit=page.limit + 1,
        )
    except NotFound:
        raise InvalidRequest(
            "Unknown location", [FieldError("query:location", f"no location {location!r}")]
        ) from None
    return page_of(
        found, page, item=lambda pair: WaveRead.of(*pair), cursor=lambda pair: str(pair[0].id)
    )


@router.get("/v1/pick-waves/{wave_id}", response_model=WaveRead)
def get_wave(wave_id: str, tenant_id: TenantId, uow: UowDep) -> WaveRead:
    """The wave and what is still to pick, in walking order by bin."""
    view = picking.wave_pick_list(
        uow_factory=uow, tenant_id=tenant_id, wave_id=parse_uuid(wave_id, "pick wave")
    )
    return WaveRead.of_view(view)


@router.post("/v1/pick-waves/{wave_id}/confirm", response_model=WaveRead)
def confirm_wave(
    wave_id: str,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    geocoder: GeocoderDep,
    pickup_key: PickupKeyDep,
    body: PickConfirmIn | None = None,
) -> WaveRead:
    """Confirm the picks: shortfalls are written off at the location and routed again; store
    pickups become ready with a one-time code (in the answer, once)."""
    given = body or PickConfirmIn()
    result = picking.confirm_picks(
        uow_factory=uow,
        tenant_id=tenant_id,
        wave_id=parse_uuid(wave_id, "pick wave"),
        confirmations=None
        if given.lines is None
        else [
            picking.PickConfirmation(line.fulfillment_order_id, line.sku, line.picked)
            for line in given.lines
        ],
        actor=actor,
        pickup_key=pickup_key,
        geocoder=geocoder,
    )
    codes = {fo.location_code for fo in result.fulfillment_orders}
    return WaveRead.of_result(result, next(iter(codes)) if len(codes) == 1 else None)


@router.get("/v1/pick-waves/{wave_id}/pick-list", response_class=Response, responses=PDF_RESPONSE)
def pick_list_pdf(
    wave_id: str, tenant_id: TenantId, uow: UowDep, renderer: DocumentsDep
) -> Response:
    """The wave's pick list as PDF, sorted by bin."""
    document = documents.pick_list_document(
        uow_factory=uow,
        tenant_id=tenant_id,
        wave_id=parse_uuid(wave_id, "pick wave"),
        renderer=renderer,
    )
    return pdf_response(document.content, document.filename)
