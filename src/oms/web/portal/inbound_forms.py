"""The portal's inbound forms (docs/portal.md, "Inbound"): announce an inbound shipment and
draft a purchase order, for the merchant in view (a merchant's own users; the operator's
staff once a merchant is picked in the switcher).

Lines are typed or pasted one per row, ``SKU, quantity`` (and ``, unit cost`` for a purchase
order), separated by commas, semicolons or tabs, as a spreadsheet copies them. Each form
calls the use case the API calls (``POST /v1/inbound-shipments``, ``POST
/v1/purchase-orders``), so its rules and refusals are the API's; a refusal is shown on the
form with what was typed kept, each problem named by its row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import OmsError
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue, inbound, purchasing
from oms.services.inbound import ShipmentAnnouncement
from oms.services.purchasing import PoLineInput, PurchaseOrderCreate
from oms.web.portal.auth import CheckedForm, PortalDep, Viewer, ViewerDep, actor_may_act, app_state
from oms.web.portal.inbound_pages import render
from oms.web.portal.rendering import parse_uuid, refusal

__all__ = ["parse_lines", "router"]

router = APIRouter(prefix="/app/inbound", include_in_schema=False)

MAX_LINES = 1_000
MAX_QUANTITY = 1_000_000
_SEPARATOR = re.compile(r"\s*[,;\t]\s*")
_ROW = re.compile(r"#/lines/(\d+)/?")


@dataclass(frozen=True)
class TypedLines:
    rows: list[tuple[str, int, Decimal | None]]  # (sku, quantity, unit cost or None)
    problems: list[str]


def parse_lines(text: str, *, with_cost: bool) -> TypedLines:
    """The rows of a lines box: ``SKU, quantity[, unit cost]`` each, blank rows skipped;
    every row's problem in words, by its row number (1 is the first row typed)."""
    rows: list[tuple[str, int, Decimal | None]] = []
    problems: list[str] = []
    wanted = 3 if with_cost else 2
    shape = "SKU, quantity, unit cost" if with_cost else "SKU, quantity"
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        cells = _SEPARATOR.split(raw.strip())
        if len(cells) != wanted or not cells[0]:
            problems.append(f"Row {n}: write {shape}")
            continue
        quantity = int(cells[1]) if cells[1].isdigit() else 0
        if not 0 < quantity <= MAX_QUANTITY:
            problems.append(f"Row {n}: the quantity must be a whole number from 1 to 1,000,000")
            continue
        cost = None
        if with_cost:
            try:
                cost = Decimal(cells[2])
            except InvalidOperation:
                cost = None
            if cost is None or not cost.is_finite() or cost < 0:
                problems.append(f"Row {n}: the unit cost must be an amount like 2.50")
                continue
        rows.append((cells[0], quantity, cost))
    if not rows and not problems:
        problems.append(f"Type at least one row: {shape}")
    if len(rows) > MAX_LINES:
        problems.append(f"At most {MAX_LINES:,} rows at a time")
    return TypedLines(rows, problems)


def _by_row(error: OmsError, rows: list[int]) -> str:
    """A use case's refusal with the API's ``#/lines/<i>`` pointers said as typed rows."""
    _, sentence = refusal(error)
    return _ROW.sub(
        lambda m: f"row {rows[int(m.group(1))]}: " if int(m.group(1)) < len(rows) else "", sentence
    )


def _typed_rows(text: str) -> list[int]:
    """The row number of each non-blank row (the use case counts lines from 0)."""
    return [n for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]


def _locations(request: Request, viewer: Viewer, tenant: UUID) -> list[str]:
    """The codes of the locations the merchant may use: its own and those granted to it."""
    principal = Principal(key_id=viewer.user.id, scope=ApiKeyScope.TENANT, tenant_id=tenant)
    found = catalogue.list_locations(
        uow_factory=app_state(request).uow_factory, principal=principal, after_code=None, limit=500
    )
    return [location.code for location in found]


def _form(request: Request, viewer: Viewer, portal: Any, template: str, **context: Any) -> Response:
    tenant = viewer.tenant_id
    if tenant is None:
        return render(portal.pages, request, viewer, template, pick_first=True, **context)
    return render(
        portal.pages,
        request,
        viewer,
        template,
        locations=_locations(request, viewer, tenant),
        **context,
    )


