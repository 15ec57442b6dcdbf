"""More warehouse screens for operator staff (beside ``oms.web.portal.warehouse``):

- **short picks**: the wave page's "Report what was found" form, one number per order and
  SKU of the pick list; ``picking.confirm_picks`` with those figures, as
  ``POST /v1/pick-waves/{id}/confirm`` with lines: a shortfall is written off at the
  location and the missing units are routed again (docs/fulfilment.md);
- **the floor** of an operator location (``/app/warehouse/floor/{code}``): every tenant's
  open fulfilment orders there, most urgent first, the tenant named on each
  (``fulfilment.list_fulfillment_orders`` with the operator's principal, as an operator
  key sees a 3PL's floor).

Merchant users get the 403 page, unknown waves and locations the 404 page.
"""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import FieldError, InvalidRequest, OmsError
from oms.domain.fulfilment import FulfillmentOrderStatus
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import fulfilment, picking
from oms.services.order_overview import search_choices
from oms.web.portal.auth import CheckedForm, Form, PortalDep, Viewer, ViewerDep, app_state
from oms.web.portal.rendering import PortalPages, refusal
from oms.web.portal.staff import not_found, page, staff_tenant, staff_wave
from oms.web.portal.warehouse import OPEN_WORK, QUEUE_SIZE, QueueItem, _blocked_by, _by_cutoff

__all__ = ["found_counts", "router"]

router = APIRouter(prefix="/app/warehouse", include_in_schema=False)


def found_counts(view: picking.PickListView, form: Form) -> list[picking.PickConfirmation]:
    """What the picker found for each order and SKU of the list (``found:<fo>:<sku>``
    fields): a whole number from 0 to what the list asked for, else refused with the
    field's pointer."""
    found, errors = [], []
    for task in view.picks:
        name = f"found:{task.fulfillment_order_id}:{task.sku}"
        text = form.get(name)
        try:
            units = int(text)
        except ValueError:
            units = -1
        if not 0 <= units <= task.quantity:
            errors.append(FieldError(f"#/{name}", f"a whole number from 0 to {task.quantity}"))
            continue
        found.append(picking.PickConfirmation(task.fulfillment_order_id, task.sku, units))
    if errors:
        raise InvalidRequest("Say how many units were found for each line", errors)
    return found


def _wave_page(
    pages: PortalPages,
    viewer: Viewer,
    view: picking.PickListView,
    tenant: UUID,
    *,
    status: int,
    problem: str,
) -> Response:
    return pages.render(
        "warehouse_wave.html",
        status=status,
        viewer=viewer,
        view=view,
        problem=problem,
        tenant_id=tenant,
        base=f"/app/warehouse/{tenant}",
        path="/app/warehouse",
    )


@router.post("/{tenant_id}/waves/{wave_id}/found")
def report_found(
    request: Request,
    tenant_id: str,
    wave_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Close the wave with what was found: fewer units than asked is a short pick."""

    def run() -> Response:
        found = staff_wave(request, viewer, portal.pages, tenant_id, wave_id)
        if isinstance(found, Response):
            return found
        tenant, wave, view = found.tenant, found.wave, found.view
        state = app_state(request)
        try:
            counts = found_counts(view, form)
            picking.confirm_picks(
                uow_factory=state.uow_factory,
                tenant_id=tenant,
                wave_id=wave,
                confirmations=counts,
                actor=viewer.actor,
                pickup_key=state.pickup_key,
                geocoder=state.geocoder,
            )
        except OmsError as refused:
            status, problem = refusal(refused)
            return _wave_page(portal.pages, viewer, view, tenant, status=status, problem=problem)
        asked = {(t.fulfillment_order_id, t.sku): t.quantity for t in view.picks}
        short = sum(asked[(c.fulfillment_order_id, c.sku)] - c.picked for c in counts)
        done = (
            f"Picks confirmed; {short} unit(s) short, written off and routed again"
            if short
            else "Picks confirmed: the orders are ready to pack"
        )
        where = f"/app/warehouse/{tenant}/waves/{wave}?" + urlencode({"done": done})
        return RedirectResponse(where, 303)

    return page(run)


@router.get("/floor/{code}")
def floor(request: Request, code: str, viewer: ViewerDep, portal: PortalDep) -> Response:
    """An operator location's open work across every tenant, most urgent first."""

    def run() -> Response:
        staff_tenant(viewer, portal.pages)
        operator = Principal(key_id=viewer.user.id, scope=ApiKeyScope.OPERATOR, tenant_id=None)
        uow = app_state(request).uow_factory
        try:
            found = fulfilment.list_fulfillment_orders(
                uow_factory=uow,
                principal=operator,
                location_code=code,
                statuses=OPEN_WORK,
                after_id=None,
                limit=QUEUE_SIZE,
            )
        except InvalidRequest:
            return not_found(portal.pages, viewer)
        location = next(
            (
                loc
                for loc in search_choices(uow_factory=uow, tenant_id=None).locations
                if code in (loc.code, str(loc.id))
            ),
            None,
        )
        if location is None:
            return not_found(portal.pages, viewer)
        today = portal.pages.clock.now().date()
        rows = [
            QueueItem(
                fo,
                _blocked_by(fo),
                fo.promised_ship_by is not None and fo.promised_ship_by < today,
            )
            for fo in sorted(found, key=_by_cutoff)
            if fo.status is not FulfillmentOrderStatus.READY_FOR_PICKUP
        ]
        return portal.pages.render(
            "warehouse_floor.html",
            viewer=viewer,
            location=location,
            rows=rows,
            names=viewer.tenant_names,
            tenants=len({item.fo.tenant_id for item in rows}),
            path="/app/warehouse",
        )

    return page(run)
