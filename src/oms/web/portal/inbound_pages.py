"""The portal's inbound pages (docs/portal.md, "Inbound"): purchase orders (send,
receive), inbound shipments (the receiving screen is ``oms.web.portal.receiving``),
transfers (ship, receive), cycle counts (a blind sheet, counted and approved) and the
3PL's billing statements per month (``oms.web.portal.billing_pages``).

Who sees what is the API's rule: operator staff and admins see every merchant's (or the
one picked in the switcher), a merchant's users their own; ``merchant-viewer`` looks and
does not act. Each action calls the use case the API calls, with the user as actor and
``operator`` from the user's role, so a merchant user is refused receiving into the
operator's warehouse exactly as its API key is (the refusal shown as on the API: 403).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import NotFound, OmsError
from oms.services import cycle_counts, purchasing, transfers
from oms.services.purchasing import ReceiptLine
from oms.web.portal.auth import (
    CheckedForm,
    PortalDep,
    Viewer,
    ViewerDep,
    actor_may_act,
    app_state,
    checked_form,
)
from oms.web.portal.rendering import PortalPages, parse_uuid, refusal

__all__ = ["ids_in_view", "list_page", "router", "tenant_in_view"]

router = APIRouter(prefix="/app/inbound", include_in_schema=False)

LIST_SIZE = 100


def tenant_in_view(viewer: Viewer, tenant_id: str) -> UUID | None:
    """The tenant a URL names, when the viewer sees it (its own, or any for the operator)."""
    tenant = parse_uuid(tenant_id)
    return tenant if tenant is not None and tenant in viewer.tenant_names else None


def ids_in_view(viewer: Viewer, tenant_id: str, item_id: str) -> tuple[UUID, UUID] | None:
    """The tenant and the item a URL names, when the viewer sees the tenant; else None."""
    tenant, found = tenant_in_view(viewer, tenant_id), parse_uuid(item_id)
    return None if tenant is None or found is None else (tenant, found)


def viewed_tenants(viewer: Viewer) -> list[UUID]:
    """The tenants a list shows: the one looked at, or every one the operator sees."""
    if viewer.tenant_id is not None:
        return [viewer.tenant_id]
    return [t.id for t in viewer.tenants]


class Listed(Protocol):
    @property
    def id(self) -> UUID: ...
    @property
    def tenant_id(self) -> UUID: ...


L = TypeVar("L", bound=Listed)


def list_page(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    fetch: Callable[[UUID | None, UUID | None, int], Sequence[L]],
    *,
    cursor: str,
    given: str | None,
    template: str,
    name: str,
) -> Response:
    """A list page: ``fetch(tenant or None for all, cursor id, limit)`` asked for one more
    than ``LIST_SIZE``, the rows of the tenants in view shown as ``name``, and ``more``: the
    next page's link (``?<cursor>=<the last shown's id>``), None at the end."""
    found = fetch(viewer.tenant_id, parse_uuid(given), LIST_SIZE + 1)
    shown = list(found[:LIST_SIZE])
    more = f"{request.url.path}?{cursor}={shown[-1].id}" if len(found) > LIST_SIZE else None
    seen = set(viewed_tenants(viewer))
    rows = [row for row in shown if row.tenant_id in seen]
    return render(pages, request, viewer, template, more=more, **{name: rows})


def render(
    pages: PortalPages, request: Request, viewer: Viewer, template: str, **context: Any
) -> Response:
    status = context.pop("status", 200)
    return pages.render(
        template,
        status=status,
        viewer=viewer,
        path=request.url.path,
        may_act=viewer.user.role.may_act,
        names=viewer.tenant_names,
        **context,
    )


def not_found(pages: PortalPages, request: Request, viewer: Viewer, what: str) -> Response:
    return pages.render(
        "not_found.html",
        status=404,
        viewer=viewer,
        path=request.url.path,
        what=what,
        back=("/app/inbound", "Back to inbound"),
    )


def act(
    viewer: Viewer,
    step: Callable[[], object],
    *,
    back: str,
    done: str,
    again: Callable[[int, str], Response],
) -> Response:
    """Run a use case for a user who may act; back to ``back`` with ``done`` said, or the
    page ``again`` with the refusal (the API's status and sentence)."""
    actor_may_act(viewer)
    try:
        step()
    except OmsError as refused:
        status, problem = refusal(refused)
        return again(status, problem)
    return RedirectResponse(f"{back}?done={done}", 303)


@router.get("")
def inbound_home() -> Response:
    return RedirectResponse("/app/inbound/shipments", 303)


# -- purchase orders -----------------------------------------------------------------------


@router.get("/purchase-orders")
def purchase_orders(
    request: Request, viewer: ViewerDep, portal: PortalDep, after: str | None = None
) -> Response:
    """The purchase orders of the tenants in view, by id, a page at a time."""
    uow = app_state(request).uow_factory
    return list_page(
        request,
        viewer,
        portal.pages,
        lambda tenant, after_id, limit: purchasing.list_purchase_orders(
            uow_factory=uow, tenant_id=tenant, after_id=after_id, limit=limit
        ),
        cursor="after",
        given=after,
        template="inbound_pos.html",
        name="orders",
    )


def _po_page(
    request: Request, viewer: Viewer, pages: PortalPages, tenant: UUID, po_id: UUID, **extra: Any
) -> Response:
    try:
        po = purchasing.get_purchase_order(
            uow_factory=app_state(request).uow_factory, tenant_id=tenant, po_id=po_id
        )
    except NotFound:
        return not_found(pages, request, viewer, "purchase order")
    here = f"/app/inbound/{tenant}/purchase-orders/{po.id}"
    return render(pages, request, viewer, "inbound_po.html", po=po, here=here, **extra)


@router.get("/{tenant_id}/purchase-orders/{po_id}")
def purchase_order(
    request: Request,
    tenant_id: str,
    po_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: str | None = None,
) -> Response:
    ids = ids_in_view(viewer, tenant_id, po_id)
    if ids is None:
        return not_found(portal.pages, request, viewer, "purchase order")
    tenant, po = ids
    return _po_page(request, viewer, portal.pages, tenant, po, done=done)


@router.post("/{tenant_id}/purchase-orders/{po_id}/{step}")
def purchase_order_step(
    request: Request,
    tenant_id: str,
    po_id: str,
    step: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """``send`` a draft, or ``receive`` the units typed per line."""
    ids = ids_in_view(viewer, tenant_id, po_id)
    if ids is None or step not in ("send", "receive"):
        return not_found(portal.pages, request, viewer, "purchase order")
    tenant, po = ids
    uow = app_state(request).uow_factory
    operator = viewer.user.role.is_operator

    def run() -> object:
        if step == "send":
            return purchasing.send_purchase_order(uow_factory=uow, tenant_id=tenant, po_id=po)
        lines = [
            ReceiptLine(name[4:], int(value))
            for name, values in form.fields.items()
            if name.startswith("qty-")
            for value in values[:1]
            if value.strip().isdigit() and int(value) > 0
        ]
        return purchasing.receive_purchase_order(
            uow_factory=uow,
            tenant_id=tenant,
            po_id=po,
            lines=lines,
            actor=viewer.actor,
            operator=operator,
        )

    return act(
        viewer,
        run,
        back=f"/app/inbound/{tenant}/purchase-orders/{po}",
        done="Sent" if step == "send" else "Received",
        again=lambda status, problem: _po_page(
            request, viewer, portal.pages, tenant, po, status=status, problem=problem
        ),
    )


# -- transfers -----------------------------------------------------------------------------


@router.get("/transfers")
def transfer_list(
    request: Request, viewer: ViewerDep, portal: PortalDep, before: str | None = None
) -> Response:
    """The transfers of the tenants in view, newest first, a page at a time."""
    uow = app_state(request).uow_factory
    return list_page(
        request,
        viewer,
        portal.pages,
        lambda tenant, before_id, limit: transfers.list_transfers(
            uow_factory=uow, tenant_id=tenant, before_id=before_id, limit=limit
        ),
        cursor="before",
        given=before,
        template="inbound_transfers.html",
        name="transfers",
    )


def _transfer_page(
    request: Request, viewer: Viewer, pages: PortalPages, tenant: UUID, t_id: UUID, **extra: Any
) -> Response:
    try:
        transfer = transfers.get_transfer(
            uow_factory=app_state(request).uow_factory, tenant_id=tenant, transfer_id=t_id
        )
    except NotFound:
        return not_found(pages, request, viewer, "transfer")
    here = f"/app/inbound/{tenant}/transfers/{transfer.id}"
    return render(pages, request, viewer, "inbound_transfer.html", t=transfer, here=here, **extra)


@router.get("/{tenant_id}/transfers/{transfer_id}")
def transfer_page(
    request: Request,
    tenant_id: str,
    transfer_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: str | None = None,
) -> Response:
    ids = ids_in_view(viewer, tenant_id, transfer_id)
    if ids is None:
        return not_found(portal.pages, request, viewer, "transfer")
    tenant, found = ids
    return _transfer_page(request, viewer, portal.pages, tenant, found, done=done)


@router.post("/{tenant_id}/transfers/{transfer_id}/{step}", dependencies=[Depends(checked_form)])
def transfer_step(
    request: Request,
    tenant_id: str,
    transfer_id: str,
    step: str,
    viewer: ViewerDep,
    portal: PortalDep,
) -> Response:
    """``ship`` a draft, or ``receive`` everything still in transit."""
    ids = ids_in_view(viewer, tenant_id, transfer_id)
    if ids is None or step not in ("ship", "receive"):
        return not_found(portal.pages, request, viewer, "transfer")
    tenant, found = ids
    uow = app_state(request).uow_factory
    operator = viewer.user.role.is_operator

    def run() -> object:
        if step == "ship":
            return transfers.ship_transfer(
                uow_factory=uow,
                tenant_id=tenant,
                transfer_id=found,
                actor=viewer.actor,
                operator=operator,
            )
        current = transfers.get_transfer(uow_factory=uow, tenant_id=tenant, transfer_id=found)
        return transfers.receive_transfer(
            uow_factory=uow,
            tenant_id=tenant,
            transfer_id=found,
            lines=[(ln.sku, ln.in_transit) for ln in current.lines if ln.in_transit > 0],
            actor=viewer.actor,
            operator=operator,
        )

    return act(
        viewer,
        run,
        back=f"/app/inbound/{tenant}/transfers/{found}",
        done="Shipped" if step == "ship" else "Received",
        again=lambda status, problem: _transfer_page(
            request, viewer, portal.pages, tenant, found, status=status, problem=problem
        ),
    )


# -- cycle counts --------------------------------------------------------------------------


@router.get("/counts")
def count_list(
    request: Request, viewer: ViewerDep, portal: PortalDep, before: str | None = None
) -> Response:
    """The count sheets of the tenants in view, newest first, a page at a time."""
    uow = app_state(request).uow_factory
    return list_page(
        request,
        viewer,
        portal.pages,
        lambda tenant, before_id, limit: cycle_counts.list_counts(
            uow_factory=uow, tenant_id=tenant, before_id=before_id, limit=limit
        ),
        cursor="before",
        given=before,
        template="inbound_counts.html",
        name="sheets",
    )


def _count_page(
    request: Request, viewer: Viewer, pages: PortalPages, tenant: UUID, s_id: UUID, **extra: Any
) -> Response:
    try:
        sheet, lines = cycle_counts.review_count(
            uow_factory=app_state(request).uow_factory, tenant_id=tenant, sheet_id=s_id
        )
    except NotFound:
        return not_found(pages, request, viewer, "count sheet")
    here = f"/app/inbound/{tenant}/counts/{sheet.id}"
    return render(
        pages, request, viewer, "inbound_count.html", sheet=sheet, lines=lines, here=here, **extra
    )


@router.get("/{tenant_id}/counts/{sheet_id}")
def count_page(
    request: Request,
    tenant_id: str,
    sheet_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: str | None = None,
) -> Response:
    ids = ids_in_view(viewer, tenant_id, sheet_id)
    if ids is None:
        return not_found(portal.pages, request, viewer, "count sheet")
    tenant, found = ids
    return _count_page(request, viewer, portal.pages, tenant, found, done=done)


@router.post("/{tenant_id}/counts/{sheet_id}/{step}")
def count_step(
    request: Request,
    tenant_id: str,
    sheet_id: str,
    step: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """``count`` the figures typed per line (blank: not counted yet), or ``approve``."""
    ids = ids_in_view(viewer, tenant_id, sheet_id)
    if ids is None or step not in ("count", "approve"):
        return not_found(portal.pages, request, viewer, "count sheet")
    tenant, found = ids
    uow = app_state(request).uow_factory
    operator = viewer.user.role.is_operator

    def run() -> object:
        if step == "approve":
            return cycle_counts.approve_count(
                uow_factory=uow,
                tenant_id=tenant,
                sheet_id=found,
                reason=form.get("reason")[:500] or "cycle count",
                actor=viewer.actor,
                operator=operator,
            )
        counts = [
            (name[8:], int(values[0]))
            for name, values in form.fields.items()
            if name.startswith("counted-") and values and values[0].strip().isdigit()
        ]
        return cycle_counts.record_counts(
            uow_factory=uow, tenant_id=tenant, sheet_id=found, counts=counts, operator=operator
        )

    return act(
        viewer,
        run,
        back=f"/app/inbound/{tenant}/counts/{found}",
        done="Approved" if step == "approve" else "Counted",
        again=lambda status, problem: _count_page(
            request, viewer, portal.pages, tenant, found, status=status, problem=problem
        ),
    )
