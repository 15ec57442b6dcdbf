"""The receiving screen of one inbound shipment (docs/portal.md, "Inbound"): like the pack
station, an autofocused scan field. A scan is a SKU (or barcode-as-SKU) with a quantity and
a condition, or a carton's code (its announced contents received at once), counted through
the use case the API calls (``oms.services.inbound.receive_scan``), its result shown large:
the line's count against what was announced, over or damaged said in words; a refused scan
(an unknown SKU, a merchant at the operator's warehouse) in red, with the API's status.
Closing shows the variance table, per line and per carton. ``warehouse.js`` swaps the screen
in place with htmx and refocuses the field.

Each form carries a fresh scan id, so a double submit counts once (``counted: false``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import NotFound, OmsError
from oms.domain.inbound import Condition, InboundShipment, InboundStatus, variance_report
from oms.services import inbound
from oms.web.portal.auth import (
    CheckedForm,
    PortalDep,
    Viewer,
    ViewerDep,
    actor_may_act,
    app_state,
    checked_form,
)
from oms.web.portal.inbound_pages import (
    ids_in_view,
    list_page,
    not_found,
    render,
)
from oms.web.portal.rendering import PortalPages, refusal

__all__ = ["router"]

router = APIRouter(prefix="/app/inbound", include_in_schema=False)

MAX_QUANTITY_PER_SCAN = 100_000


@dataclass(frozen=True)
class ScanShown:
    ok: bool
    headline: str
    detail: str


@router.get("/shipments")
def shipments(
    request: Request, viewer: ViewerDep, portal: PortalDep, after: str | None = None
) -> Response:
    """Inbound shipments: every merchant's for the operator looking at all, else one's; by
    id, a page at a time."""
    uow = app_state(request).uow_factory
    return list_page(
        request,
        viewer,
        portal.pages,
        lambda tenant, after_id, limit: inbound.list_shipments(
            uow_factory=uow, tenant_id=tenant, after_id=after_id, limit=limit
        ),
        cursor="after",
        given=after,
        template="inbound_shipments.html",
        name="shipments",
    )


def _shown(shipment: InboundShipment, scan: inbound.ScanLine, counted: bool) -> ScanShown:
    line = shipment.line_for(scan.sku)
    if not counted:
        return ScanShown(True, "Already counted", "This scan was counted before: nothing added")
    assert line is not None
    told = [f"{line.received} of {line.expected} received"]
    if line.received_damaged:
        told.append(f"{line.received_damaged} damaged")
    if line.expected == 0:
        told.append("not announced")
    elif line.received > line.expected:
        told.append(f"over by {line.received - line.expected}")
    elif line.received == line.expected:
        told.append("line complete")
    what = "damaged" if scan.condition is Condition.DAMAGED else "good"
    return ScanShown(True, f"+{scan.quantity} {scan.sku} ({what})", ", ".join(told))


def _screen(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    tenant: UUID,
    shipment_id: UUID,
    *,
    status: int = 200,
    shown: ScanShown | None = None,
    problem: str | None = None,
    done: str | None = None,
) -> Response:
    try:
        shipment, bins = inbound.get_shipment(
            uow_factory=app_state(request).uow_factory, tenant_id=tenant, shipment_id=shipment_id
        )
    except NotFound:
        return not_found(pages, request, viewer, "inbound shipment")
    closed = shipment.status is InboundStatus.CLOSED
    cartons, carton_variance = inbound.cartons_of(
        uow_factory=app_state(request).uow_factory, tenant_id=tenant, shipment_id=shipment_id
    )
    return render(
        pages,
        request,
        viewer,
        "inbound_receive.html",
        status=status,
        shipment=shipment,
        bins=bins,
        report=variance_report(shipment.lines) if closed else [],
        cartons=cartons,
        carton_variance=carton_variance,
        closed=closed,
        shown=shown,
        problem=problem,
        done=done,
        scan_key=str(uuid4()),
        here=f"/app/inbound/{tenant}/shipments/{shipment.id}",
    )


@router.get("/{tenant_id}/shipments/{shipment_id}")
def receiving_screen(
    request: Request,
    tenant_id: str,
    shipment_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: str | None = None,
) -> Response:
    ids = ids_in_view(viewer, tenant_id, shipment_id)
    if ids is None:
        return not_found(portal.pages, request, viewer, "inbound shipment")
    return _screen(request, viewer, portal.pages, *ids, done=done)


def _scan_line(form: Any) -> inbound.ScanLine | str:
    sku = form.get("sku")[:100]
    quantity = form.get("quantity") or "1"
    if not sku:
        return "Scan a SKU first"
    if not quantity.isdigit() or not 0 < int(quantity) <= MAX_QUANTITY_PER_SCAN:
        return f"The quantity must be a whole number from 1 to {MAX_QUANTITY_PER_SCAN}"
    condition = Condition.DAMAGED if form.get("condition") == "damaged" else Condition.GOOD
    return inbound.ScanLine(sku, int(quantity), condition, form.get("reason")[:500] or None)


@router.post("/{tenant_id}/shipments/{shipment_id}/scan")
def scan(
    request: Request,
    tenant_id: str,
    shipment_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Count one scan: the screen again with its result (200), or the refusal (422 for a
    bad scan, the API's status otherwise)."""
    ids = ids_in_view(viewer, tenant_id, shipment_id)
    if ids is None:
        return not_found(portal.pages, request, viewer, "inbound shipment")
    actor_may_act(viewer)
    code = form.get("sku")[:100]
    cartons, _ = inbound.cartons_of(
        uow_factory=app_state(request).uow_factory, tenant_id=ids[0], shipment_id=ids[1]
    )
    if code in cartons:
        return _carton_scan(request, viewer, portal.pages, ids, code, cartons[code])
    line = _scan_line(form)
    if isinstance(line, str):
        refused = ScanShown(False, "Refused", line)
        return _screen(request, viewer, portal.pages, *ids, status=422, shown=refused)
    try:
        received = inbound.receive_scan(
            uow_factory=app_state(request).uow_factory,
            tenant_id=ids[0],
            shipment_id=ids[1],
            lines=[line],
            actor=viewer.actor,
            operator=viewer.user.role.is_operator,
            scan_id=form.get("scan_key")[:100] or None,
        )
    except OmsError as error:
        status, problem = refusal(error)
        refused = ScanShown(False, f"Refused: {line.sku}", problem)
        return _screen(request, viewer, portal.pages, *ids, status=status, shown=refused)
    shown = _shown(received.shipment, line, received.counted)
    return _screen(request, viewer, portal.pages, *ids, shown=shown)


