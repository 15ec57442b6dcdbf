"""The portal's returns: the queue (filters by status and reason; approve or reject a
request with a note), one return with its lines, label and the refund it would pay (the
button shows the amount computed by ``returns.preview_refund``, never typed), and the
inspection screen: scan a unit's SKU into the autofocused field, choose what becomes of it,
and read the result in large type. Each step calls the use case the API calls; nothing
here reads the database.

Actions answer with a redirect (``?done=`` says what happened) or the page again with the
refusal and its status (404, 409, 422).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import FieldError, InvalidRequest, NotFound, OmsError
from oms.domain.returns import Disposition, ReturnRequest, ReturnStatus
from oms.services import catalogue, returns
from oms.services.return_records import ReturnFilter
from oms.web.portal.auth import CheckedForm, PortalDep, Viewer, ViewerDep, actor_may_act, app_state
from oms.web.portal.rendering import PortalPages, parse_uuid, refusal
from oms.web.portal.staff import principal

__all__ = ["router"]

router = APIRouter(prefix="/app", include_in_schema=False)

PER_TENANT = 100
_DONE = {
    Disposition.RESTOCK: "restocked (available again)",
    Disposition.QUARANTINE: "quarantined",
    Disposition.DISPOSE: "disposed of",
}
_Text = Annotated[str | None, Query(max_length=320)]


def _not_found(pages: PortalPages, viewer: Viewer) -> Response:
    return pages.render("not_found.html", status=404, viewer=viewer, path="/app/returns")


@router.get("/returns")
def returns_queue(
    request: Request,
    viewer: ViewerDep,
    portal: PortalDep,
    status: _Text = None,
    reason: _Text = None,
    done: _Text = None,
) -> Response:
    """Returns newest first, filtered by status and reason; requested ones can be approved
    or rejected here with a note."""
    chosen = status if status in {s.value for s in ReturnStatus} else None
    tenant_ids = [viewer.tenant_id] if viewer.tenant_id else [t.id for t in viewer.tenants]
    state = app_state(request)
    rows: list[tuple[UUID, ReturnRequest]] = []
    reasons: set[str] = set()
    for tenant_id in tenant_ids:
        reasons.update(
            returns.get_policy(uow_factory=state.uow_factory, tenant_id=tenant_id).reasons
        )
        rows.extend(
            (tenant_id, found)
            for found in returns.list_returns(
                uow_factory=state.uow_factory,
                tenant_id=tenant_id,
                filters=ReturnFilter(
                    status=None if chosen is None else ReturnStatus(chosen),
                    reason=reason or None,
                ),
                before_id=None,
                limit=PER_TENANT,
            )
        )
    rows.sort(key=lambda row: row[1].created_at, reverse=True)
    return portal.pages.render(
        "returns.html",
        viewer=viewer,
        rows=rows,
        statuses=[s.value for s in ReturnStatus],
        reasons=sorted(reasons),
        chosen_status=chosen,
        chosen_reason=reason,
        names=viewer.tenant_names,
        done=done,
        path=request.url.path,
    )


def _return_page(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    tenant_id: UUID,
    return_id: UUID,
    *,
    template: str = "return.html",
    status: int = 200,
    problem: str | None = None,
    done: str | None = None,
    result: dict[str, str] | None = None,
) -> Response:
    if not viewer.may_see(tenant_id):
        return _not_found(pages, viewer)
    state = app_state(request)
    try:
        found = returns.get_return(
            uow_factory=state.uow_factory, tenant_id=tenant_id, return_id=return_id
        )
        quote = returns.preview_refund(
            uow_factory=state.uow_factory, tenant_id=tenant_id, return_id=return_id
        )
    except NotFound:
        return _not_found(pages, viewer)
    places = catalogue.list_locations(
        uow_factory=state.uow_factory,
        principal=principal(viewer, tenant_id),
        after_code=None,
        limit=200,
    )
    return pages.render(
        template,
        status=status,
        viewer=viewer,
        found=found,
        quote=quote,
        locations=places,
        dispositions=[d.value for d in Disposition],
        problem=problem,
        done=done,
        result=result,
        base=f"/app/returns/{tenant_id}/{return_id}",
        path=request.url.path,
    )


def _ids(tenant_id: str, return_id: str) -> tuple[UUID, UUID] | None:
    tenant, found = parse_uuid(tenant_id), parse_uuid(return_id)
    return None if tenant is None or found is None else (tenant, found)


@router.get("/returns/{tenant_id}/{return_id}")
def return_page(
    request: Request,
    tenant_id: str,
    return_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: _Text = None,
) -> Response:
    """One return: its lines and what became of each unit, its label and parcel, the
    refund it would pay now, and the steps the user may take."""
    ids = _ids(tenant_id, return_id)
    if ids is None:
        return _not_found(portal.pages, viewer)
    return _return_page(request, viewer, portal.pages, *ids, done=done)


@router.get("/returns/{tenant_id}/{return_id}/inspect")
def inspection_screen(
    request: Request,
    tenant_id: str,
    return_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: _Text = None,
) -> Response:
    """Scan each unit that came back: its SKU, then restock, quarantine or dispose."""
    ids = _ids(tenant_id, return_id)
    if ids is None:
        return _not_found(portal.pages, viewer)
    return _return_page(
        request, viewer, portal.pages, *ids, template="return_inspect.html", done=done
    )


def _act(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    tenant_id: str,
    return_id: str,
    run: object,
    *,
    back_to: str = "return",
) -> Response:
    """Run ``run(tenant, return)`` for the user; ``run`` answers what happened. Then the
    queue, the return page or the inspection screen (or the refusal on the return page)."""
    ids = _ids(tenant_id, return_id)
    if ids is None or not viewer.may_see(ids[0]):
        return _not_found(pages, viewer)
    actor_may_act(viewer)
    assert callable(run)
    try:
        done = str(run(*ids))
    except NotFound:
        return _not_found(pages, viewer)
    except OmsError as refused:
        status, problem = refusal(refused)
        template = "return_inspect.html" if back_to == "inspect" else "return.html"
        return _return_page(
            request,
            viewer,
            pages,
            *ids,
            template=template,
            status=status,
            problem=problem,
            result={"tone": "refused", "text": problem} if back_to == "inspect" else None,
        )
    if back_to == "queue":
        return RedirectResponse("/app/returns?" + urlencode({"done": done}), 303)
    suffix = "/inspect" if back_to == "inspect" else ""
    where = f"/app/returns/{ids[0]}/{ids[1]}{suffix}?" + urlencode({"done": done})
    return RedirectResponse(where, 303)


@router.post("/returns/{tenant_id}/{return_id}/approve")
def approve(
    request: Request,
    tenant_id: str,
    return_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Approve a requested return (the note is optional)."""

    def run(tenant: UUID, found: UUID) -> str:
        approved = returns.approve_return(
            uow_factory=app_state(request).uow_factory,
            tenant_id=tenant,
            return_id=found,
            actor=viewer.actor,
            note=form.get("note")[:2000] or None,
        )
        return f"Return of order #{approved.order_number} approved"

    back = "queue" if form.get("back") == "queue" else "return"
    return _act(request, viewer, portal.pages, tenant_id, return_id, run, back_to=back)


