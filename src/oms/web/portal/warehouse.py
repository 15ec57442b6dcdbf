"""The warehouse screens for operator staff (docs/portal.md, "Warehouse screens"): a
location picker; per location, the open fulfilment orders by cut-off with what blocks
them, waves and ready pickups; creating a wave, its pick list (HTML print view and the
PDF) and confirming it; the pack station of one fulfilment order (scan by scan, box,
pack, packing slip, ship, label); handing a pickup over with the customer's code.

Every page calls the use case the API calls (``picking``, ``packing``, ``shipping``,
``pickup``, ``documents``); every action carries the user as actor, so it lands in the
order's timeline under the user's name. Merchant users get a 403 page.

The pack station keeps the scans made so far in the form (hidden ``scans`` fields), so it
works with plain form posts; ``warehouse.js`` sends the form with htmx, swaps the station
in place, refocuses the scan field and beeps (a different tone for a refused scan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from oms.api.responses import pdf_response
from oms.domain.errors import (
    InvalidRequest,
    NotFound,
    OmsError,
)
from oms.domain.fulfilment import FulfillmentOrder, FulfillmentOrderStatus
from oms.domain.picking import WaveStatus
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue, documents, fulfilment, packing, picking, pickup, shipping
from oms.web.portal.auth import (
    CheckedForm,
    PortalDep,
    Viewer,
    ViewerDep,
    app_state,
    checked_form,
)
from oms.web.portal.rendering import PortalPages, refusal

__all__ = ["router"]

router = APIRouter(prefix="/app/warehouse", include_in_schema=False)

MAX_SCANS = 500
QUEUE_SIZE = 200
OPEN_WORK = (
    FulfillmentOrderStatus.OPEN.value,
    FulfillmentOrderStatus.IN_PROGRESS.value,
    FulfillmentOrderStatus.PACKED.value,
    FulfillmentOrderStatus.PARTIALLY_SHIPPED.value,
    FulfillmentOrderStatus.ON_HOLD.value,
    FulfillmentOrderStatus.READY_FOR_PICKUP.value,
)


class _Refused(Exception):
    """A page that answers at once (403 for a merchant user, 404 for an unknown thing)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _staff(viewer: Viewer, pages: PortalPages, tenant_id: str | None = None) -> UUID | None:
    """The tenant of the URL, once the viewer is operator staff (403 page otherwise) and
    the tenant is one it sees (404 page otherwise)."""
    if not viewer.user.role.is_operator:
        raise _Refused(
            pages.render(
                "refused.html",
                status=403,
                viewer=viewer,
                path="/app/warehouse",
                title="Not allowed",
                message="The warehouse screens are for the operator's staff.",
            )
        )
    if tenant_id is None:
        return None
    tenant = _uuid(tenant_id)
    if tenant is None or tenant not in viewer.tenant_names:
        raise _Refused(_not_found(pages, viewer))
    return tenant


def _not_found(pages: PortalPages, viewer: Viewer) -> Response:
    return pages.render("not_found.html", status=404, viewer=viewer, path="/app/warehouse")


def _page(run: Callable[[], Response]) -> Response:
    try:
        return run()
    except _Refused as refused:
        return refused.response


def _pdf(
    viewer: Viewer,
    portal: Any,
    tenant_id: str,
    thing_id: str,
    make: Callable[[UUID, UUID], Any],
) -> Response:
    """A document the API prints, for staff: ``make(tenant, id)`` renders it (NotFound,
    like an unknown tenant or id, is the 404 page)."""

    def run() -> Response:
        tenant = _staff(viewer, portal.pages, tenant_id)
        thing = _uuid(thing_id)
        if tenant is None or thing is None:
            return _not_found(portal.pages, viewer)
        try:
            document = make(tenant, thing)
        except NotFound:
            return _not_found(portal.pages, viewer)
        return pdf_response(document.content, document.filename)

    return _page(run)


