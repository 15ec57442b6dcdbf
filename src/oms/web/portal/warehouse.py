"""The warehouse screens for operator staff (docs/portal.md, "Warehouse screens"): a
location picker; per location, the open fulfilment orders by cut-off with what blocks
them, waves and ready pickups; creating a wave, its pick list (HTML print view and the
PDF) and confirming it; the pack station of one fulfilment order (scan by scan, box,
pack, packing slip, ship, label: ``oms.web.portal.pack_station``); handing a pickup over
with the customer's code.

Every page calls the use case the API calls (``picking``, ``packing``, ``shipping``,
``pickup``, ``documents``); every action carries the user as actor, so it lands in the
order's timeline under the user's name. Merchant users get a 403 page.

"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import (
    InvalidRequest,
    NotFound,
    OmsError,
)
from oms.domain.fulfilment import FulfillmentOrder, FulfillmentOrderStatus
from oms.domain.picking import WaveStatus
from oms.services import catalogue, documents, fulfilment, picking, pickup
from oms.services.order_overview import search_choices
from oms.web.portal.auth import (
    CheckedForm,
    PortalDep,
    Viewer,
    ViewerDep,
    app_state,
    checked_form,
)
from oms.web.portal.rendering import PortalPages, parse_uuid, refusal
from oms.web.portal.staff import not_found, page, pdf, principal, staff_tenant, staff_wave

__all__ = ["router"]

router = APIRouter(prefix="/app/warehouse", include_in_schema=False)

QUEUE_SIZE = 200
OPEN_WORK = (
    FulfillmentOrderStatus.OPEN.value,
    FulfillmentOrderStatus.IN_PROGRESS.value,
    FulfillmentOrderStatus.PACKED.value,
    FulfillmentOrderStatus.PARTIALLY_SHIPPED.value,
    FulfillmentOrderStatus.ON_HOLD.value,
    FulfillmentOrderStatus.READY_FOR_PICKUP.value,
)


@dataclass(frozen=True)
class QueueItem:
    fo: FulfillmentOrder
    blocked_by: str
    late: bool


def _blocked_by(fo: FulfillmentOrder) -> str:
    """What the fulfilment order waits for, in words."""
    if fo.status is FulfillmentOrderStatus.ON_HOLD:
        return "On hold: the order has an open hold"
    if fo.status is FulfillmentOrderStatus.READY_FOR_PICKUP:
        return "Waiting for the customer to collect"
    if fo.wave_id is None and fo.units_by_sku("to_pick"):
        return "Waiting for a pick wave"
    if fo.units_by_sku("to_pick"):
        return "Being picked (wave open)"
    if fo.units_by_sku("to_pack"):
        return "Ready to pack"
    return "Packed: ready to ship"


def _by_cutoff(fo: FulfillmentOrder) -> tuple[date, int, datetime]:
    return (fo.promised_ship_by or date.max, fo.priority, fo.created_at)


@router.get("")
def locations(request: Request, viewer: ViewerDep, portal: PortalDep) -> Response:
    """The locations each tenant in view may use, to pick one's floor."""

    def run() -> Response:
        staff_tenant(viewer, portal.pages)
        uow = app_state(request).uow_factory
        tenant_ids = [viewer.tenant_id] if viewer.tenant_id else [t.id for t in viewer.tenants]
        rows = [
            (tenant_id, location)
            for tenant_id in tenant_ids
            for location in catalogue.list_locations(
                uow_factory=uow,
                principal=principal(viewer, tenant_id),
                after_code=None,
                limit=200,
            )
        ]
        return portal.pages.render(
            "warehouse_locations.html",
            viewer=viewer,
            rows=rows,
            floors=search_choices(uow_factory=uow, tenant_id=None).locations,
            names=viewer.tenant_names,
            path=request.url.path,
        )

    return page(run)


@router.get("/{tenant_id}/locations/{code}")
def location_queue(
    request: Request,
    tenant_id: str,
    code: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: str | None = None,
    problem: str | None = None,
) -> Response:
    """One location's open fulfilment orders by cut-off, its open waves, its ready pickups."""

    def run() -> Response:
        tenant = staff_tenant(viewer, portal.pages, tenant_id)
        assert tenant is not None
        return _queue_page(request, viewer, portal.pages, tenant, code, done=done, problem=problem)

    return page(run)


def _queue_page(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    tenant: UUID,
    code: str,
    *,
    status: int = 200,
    done: str | None = None,
    problem: str | None = None,
) -> Response:
    uow = app_state(request).uow_factory
    try:
        location = catalogue.get_location(
            uow_factory=uow, principal=principal(viewer, tenant), ref=code
        )
        found = fulfilment.list_fulfillment_orders(
            uow_factory=uow,
            principal=principal(viewer, tenant),
            location_code=location.code,
            statuses=OPEN_WORK,
            after_id=None,
            limit=QUEUE_SIZE,
        )
        waves = picking.list_waves(
            uow_factory=uow,
            tenant_id=tenant,
            location_code=location.code,
            status=WaveStatus.OPEN,
            before_id=None,
            limit=50,
        )
    except (NotFound, InvalidRequest):
        return not_found(pages, viewer)
    today = pages.clock.now().date()
    queue = [
        QueueItem(
            fo, _blocked_by(fo), fo.promised_ship_by is not None and fo.promised_ship_by < today
        )
        for fo in sorted(found, key=_by_cutoff)
        if fo.status is not FulfillmentOrderStatus.READY_FOR_PICKUP
    ]
    pickups = [fo for fo in found if fo.status is FulfillmentOrderStatus.READY_FOR_PICKUP]
    return pages.render(
        "warehouse_queue.html",
        status=status,
        viewer=viewer,
        tenant_id=tenant,
        tenant_name=viewer.tenant_names.get(tenant, str(tenant)),
        location=location,
        queue=queue,
        waves=[wave for wave, _ in waves],
        pickups=pickups,
        done=done,
        problem=problem,
        base=f"/app/warehouse/{tenant}",
        path="/app/warehouse",
    )