# -- inbound shipments ---------------------------------------------------------------------


@router.get("/shipments/new")
def new_shipment(request: Request, viewer: ViewerDep, portal: PortalDep) -> Response:
    """The form that announces stock on its way to a location the merchant may use."""
    return _form(request, viewer, portal, "inbound_new_shipment.html", asked={})


@router.post("/shipments/new")
def announce(request: Request, viewer: ViewerDep, portal: PortalDep, form: CheckedForm) -> Response:
    actor_may_act(viewer)
    asked = {k: form.get(k) for k in ("location", "reference", "tracking", "lines")}
    tenant = viewer.tenant_id
    typed = parse_lines(asked["lines"], with_cost=False)
    problem = "; ".join(typed.problems)
    if not problem and not asked["reference"].strip():
        problem = "Give the shipment a reference (the merchant's ASN number)"
    if tenant is not None and not problem:
        try:
            made = inbound.announce_shipment(
                uow_factory=app_state(request).uow_factory,
                tenant_id=tenant,
                command=ShipmentAnnouncement(
                    location=asked["location"],
                    reference=asked["reference"].strip()[:200],
                    lines=[(sku, quantity) for sku, quantity, _ in typed.rows],
                    tracking=asked["tracking"].strip()[:200] or None,
                ),
                actor=viewer.actor,
            )
        except OmsError as refused:
            problem = _by_row(refused, _typed_rows(asked["lines"]))
        else:
            url = f"/app/inbound/{tenant}/shipments/{made.id}"
            return RedirectResponse(url, 303)
    return _form(
        request,
        viewer,
        portal,
        "inbound_new_shipment.html",
        asked=asked,
        problem=problem,
        status=422,
    )


# -- purchase orders -----------------------------------------------------------------------


def _suppliers(request: Request, tenant: UUID | None) -> list[Any]:
    if tenant is None:
        return []
    return purchasing.list_suppliers(
        uow_factory=app_state(request).uow_factory, tenant_id=tenant, after_id=None, limit=500
    )


@router.get("/purchase-orders/new")
def new_purchase_order(request: Request, viewer: ViewerDep, portal: PortalDep) -> Response:
    """The form that drafts a purchase order to one of the merchant's suppliers."""
    return _form(
        request,
        viewer,
        portal,
        "inbound_new_po.html",
        asked={},
        suppliers=_suppliers(request, viewer.tenant_id),
    )


@router.post("/purchase-orders/new")
def draft_purchase_order(
    request: Request, viewer: ViewerDep, portal: PortalDep, form: CheckedForm
) -> Response:
    actor_may_act(viewer)
    asked = {k: form.get(k) for k in ("supplier", "location", "expected_at", "lines")}
    tenant = viewer.tenant_id
    typed = parse_lines(asked["lines"], with_cost=True)
    problems = list(typed.problems)
    supplier = parse_uuid(asked["supplier"])
    if supplier is None:
        problems.append("Pick a supplier")
    try:
        expected = date.fromisoformat(asked["expected_at"])
    except ValueError:
        problems.append("Give the expected date as YYYY-MM-DD")
    problem = "; ".join(problems)
    if tenant is not None and supplier is not None and not problem:
        try:
            made = purchasing.create_purchase_order(
                uow_factory=app_state(request).uow_factory,
                tenant_id=tenant,
                command=PurchaseOrderCreate(
                    supplier_id=supplier,
                    location=asked["location"],
                    expected_at=expected,
                    lines=[
                        PoLineInput(sku=sku, quantity=quantity, unit_cost=cost or Decimal(0))
                        for sku, quantity, cost in typed.rows
                    ],
                ),
                actor=viewer.actor,
            )
        except OmsError as refused:
            problem = _by_row(refused, _typed_rows(asked["lines"]))
        else:
            url = f"/app/inbound/{tenant}/purchase-orders/{made.id}?done=Drafted"
            return RedirectResponse(url, 303)
    return _form(
        request,
        viewer,
        portal,
        "inbound_new_po.html",
        asked=asked,
        suppliers=_suppliers(request, tenant),
        problem=problem,
        status=422,
    )