@router.post("/returns/{tenant_id}/{return_id}/reject")
def reject(
    request: Request,
    tenant_id: str,
    return_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Reject a return; the note (required) says why and goes to the customer."""
    state = app_state(request)

    def run(tenant: UUID, found: UUID) -> str:
        rejected = returns.reject_return(
            uow_factory=state.uow_factory,
            tenant_id=tenant,
            return_id=found,
            actor=viewer.actor,
            note=form.get("note")[:2000] or None,
            gateways=state.gateways,
        )
        return f"Return of order #{rejected.order_number} rejected"

    back = "queue" if form.get("back") == "queue" else "return"
    return _act(request, viewer, portal.pages, tenant_id, return_id, run, back_to=back)


@router.post("/returns/{tenant_id}/{return_id}/refund")
def refund(
    request: Request,
    tenant_id: str,
    return_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Refund the return: the amount is computed by the use case (the button only showed
    it); the form's key makes a double click one refund."""
    state = app_state(request)

    def run(tenant: UUID, found: UUID) -> str:
        refunded = returns.refund_return(
            uow_factory=state.uow_factory,
            gateways=state.gateways,
            tenant_id=tenant,
            return_id=found,
            actor=viewer.actor,
            idempotency_key=form.get("key")[:200] or None,
        )
        return f"Refunded {refunded.refund_amount} {refunded.currency}"

    return _act(request, viewer, portal.pages, tenant_id, return_id, run)


@router.post("/returns/{tenant_id}/{return_id}/inspect")
def inspect_unit(
    request: Request,
    tenant_id: str,
    return_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """One scanned unit: the return's line of that SKU still waiting, received at the
    location with the disposition chosen (one ``receive`` of one unit)."""
    state = app_state(request)
    scanned = form.get("sku").strip()[:200]
    chosen = form.get("disposition")
    location = form.get("location")[:200]

    def run(tenant: UUID, found: UUID) -> str:
        if chosen not in {d.value for d in Disposition}:
            raise InvalidRequest(
                "Choose what becomes of the unit",
                [FieldError("#/disposition", "restock, quarantine or dispose")],
            )
        current = returns.get_return(
            uow_factory=state.uow_factory, tenant_id=tenant, return_id=found
        )
        line = next(
            (
                ln
                for ln in current.lines
                if ln.sku.casefold() == scanned.casefold() and ln.received < ln.quantity
            ),
            None,
        )
        if line is None:
            raise InvalidRequest(
                f"{scanned or 'Nothing'} is not a unit this return still waits for",
                [FieldError("#/sku", "scan a SKU of the return")],
            )
        returns.receive_return(
            uow_factory=state.uow_factory,
            tenant_id=tenant,
            return_id=found,
            location=location,
            units=[returns.ReceivedUnits(line.line_no, 1, Disposition(chosen))],
            actor=viewer.actor,
        )
        return f"{line.sku}: 1 unit {_DONE[Disposition(chosen)]}"

    return _act(request, viewer, portal.pages, tenant_id, return_id, run, back_to="inspect")