def _carton_scan(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    ids: tuple[UUID, UUID],
    code: str,
    contents: dict[str, int],
) -> Response:
    """A carton's code scanned: its announced contents received at once (once only)."""
    try:
        received = inbound.receive_scan(
            uow_factory=app_state(request).uow_factory,
            tenant_id=ids[0],
            shipment_id=ids[1],
            lines=[],
            carton=code,
            actor=viewer.actor,
            operator=viewer.user.role.is_operator,
        )
    except OmsError as error:
        status, problem = refusal(error)
        refused = ScanShown(False, f"Refused: carton {code}", problem)
        return _screen(request, viewer, pages, *ids, status=status, shown=refused)
    units = sum(contents.values())
    shown = (
        ScanShown(True, f"Carton {code}: +{units} units", f"{len(contents)} SKUs received")
        if received.counted
        else ScanShown(True, f"Carton {code}: already counted", "Nothing added")
    )
    return _screen(request, viewer, pages, *ids, shown=shown)


@router.post("/{tenant_id}/shipments/{shipment_id}/close", dependencies=[Depends(checked_form)])
def close(
    request: Request, tenant_id: str, shipment_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """Close the shipment: the screen shows the variance table."""
    ids = ids_in_view(viewer, tenant_id, shipment_id)
    if ids is None:
        return not_found(portal.pages, request, viewer, "inbound shipment")
    actor_may_act(viewer)
    try:
        inbound.close_shipment(
            uow_factory=app_state(request).uow_factory,
            tenant_id=ids[0],
            shipment_id=ids[1],
            actor=viewer.actor,
            operator=viewer.user.role.is_operator,
        )
    except OmsError as error:
        status, problem = refusal(error)
        return _screen(request, viewer, portal.pages, *ids, status=status, problem=problem)
    return RedirectResponse(f"/app/inbound/{ids[0]}/shipments/{ids[1]}?done=Closed", 303)