def _back_to_queue(tenant: UUID, code: str, **query: str) -> Response:
    where = f"/app/warehouse/{tenant}/locations/{code}"
    return RedirectResponse(where + ("?" + urlencode(query) if query else ""), 303)


@router.post("/{tenant_id}/locations/{code}/waves")
def create_wave(
    request: Request,
    tenant_id: str,
    code: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Batch the location's most urgent open work into a wave; its pick list next."""

    def run() -> Response:
        tenant = staff_tenant(viewer, portal.pages, tenant_id)
        assert tenant is not None
        try:
            size = int(form.get("max_orders") or "20")
        except ValueError:
            size = 0
        try:
            result = picking.create_wave(
                uow_factory=app_state(request).uow_factory,
                tenant_id=tenant,
                location_code=code,
                max_orders=size,
                max_units=None,
                actor=viewer.actor,
            )
        except OmsError as refused:
            status, problem = refusal(refused)
            return _queue_page(
                request, viewer, portal.pages, tenant, code, status=status, problem=problem
            )
        return RedirectResponse(f"/app/warehouse/{tenant}/waves/{result.wave.id}", 303)

    return page(run)


@router.get("/{tenant_id}/waves/{wave_id}")
def wave_page(
    request: Request,
    tenant_id: str,
    wave_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: str | None = None,
) -> Response:
    """The wave's pick list as a print view, with the PDF and the confirmation."""

    def run() -> Response:
        found = staff_wave(request, viewer, portal.pages, tenant_id, wave_id)
        if isinstance(found, Response):
            return found
        tenant = found.tenant
        return portal.pages.render(
            "warehouse_wave.html",
            viewer=viewer,
            view=found.view,
            done=done,
            tenant_id=tenant,
            base=f"/app/warehouse/{tenant}",
            path="/app/warehouse",
        )

    return page(run)


@router.get("/{tenant_id}/waves/{wave_id}/pick-list.pdf")
def pick_list_pdf(
    request: Request, tenant_id: str, wave_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """The wave's pick list as the PDF the API prints."""
    state = app_state(request)
    return pdf(
        viewer,
        portal,
        tenant_id,
        wave_id,
        lambda tenant, wave: documents.pick_list_document(
            uow_factory=state.uow_factory, tenant_id=tenant, wave_id=wave, renderer=state.documents
        ),
    )


@router.post("/{tenant_id}/waves/{wave_id}/confirm", dependencies=[Depends(checked_form)])
def confirm_wave(
    request: Request,
    tenant_id: str,
    wave_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
) -> Response:
    """Everything on the pick list was found: the wave closes, its orders are to pack."""

    def run() -> Response:
        tenant = staff_tenant(viewer, portal.pages, tenant_id)
        wave = parse_uuid(wave_id)
        if tenant is None or wave is None:
            return not_found(portal.pages, viewer)
        state = app_state(request)
        try:
            picking.confirm_picks(
                uow_factory=state.uow_factory,
                tenant_id=tenant,
                wave_id=wave,
                confirmations=None,
                actor=viewer.actor,
                pickup_key=state.pickup_key,
                geocoder=state.geocoder,
            )
            done = "Picks confirmed: the orders are ready to pack"
        except NotFound:
            return not_found(portal.pages, viewer)
        except OmsError as refused:
            done = refusal(refused)[1]
        where = f"/app/warehouse/{tenant}/waves/{wave}?" + urlencode({"done": done})
        return RedirectResponse(where, 303)

    return page(run)


# --- the pack station ----------------------------------------------------------------------


@router.post("/{tenant_id}/locations/{code}/pickups/{fo_id}")
def hand_over(
    request: Request,
    tenant_id: str,
    code: str,
    fo_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """The customer's pickup code: the goods are handed over, or the refusal (a wrong code
    422, locked after repeated wrong codes 423)."""

    def run() -> Response:
        tenant = staff_tenant(viewer, portal.pages, tenant_id)
        fo = parse_uuid(fo_id)
        if tenant is None or fo is None:
            return not_found(portal.pages, viewer)
        state = app_state(request)
        try:
            located = pickup.collect_pickup(
                uow_factory=state.uow_factory,
                gateways=state.gateways,
                pickup_key=state.pickup_key,
                tenant_id=tenant,
                fo_id=fo,
                code=form.get("code")[:64],
                actor=viewer.actor,
            )
        except OmsError as refused:
            status, problem = refusal(refused)
            return _queue_page(
                request, viewer, portal.pages, tenant, code, status=status, problem=problem
            )
        number = located.order.number
        return _back_to_queue(tenant, code, done=f"Order #{number} handed over")

    return page(run)