def _principal(viewer: Viewer, tenant_id: UUID) -> Principal:
    return Principal(key_id=viewer.user.id, scope=ApiKeyScope.TENANT, tenant_id=tenant_id)


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
        _staff(viewer, portal.pages)
        uow = app_state(request).uow_factory
        tenant_ids = [viewer.tenant_id] if viewer.tenant_id else [t.id for t in viewer.tenants]
        rows = [
            (tenant_id, location)
            for tenant_id in tenant_ids
            for location in catalogue.list_locations(
                uow_factory=uow,
                principal=_principal(viewer, tenant_id),
                after_code=None,
                limit=200,
            )
        ]
        return portal.pages.render(
            "warehouse_locations.html",
            viewer=viewer,
            rows=rows,
            names=viewer.tenant_names,
            path=request.url.path,
        )

    return _page(run)


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
        tenant = _staff(viewer, portal.pages, tenant_id)
        assert tenant is not None
        return _queue_page(request, viewer, portal.pages, tenant, code, done=done, problem=problem)

    return _page(run)


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
            uow_factory=uow, principal=_principal(viewer, tenant), ref=code
        )
        found = fulfilment.list_fulfillment_orders(
            uow_factory=uow,
            principal=_principal(viewer, tenant),
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
        return _not_found(pages, viewer)
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
        tenant = _staff(viewer, portal.pages, tenant_id)
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

    return _page(run)


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
        tenant = _staff(viewer, portal.pages, tenant_id)
        wave = _uuid(wave_id)
        if tenant is None or wave is None:
            return _not_found(portal.pages, viewer)
        state = app_state(request)
        try:
            view = picking.wave_pick_list(
                uow_factory=state.uow_factory, tenant_id=tenant, wave_id=wave
            )
        except NotFound:
            return _not_found(portal.pages, viewer)
        return portal.pages.render(
            "warehouse_wave.html",
            viewer=viewer,
            view=view,
            done=done,
            tenant_id=tenant,
            base=f"/app/warehouse/{tenant}",
            path="/app/warehouse",
        )

    return _page(run)


@router.get("/{tenant_id}/waves/{wave_id}/pick-list.pdf")
def pick_list_pdf(
    request: Request, tenant_id: str, wave_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """The wave's pick list as the PDF the API prints."""
    state = app_state(request)
    return _pdf(
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
        tenant = _staff(viewer, portal.pages, tenant_id)
        wave = _uuid(wave_id)
        if tenant is None or wave is None:
            return _not_found(portal.pages, viewer)
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
            return _not_found(portal.pages, viewer)
        except OmsError as refused:
            done = refusal(refused)[1]
        where = f"/app/warehouse/{tenant}/waves/{wave}?" + urlencode({"done": done})
        return RedirectResponse(where, 303)

    return _page(run)


# --- the pack station ----------------------------------------------------------------------


@dataclass(frozen=True)
class ScanShown:
    """The last scan's result in words: ``ok`` or not, a headline and a detail."""

    ok: bool
    headline: str
    detail: str


def _scan_shown(station: packing.PackStation, fo: FulfillmentOrder) -> ScanShown | None:
    if not station.results:
        return None
    last = station.results[-1]
    if last.accepted and last.sku is not None:
        line = next((ln for ln in fo.lines if ln.sku == last.sku), None)
        left = station.left(last.sku)
        name = station.names.get(last.sku, last.sku)
        where = f"line {line.line_no}" if line else "this order"
        more = "line complete" if left == 0 else f"{left} more to scan"
        return ScanShown(True, f"OK: {last.sku}", f"{name}, {where}: {more}")
    why = last.message or "refused"
    if last.problem == "surplus":
        why = f"{last.code!r} {why}: this line is already complete"
    return ScanShown(False, f"Refused: {last.code or '(blank)'}", why)


def _station_page(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    tenant: UUID,
    fo_id: UUID,
    scans: list[str],
    *,
    status: int = 200,
    problem: str | None = None,
    done: str | None = None,
    box: str = "",
    scanned: bool = False,
    station: packing.PackStation | None = None,
) -> Response:
    """The station (``station`` when the scans were already checked); after a scan
    (``scanned``) a refused last scan answers 422."""
    state = app_state(request)
    try:
        station = station or packing.pack_station(
            uow_factory=state.uow_factory, tenant_id=tenant, fo_id=fo_id, scans=scans
        )
        fo = station.fulfillment_order
        shipments = [
            s
            for s in shipping.shipments_of_order(
                uow_factory=state.uow_factory, tenant_id=tenant, order_id=fo.order_id
            )
            if s.fulfillment_order_id == fo.id
        ]
    except NotFound:
        return _not_found(pages, viewer)
    shown = _scan_shown(station, fo)
    if scanned and shown is not None and not shown.ok:
        status = 422
    accepted = [r.code for r in station.results if r.accepted]
    waiting = [p for p in station.packages if p.shipment_id is None]
    return pages.render(
        "warehouse_pack.html",
        status=status,
        viewer=viewer,
        fo=fo,
        station=station,
        shown=shown,
        accepted=accepted,
        complete=bool(station.to_pack) and all(station.left(s) == 0 for s in station.to_pack),
        waiting=waiting,
        shipments=shipments,
        problem=problem,
        done=done,
        box=box,
        ship_key=str(uuid4()),
        base=f"/app/warehouse/{tenant}",
        here=f"/app/warehouse/{tenant}/fulfilment/{fo.id}",
        path="/app/warehouse",
    )


def _scans(form: Any) -> list[str]:
    return [code.strip()[:200] for code in form.all("scans")[:MAX_SCANS]]


@router.get("/{tenant_id}/fulfilment/{fo_id}")
def pack_screen(
    request: Request,
    tenant_id: str,
    fo_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: str | None = None,
) -> Response:
    """The pack station of one fulfilment order, with no scan yet."""

    def run() -> Response:
        tenant = _staff(viewer, portal.pages, tenant_id)
        fo = _uuid(fo_id)
        if tenant is None or fo is None:
            return _not_found(portal.pages, viewer)
        return _station_page(request, viewer, portal.pages, tenant, fo, [], done=done)

    return _page(run)


@router.post("/{tenant_id}/fulfilment/{fo_id}/scan")
def scan(
    request: Request,
    tenant_id: str,
    fo_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """One more scan: the station again, the scan accepted (200) or refused (422)."""

    def run() -> Response:
        tenant = _staff(viewer, portal.pages, tenant_id)
        fo = _uuid(fo_id)
        if tenant is None or fo is None:
            return _not_found(portal.pages, viewer)
        scans = [*_scans(form), form.get("scan")[:200]]
        state = app_state(request)
        try:
            station = packing.pack_station(
                uow_factory=state.uow_factory, tenant_id=tenant, fo_id=fo, scans=scans
            )
        except NotFound:
            return _not_found(portal.pages, viewer)
        last = station.results[-1]
        if not last.accepted:
            packing.record_refused_scan(
                uow_factory=state.uow_factory,
                tenant_id=tenant,
                fo_id=fo,
                code=last.code,
                reason=last.message or "refused",
                actor=viewer.actor,
            )
        return _station_page(
            request, viewer, portal.pages, tenant, fo, scans, scanned=True, station=station
        )

    return _page(run)


@router.post("/{tenant_id}/fulfilment/{fo_id}/pack")
def pack(
    request: Request,
    tenant_id: str,
    fo_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Pack the accepted scans into one package, in the box chosen (or the smallest that
    fits)."""

    def run() -> Response:
        tenant = _staff(viewer, portal.pages, tenant_id)
        fo = _uuid(fo_id)
        if tenant is None or fo is None:
            return _not_found(portal.pages, viewer)
        scans = _scans(form)
        try:
            packing.pack(
                uow_factory=app_state(request).uow_factory,
                tenant_id=tenant,
                fo_id=fo,
                request=packing.PackRequest(scans=scans, box=form.get("box") or None),
                actor=viewer.actor,
            )
        except OmsError as refused:
            status, problem = refusal(refused)
            return _station_page(
                request,
                viewer,
                portal.pages,
                tenant,
                fo,
                scans,
                status=status,
                problem=problem,
                box=form.get("box"),
            )
        where = f"/app/warehouse/{tenant}/fulfilment/{fo}?" + urlencode({"done": "Packed"})
        return RedirectResponse(where, 303)

    return _page(run)


@router.post("/{tenant_id}/fulfilment/{fo_id}/ship")
def ship(
    request: Request,
    tenant_id: str,
    fo_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Buy the label and ship the packed packages (the form's key makes a double click
    one shipment)."""

    def run() -> Response:
        tenant = _staff(viewer, portal.pages, tenant_id)
        fo = _uuid(fo_id)
        if tenant is None or fo is None:
            return _not_found(portal.pages, viewer)
        state = app_state(request)
        try:
            shipping.create_shipment(
                uow_factory=state.uow_factory,
                gateways=state.gateways,
                carriers=state.carriers,
                tenant_id=tenant,
                fo_id=fo,
                request=shipping.ShipRequest(idempotency_key=form.get("key")[:100] or None),
                actor=viewer.actor,
            )
        except OmsError as refused:
            status, problem = refusal(refused)
            return _station_page(
                request,
                viewer,
                portal.pages,
                tenant,
                fo,
                [],
                status=status,
                problem=problem,
            )
        where = f"/app/warehouse/{tenant}/fulfilment/{fo}?" + urlencode({"done": "Shipped"})
        return RedirectResponse(where, 303)

    return _page(run)


@router.get("/{tenant_id}/fulfilment/{fo_id}/packing-slip.pdf")
def packing_slip(
    request: Request, tenant_id: str, fo_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """The packing slip, the PDF the API prints."""
    state = app_state(request)
    return _pdf(
        viewer,
        portal,
        tenant_id,
        fo_id,
        lambda tenant, fo: documents.packing_slip_document(
            uow_factory=state.uow_factory,
            tenant_id=tenant,
            fo_id=fo,
            renderer=state.documents,
            now=portal.pages.clock.now().astimezone(UTC),
        ),
    )


@router.get("/{tenant_id}/shipments/{shipment_id}/label.pdf")
def label(
    request: Request, tenant_id: str, shipment_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """The shipment's 4x6 label(s), the PDF the API prints."""
    state = app_state(request)
    return _pdf(
        viewer,
        portal,
        tenant_id,
        shipment_id,
        lambda tenant, shipment: documents.labels_document(
            uow_factory=state.uow_factory,
            tenant_id=tenant,
            shipment_id=shipment,
            renderer=state.documents,
        ),
    )


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
        tenant = _staff(viewer, portal.pages, tenant_id)
        fo = _uuid(fo_id)
        if tenant is None or fo is None:
            return _not_found(portal.pages, viewer)
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

    return _page(run)
