"""The pack station of one fulfilment order (docs/portal.md, "Warehouse screens"): scan by
scan, box, pack, packing slip, ship, label.

The station keeps the scans made so far in the form (hidden ``scans`` fields), so it works
with plain form posts; ``warehouse.js`` sends the form with htmx, swaps the station in
place, refocuses the scan field and beeps (a different tone for a refused scan). Every
action calls the use case the API calls, with the user as actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import (
    NotFound,
    OmsError,
)
from oms.domain.fulfilment import FulfillmentOrder
from oms.services import documents, packing, shipping
from oms.web.portal.auth import (
    CheckedForm,
    PortalDep,
    Viewer,
    ViewerDep,
    app_state,
)
from oms.web.portal.rendering import PortalPages, parse_uuid, refusal
from oms.web.portal.staff import not_found, page, pdf, staff_tenant

__all__ = ["router"]

router = APIRouter(prefix="/app/warehouse", include_in_schema=False)

MAX_SCANS = 500


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
        return not_found(pages, viewer)
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
        tenant = staff_tenant(viewer, portal.pages, tenant_id)
        fo = parse_uuid(fo_id)
        if tenant is None or fo is None:
            return not_found(portal.pages, viewer)
        return _station_page(request, viewer, portal.pages, tenant, fo, [], done=done)

    return page(run)


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
        tenant = staff_tenant(viewer, portal.pages, tenant_id)
        fo = parse_uuid(fo_id)
        if tenant is None or fo is None:
            return not_found(portal.pages, viewer)
        scans = [*_scans(form), form.get("scan")[:200]]
        state = app_state(request)
        try:
            station = packing.pack_station(
                uow_factory=state.uow_factory, tenant_id=tenant, fo_id=fo, scans=scans
            )
        except NotFound:
            return not_found(portal.pages, viewer)
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

    return page(run)


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
        tenant = staff_tenant(viewer, portal.pages, tenant_id)
        fo = parse_uuid(fo_id)
        if tenant is None or fo is None:
            return not_found(portal.pages, viewer)
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

    return page(run)


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
        tenant = staff_tenant(viewer, portal.pages, tenant_id)
        fo = parse_uuid(fo_id)
        if tenant is None or fo is None:
            return not_found(portal.pages, viewer)
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

    return page(run)


@router.get("/{tenant_id}/fulfilment/{fo_id}/packing-slip.pdf")
def packing_slip(
    request: Request, tenant_id: str, fo_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """The packing slip, the PDF the API prints."""
    state = app_state(request)
    return pdf(
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
    return pdf(
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
